import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentDisposition } from '../../src/presenters/issues.js';

/**
 * The download name of an attachment (RFC 6266 §4.3, RFC 8187): an ASCII fallback a browser
 * cannot misread, the UTF-8 name beside it, and nothing of the sender's name that could
 * break out of the header or disguise the file.
 */
describe('contentDisposition', () => {
  const parts = (header: string) => {
    const m =
      /^attachment; filename="([^"]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]*)$/.exec(
        header,
      );
    assert.ok(m, header);
    return { fallback: m[1], name: decodeURIComponent(m[2] ?? '') };
  };

  it('keeps a plain name as it is', () => {
    assert.equal(
      contentDisposition('report-2026_03.pdf'),
      `attachment; filename="report-2026_03.pdf"; filename*=UTF-8''report-2026_03.pdf`,
    );
  });

  it('gives a non-ASCII name an ASCII fallback and its UTF-8 encoding', () => {
    assert.equal(
      contentDisposition('見積書 (最終).xlsx'),
      `attachment; filename="___ (__).xlsx"; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8%20%28%E6%9C%80%E7%B5%82%29.xlsx`,
    );
    assert.deepEqual(parts(contentDisposition('😀.png')), { fallback: '_.png', name: '😀.png' });
  });

  it('replaces what would end the quoted string, escape, or be decoded, in the fallback', () => {
    const header = contentDisposition(`a"b\\c%41'd*(e).txt`);
    assert.deepEqual(parts(header), { fallback: `a_b_c_41'd*(e).txt`, name: `a"b_c%41'd*(e).txt` });
    assert.match(header, /filename\*=UTF-8''a%22b_c%2541%27d%2A%28e%29\.txt$/);
  });

  it('drops control and format characters: no header injection, no right-to-left disguise', () => {
    assert.deepEqual(parts(contentDisposition('a\r\nSet-Cookie: x=1.txt')), {
      fallback: 'aSet-Cookie: x=1.txt',
      name: 'aSet-Cookie: x=1.txt',
    });
    // U+202E would show "invoice‮fdp.exe" as "invoiceexe.pdf".
    assert.deepEqual(parts(contentDisposition('invoice\u202Efdp.exe')), {
      fallback: 'invoicefdp.exe',
      name: 'invoicefdp.exe',
    });
    assert.deepEqual(parts(contentDisposition('a\u2028b\u0000.txt')), {
      fallback: 'ab.txt',
      name: 'ab.txt',
    });
  });

  it('makes path separators plain characters and names an empty or dot name "attachment"', () => {
    assert.deepEqual(parts(contentDisposition('../../etc/passwd')), {
      fallback: '.._.._etc_passwd',
      name: '.._.._etc_passwd',
    });
    for (const name of ['', '   ', '.', '..', '\u202E']) {
      assert.deepEqual(parts(contentDisposition(name)), {
        fallback: 'attachment',
        name: 'attachment',
      });
    }
  });

  it('encodes a lone surrogate as U+FFFD rather than failing', () => {
    assert.deepEqual(parts(contentDisposition('a\uD800b.txt')), {
      fallback: 'a_b.txt',
      name: 'a\uFFFDb.txt',
    });
  });

  it('shortens a very long name to 200 characters, keeping its extension', () => {
    const { name, fallback } = parts(contentDisposition(`${'あ'.repeat(500)}.pdf`));
    assert.equal([...name].length, 200);
    assert.ok(name.endsWith('あ.pdf'));
    assert.equal(fallback, `${'_'.repeat(196)}.pdf`);
  });
});
