import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ParseLimits, parseMessage, UnparseableMessage } from '../../src/handler/parse.js';
import { bWord, crlf, message } from './message-bytes.js';

const LIMITS: ParseLimits = { maxAttachmentBytes: 1000, maxAttachmentBytesPerMessage: 2500 };

const BASE = [
  'From: Taro Yamada <Taro.Yamada@Example.JP>',
  'To: support@outlink.example',
  'Date: Fri, 04 Dec 2026 10:00:00 +0900',
  'Message-ID: <20261204100000.ABC123@example.jp>',
  'MIME-Version: 1.0',
];

describe('parseMessage: bodies', () => {
  it('converts an HTML-only message to readable text: blocks, entities, no script or style', async () => {
    const html = crlf(`<html><head><title>Hidden title</title><style>p { color: red }</style>
<script>alert("never")</script></head>
<body><div>Hello &amp; welcome,</div><p>Price: 5&nbsp;&euro; &lt;net&gt;</p>
<ul><li>first</li><li>second</li></ul><p>See <a href="https://example.com/help">the help page</a>.</p>
<table><tr><td>cell one</td><td>cell two</td></tr></table></body></html>`);
    const raw = message([...BASE, 'Subject: html', 'Content-Type: text/html; charset=utf-8'], html);
    const text = (await parseMessage(raw, LIMITS)).text;
    assert.match(text, /^Hello & welcome,\n\nPrice: 5\s€ <net>\n/);
    assert.match(text, / \* first\n \* second/);
    assert.match(text, /See the help page \[https:\/\/example\.com\/help\]\./);
    assert.match(text, /cell one\n+cell two/);
    for (const hidden of ['alert', 'color', 'Hidden title', '<', 'script', '&amp;', '\r']) {
      if (hidden === '<')
        assert.equal(text.replace('<net>', '').includes('<'), false, 'no tags left');
      else assert.equal(text.includes(hidden), false, `no ${hidden}`);
    }
  });

  it('takes the text/plain part of multipart/alternative, not the HTML', async () => {
    const raw = message(
      [...BASE, 'Subject: alt', 'Content-Type: multipart/alternative; boundary="alt"'],
      crlf(`--alt
Content-Type: text/plain; charset=UTF-8

Plain version
--alt
Content-Type: text/html; charset=UTF-8

<p>HTML version</p>
--alt--
`),
    );
    assert.equal((await parseMessage(raw, LIMITS)).text, 'Plain version');
  });

  it('converts HTML in multipart/related (no text part) and keeps the cid: image as an attachment', async () => {
    const raw = message(
      [...BASE, 'Subject: related', 'Content-Type: multipart/related; boundary="rel"'],
      crlf(`--rel
Content-Type: text/html; charset=UTF-8

<p>Screenshot below</p><img src="cid:shot@local">
--rel
Content-Type: image/png; name="shot.png"
Content-ID: <shot@local>
Content-Transfer-Encoding: base64

iVBORw0KGgoAAAANSUhEUg==
--rel--
`),
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.text, 'Screenshot below');
    assert.deepEqual(
      parsed.attachments.map((a) => [a.filename, a.contentType, a.size]),
      [['shot.png', 'image/png', 16]],
    );
  });

  it('turns CRLF into LF and keeps a body without Content-Type as text/plain', async () => {
    const parsed = await parseMessage(message([...BASE, 'Subject: s'], 'one\r\ntwo\r\n'), LIMITS);
    assert.equal(parsed.text, 'one\ntwo\n');
    assert.equal(parsed.contentType, 'text/plain');
  });

  it('keeps a forwarded message/rfc822 part whole as an .eml attachment, outside the text', async () => {
    const inner = crlf(`From: Original Sender <orig@example.org>
Subject: The original
Message-ID: <inner@example.org>

Original body text
`);
    const raw = message(
      [...BASE, 'Subject: Fwd: The original', 'Content-Type: multipart/mixed; boundary="mix"'],
      crlf(`--mix
Content-Type: text/plain; charset=UTF-8

Please look at the attached message.
--mix
Content-Type: message/rfc822

${inner}
--mix--
`),
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.text, 'Please look at the attached message.');
    assert.equal(parsed.attachments.length, 1);
    const eml = parsed.attachments[0]!;
    assert.equal(eml.filename, 'attachment-1.eml');
    assert.equal(eml.contentType, 'message/rfc822');
    assert.match(
      eml.content.toString('utf8'),
      /Message-ID: <inner@example.org>\r\n\r\nOriginal body text/,
    );
    assert.equal(
      parsed.messageId,
      '20261204100000.ABC123@example.jp',
      'the outer message, not the inner',
    );
  });
});

describe('parseMessage: attachments', () => {
  const part = (headers: string, size: number, fill: string) =>
    `--mix\r\n${headers}\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.alloc(size, fill).toString('base64')}\r\n`;

  it('keeps files within the caps, drops one too large, then stops at the per-message budget', async () => {
    const body =
      '--mix\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nSee attached.\r\n' +
      part(
        'Content-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment; filename="a.pdf"',
        900,
        'a',
      ) +
      part(
        'Content-Type: application/zip\r\nContent-Disposition: attachment; filename="huge.zip"',
        1001,
        'h',
      ) +
      part(
        'Content-Type: image/jpeg\r\nContent-Disposition: attachment; filename="b.jpg"',
        1000,
        'b',
      ) +
      part(
        'Content-Type: text/csv\r\nContent-Disposition: attachment; filename="c.csv"',
        700,
        'c',
      ) +
      part(
        'Content-Type: text/plain\r\nContent-Disposition: attachment; filename="d.txt"',
        10,
        'd',
      ) +
      part(
        'Content-Type: application/zip\r\nContent-Disposition: attachment; filename="e.zip"',
        2000,
        'e',
      ) +
      '--mix--\r\n';
    const raw = message(
      [...BASE, 'Subject: files', 'Content-Type: multipart/mixed; boundary="mix"'],
      body,
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.text, 'See attached.');
    assert.deepEqual(
      parsed.attachments.map((a) => [a.filename, a.contentType, a.size]),
      [
        ['a.pdf', 'application/pdf', 900],
        ['b.jpg', 'image/jpeg', 1000],
      ],
    );
    assert.equal(parsed.attachments[0]!.content.toString(), 'a'.repeat(900));
    assert.deepEqual(parsed.droppedAttachments, [
      { filename: 'huge.zip', size: 1001, reason: 'file_too_large' },
      // 900 + 1000 + 700 > 2500: c.csv would exceed the budget, and d.txt comes after it
      { filename: 'c.csv', size: 700, reason: 'message_attachments_too_large' },
      { filename: 'd.txt', size: 10, reason: 'message_attachments_too_large' },
      { filename: 'e.zip', size: 2000, reason: 'file_too_large' },
    ]);
  });

  it('decodes RFC 2231 filenames (charset, continuations) and RFC 2047 ones', async () => {
    const body =
      part(
        "Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n filename*0*=UTF-8''%E8%A6%8B%E7%A9%8D;\r\n filename*1*=%E6%9B%B8.pdf",
        4,
        'x',
      ) +
      part(
        `Content-Type: application/vnd.ms-excel; name="${bWord('請求書.xls', 'ISO-2022-JP')}"`,
        4,
        'y',
      ) +
      part(
        "Content-Type: text/plain\r\nContent-Disposition: attachment; filename*=iso-8859-1'fr'r%E9sum%E9.txt",
        4,
        'z',
      ) +
      '--mix--\r\n';
    const raw = message(
      [...BASE, 'Subject: names', 'Content-Type: multipart/mixed; boundary="mix"'],
      body,
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.deepEqual(
      parsed.attachments.map((a) => a.filename),
      ['見積書.pdf', '請求書.xls', 'résumé.txt'],
    );
  });

  it('names a part without a filename after its content type, and strips path segments', async () => {
    const body =
      part('Content-Type: application/octet-stream', 3, 'o') +
      part('Content-Type: image/png\r\nContent-Disposition: inline', 3, 'p') +
      part(
        'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="C:\\\\fakepath\\\\..\\\\report.pdf"',
        3,
        'q',
      ) +
      part('Content-Type: text/calendar; method=REQUEST', 3, 'r') +
      '--mix--\r\n';
    const raw = message(
      [...BASE, 'Subject: unnamed', 'Content-Type: multipart/mixed; boundary="mix"'],
      body,
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.deepEqual(
      parsed.attachments.map((a) => a.filename),
      ['attachment-1.bin', 'attachment-2.png', 'report.pdf', 'attachment-4.ics'],
    );
  });
});

describe('parseMessage: header fields', () => {
  it('reads ids without brackets, several In-Reply-To and References ids in order', async () => {
    const raw = message(
      [
        'From: a@example.com',
        'Subject: Re: thread',
        'Message-ID:   <  own@example.com >  ',
        'In-Reply-To: <parent@example.com> <other@example.com>',
        'References: <root@example.com>\r\n <middle@example.com>\r\n\t<parent@example.com>',
      ],
      'x',
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.messageId, 'own@example.com');
    assert.deepEqual(parsed.inReplyTo, ['parent@example.com', 'other@example.com']);
    assert.deepEqual(parsed.references, [
      'root@example.com',
      'middle@example.com',
      'parent@example.com',
    ]);
  });

  it('gives null for a missing or empty Message-ID and no ids for missing threading headers', async () => {
    const missing = await parseMessage(message(['From: a@example.com', 'Subject: s'], 'x'), LIMITS);
    assert.equal(missing.messageId, null);
    assert.deepEqual(missing.inReplyTo, []);
    assert.deepEqual(missing.references, []);
    const empty = await parseMessage(
      message(['From: a@example.com', 'Message-ID: <>'], 'x'),
      LIMITS,
    );
    assert.equal(empty.messageId, null);
    assert.equal(empty.subject, '');
  });

  it('reads From, Reply-To, To and Cc (groups included), lower-cased', async () => {
    const raw = message(
      [
        'From: "Yamada, Taro" <Taro@Example.JP>',
        'Reply-To: Helpdesk <HELP@example.jp>',
        'To: Support <Support@Outlink.Example>, undisclosed-recipients:;',
        'Cc: Team: One <one@example.com>, two@example.com;, support@outlink.example',
        'Subject: s',
      ],
      'x',
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.deepEqual(parsed.from, { address: 'taro@example.jp', name: 'Yamada, Taro' });
    assert.deepEqual(parsed.replyTo, { address: 'help@example.jp', name: 'Helpdesk' });
    assert.deepEqual(parsed.to, ['support@outlink.example', 'one@example.com', 'two@example.com']);
  });

  it('gives null for a From without an address and for a missing Reply-To', async () => {
    const parsed = await parseMessage(message(['From: undisclosed', 'Subject: s'], 'x'), LIMITS);
    assert.equal(parsed.from, null);
    assert.equal(parsed.replyTo, null);
  });

  it('reads the Date, and null for an unreadable one', async () => {
    const good = await parseMessage(message(BASE, 'x'), LIMITS);
    assert.equal(good.date?.toISOString(), '2026-12-04T01:00:00.000Z');
    const jst = await parseMessage(
      message(['From: a@example.com', 'Date: Fri, 4 Dec 2026 10:00:00 JST'], 'x'),
      LIMITS,
    );
    assert.equal(jst.date?.toISOString(), '2026-12-04T01:00:00.000Z');
    const bad = await parseMessage(
      message(['From: a@example.com', 'Date: someday soon'], 'x'),
      LIMITS,
    );
    assert.equal(bad.date, null);
  });

  it('header(): first value, any case, unfolded, RFC 2047 decoded; undefined when absent', async () => {
    const raw = message(
      [
        'From: a@example.com',
        'X-Custom: first',
        'x-custom: second',
        `X-Label: ${bWord('重要', 'UTF-8')}`,
        'X-Folded: one\r\n two',
        'Content-Type: Multipart/Report; report-type=delivery-status; boundary="r"',
      ],
      '--r--\r\n',
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.header('X-CUSTOM'), 'first');
    assert.equal(parsed.header('x-label'), '重要');
    assert.equal(parsed.header('X-Folded'), 'one two');
    assert.equal(parsed.header('Auto-Submitted'), undefined);
    assert.equal(parsed.contentType, 'multipart/report');
  });
});

describe('parseMessage: unreadable input', () => {
  const cases: [string, Buffer][] = [
    ['an empty buffer', Buffer.alloc(0)],
    ['random binary', pseudoRandomBytes(4096)],
    ['text with no header section', Buffer.from('Hello there, this is no message\r\n\r\nbody')],
    [
      'a header section with NUL bytes',
      Buffer.from('From: a@b.c\r\nX: \u0000\u0001\r\n\r\nx', 'latin1'),
    ],
  ];
  for (const [what, raw] of cases) {
    it(`throws UnparseableMessage for ${what}`, async () => {
      await assert.rejects(parseMessage(raw, LIMITS), (error: unknown) => {
        assert.ok(error instanceof UnparseableMessage);
        assert.equal(error.code, 'unparseable');
        return true;
      });
    });
  }

  it('reads a message saved from an mbox file, its "From " separator line skipped', async () => {
    const raw = Buffer.from(
      'From taro@example.jp Fri Dec  4 10:00:00 2026\r\nFrom: taro@example.jp\r\nSubject: mbox\r\n\r\nbody',
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.subject, 'mbox');
    assert.equal(parsed.from?.address, 'taro@example.jp');
    assert.equal(parsed.text, 'body');
  });

  it('reads an odd but real message: a header line without colon, a body with no end', async () => {
    const raw = Buffer.from(
      'Subject: odd\r\nFrom: a@example.com\r\nthis line is broken\r\n\r\nbody',
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.subject, 'odd');
    assert.equal(parsed.from?.address, 'a@example.com');
  });
});

/** Deterministic bytes (a linear congruential generator), so a failure can be replayed. */
function pseudoRandomBytes(length: number): Buffer {
  const out = Buffer.alloc(length);
  let state = 0x2545f491;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}
