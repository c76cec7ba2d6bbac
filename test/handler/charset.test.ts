import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  declaredCharsets,
  decodeRawHeaderBytes,
  decoderLabel,
  repairRawHeaders,
} from '../../src/handler/charset.js';
import { encode, iso2022jp } from './message-bytes.js';

describe('decoderLabel', () => {
  it('maps every Microsoft and legacy name of Shift_JIS to the CP932 decoder', () => {
    for (const name of [
      'Shift_JIS',
      'shift-jis',
      'SJIS',
      'x-sjis',
      'cp932',
      'MS932',
      'Windows-31J',
      '"shift_jis"',
    ]) {
      assert.equal(decoderLabel(name), 'shift_jis', name);
    }
  });

  it('maps EUC-JP and ISO-2022-JP variants, and WHATWG labels as the standard says', () => {
    assert.equal(decoderLabel('x-euc-jp'), 'euc-jp');
    assert.equal(decoderLabel('ISO-2022-JP-2'), 'iso-2022-jp');
    assert.equal(decoderLabel('iso-8859-1'), 'windows-1252');
    assert.equal(decoderLabel('ISO-8859-15'), 'iso-8859-15');
    assert.equal(decoderLabel('windows-1251'), 'windows-1251');
  });

  it('gives null for a name no decoder has', () => {
    assert.equal(decoderLabel('x-unknown-charset'), null);
    assert.equal(decoderLabel(''), null);
  });
});

describe('decodeRawHeaderBytes', () => {
  it('reads strict UTF-8 first', () => {
    assert.equal(
      decodeRawHeaderBytes(Buffer.from('件名 Größe', 'utf8'), ['shift_jis']),
      '件名 Größe',
    );
  });

  it('reads ISO-2022-JP by its escape sequences', () => {
    assert.equal(decodeRawHeaderBytes(iso2022jp('Subject: 至急①'), []), 'Subject: 至急①');
  });

  it('tries the declared charsets before guessing', () => {
    const latin = encode('Café', 'latin1');
    assert.equal(decodeRawHeaderBytes(latin, ['iso-8859-1']), 'Café');
    const cyrillic = encode('Отчёт', 'windows-1251');
    assert.equal(decodeRawHeaderBytes(cyrillic, ['windows-1251']), 'Отчёт');
    // single-byte charsets accept any byte, so the first declared one wins
    assert.equal(
      decodeRawHeaderBytes(cyrillic, ['koi8-r', 'windows-1251']),
      new TextDecoder('koi8-r').decode(cyrillic),
    );
  });

  it('skips a declared charset the bytes are not valid in', () => {
    // Shift_JIS bytes are invalid ISO-2022-JP (8-bit) and invalid UTF-8
    assert.equal(
      decodeRawHeaderBytes(encode('会議室の予約', 'Shift_JIS'), ['iso-2022-jp', 'utf-8']),
      '会議室の予約',
    );
  });

  it('tells Shift_JIS (CP932) from EUC-JP without a declared charset', () => {
    for (const text of ['見積依頼', 'パスワード再発行', '㈱サンプル ①番', 'お問い合わせ（至急）']) {
      assert.equal(decodeRawHeaderBytes(encode(text, 'cp932'), []), text, `Shift_JIS ${text}`);
    }
    for (const text of ['見積依頼', 'パスワード再発行', 'お問い合わせ（至急）']) {
      assert.equal(decodeRawHeaderBytes(encode(text, 'euc-jp'), []), text, `EUC-JP ${text}`);
    }
  });

  it('falls back to Windows-1252 for Latin text that is no Japanese', () => {
    assert.equal(
      decodeRawHeaderBytes(encode('Grüße aus Köln', 'windows-1252'), []),
      'Grüße aus Köln',
    );
    assert.equal(
      decodeRawHeaderBytes(encode('“Smart” quotes', 'windows-1252'), []),
      '“Smart” quotes',
    );
  });
});

describe('declaredCharsets', () => {
  it('lists declared charsets in order, once, without US-ASCII and UTF-8', () => {
    const raw = Buffer.from(
      'Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain; charset="ISO-2022-JP"\r\n\r\n' +
        '--x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<meta charset=Shift_JIS>\r\n--x\r\nContent-Type: text/plain; charset=us-ascii\r\n' +
        'Content-Type: text/plain; charset=iso-2022-jp\r\n',
    );
    assert.deepEqual(declaredCharsets(raw), ['iso-2022-jp', 'shift_jis']);
  });
});

describe('repairRawHeaders', () => {
  it('returns the very same buffer when nothing needs repair', () => {
    const ascii = Buffer.from('Subject: hello\r\n\r\nbody with 8-bit \xe9 bytes', 'latin1');
    assert.equal(repairRawHeaders(ascii, []), ascii);
    const utf8 = Buffer.from('Subject: こんにちは\r\n\r\nbody', 'utf8');
    assert.equal(repairRawHeaders(utf8, []), utf8);
  });

  it('rewrites a raw header as UTF-8 and keeps every other byte', () => {
    const body = encode('本文\r\n', 'Shift_JIS');
    const raw = Buffer.concat([
      Buffer.from('From: a@example.com\r\nSubject: '),
      encode('至急', 'Shift_JIS'),
      Buffer.from('\r\n folded\r\nX-Other: plain\r\n\r\n'),
      body,
    ]);
    const repaired = repairRawHeaders(raw, ['shift_jis']);
    assert.equal(
      repaired.toString('latin1'),
      Buffer.concat([
        Buffer.from(
          'From: a@example.com\r\nSubject: 至急\r\n folded\r\nX-Other: plain\r\n\r\n',
          'utf8',
        ),
        body,
      ]).toString('latin1'),
    );
  });
});
