import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ParseLimits, parseMessage, UnparseableMessage } from '../../src/handler/parse.js';
import {
  bWord,
  bWordOfBytes,
  crlf,
  encode,
  iso2022jp,
  message,
  rawHeader,
} from './message-bytes.js';

const LIMITS: ParseLimits = { maxAttachmentBytes: 1000, maxAttachmentBytesPerMessage: 2500 };

const BASE = [
  'From: Taro Yamada <Taro.Yamada@Example.JP>',
  'To: support@outlink.example',
  'Date: Fri, 04 Dec 2026 10:00:00 +0900',
  'Message-ID: <20261204100000.ABC123@example.jp>',
  'MIME-Version: 1.0',
];

describe('parseMessage: Japanese charsets', () => {
  it('reads an ISO-2022-JP message as Japanese clients send it (7bit body, B-encoded subject)', async () => {
    const subject = 'ログインできません';
    const body = '山田です。\r\nお世話になっております。\r\nログイン画面でエラー①が出ます。\r\n';
    const raw = message(
      [
        `From: ${bWord('山田 太郎', 'ISO-2022-JP')} <taro@example.jp>`,
        'To: support@outlink.example',
        `Subject: ${bWord(subject, 'ISO-2022-JP')}`,
        'Date: Fri, 04 Dec 2026 10:00:00 +0900',
        'Message-Id: <20261204100000.1234.taro@example.jp>',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=ISO-2022-JP',
        'Content-Transfer-Encoding: 7bit',
        'X-Mailer: Becky! ver. 2.81.04 [ja]',
      ],
      iso2022jp(body),
    );
    assert.ok(
      raw.every((byte) => byte < 0x80),
      'the test message is 7-bit, as ISO-2022-JP is',
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.subject, subject);
    assert.deepEqual(parsed.from, { address: 'taro@example.jp', name: '山田 太郎' });
    assert.equal(
      parsed.text,
      'お世話になっております。\nログイン画面でエラー①が出ます。\n'.replace(/^/, '山田です。\n'),
    );
    assert.equal(parsed.contentType, 'text/plain');
  });

  for (const label of ['Shift_JIS', 'cp932', 'windows-31j', 'x-sjis']) {
    it(`decodes a body labelled ${label}, CP932-only characters (①, ㈱, ～) included`, async () => {
      const body = '①株式会社ではなく㈱と書きます～髙橋\r\n';
      const raw = message(
        [
          ...BASE,
          `Subject: ${bWord('見積①の件', 'Shift_JIS')}`,
          `Content-Type: text/plain; charset=${label}`,
          'Content-Transfer-Encoding: 8bit',
        ],
        encode(body, 'cp932'),
      );
      const parsed = await parseMessage(raw, LIMITS);
      assert.equal(parsed.text, '①株式会社ではなく㈱と書きます～髙橋\n');
      assert.equal(parsed.subject, '見積①の件');
    });
  }

  it('decodes EUC-JP subject and body', async () => {
    const raw = message(
      [
        ...BASE,
        `Subject: ${bWord('請求書の送付について', 'EUC-JP')}`,
        'Content-Type: text/plain; charset=EUC-JP',
        'Content-Transfer-Encoding: 8bit',
      ],
      encode('いつもお世話になっております。\r\n請求書を添付します。\r\n', 'euc-jp'),
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.subject, '請求書の送付について');
    assert.equal(parsed.text, 'いつもお世話になっております。\n請求書を添付します。\n');
  });

  it('joins an encoded word split in the middle of a UTF-8 character', async () => {
    const bytes = Buffer.from('日本語の件名', 'utf8');
    // cut after the second byte of 日 (3 bytes in UTF-8)
    const subject = `${bWordOfBytes(bytes.subarray(0, 2), 'UTF-8')}\r\n ${bWordOfBytes(bytes.subarray(2), 'UTF-8')}`;
    const parsed = await parseMessage(message([...BASE, `Subject: ${subject}`], 'x'), LIMITS);
    assert.equal(parsed.subject, '日本語の件名');
  });

  it('joins an encoded word split in the middle of a Shift_JIS character', async () => {
    const bytes = encode('テスト送信', 'Shift_JIS');
    const subject = `${bWordOfBytes(bytes.subarray(0, 3), 'Shift_JIS')} ${bWordOfBytes(bytes.subarray(3), 'Shift_JIS')}`;
    const parsed = await parseMessage(message([...BASE, `Subject: ${subject}`], 'x'), LIMITS);
    assert.equal(parsed.subject, 'テスト送信');
  });
});

describe('parseMessage: raw 8-bit headers', () => {
  it('repairs a raw Shift_JIS Subject and From name (no encoded words at all)', async () => {
    const raw = message(
      [
        Buffer.concat([
          rawHeader('From', encode('鈴木花子', 'Shift_JIS')),
          Buffer.from(' <hanako@docomo.ne.jp>'),
        ]),
        'To: support@outlink.example',
        rawHeader('Subject', encode('至急：印刷できません', 'Shift_JIS')),
        'Content-Type: text/plain; charset=Shift_JIS',
        'Content-Transfer-Encoding: 8bit',
      ],
      encode('よろしくお願いします。\r\n', 'Shift_JIS'),
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.subject, '至急：印刷できません');
    assert.deepEqual(parsed.from, { address: 'hanako@docomo.ne.jp', name: '鈴木花子' });
    assert.equal(parsed.text, 'よろしくお願いします。\n');
    assert.equal(parsed.header('subject'), '至急：印刷できません');
  });

  it('repairs a raw Shift_JIS Subject even when the body declares ISO-2022-JP', async () => {
    const raw = message(
      [
        ...BASE,
        rawHeader('Subject', encode('会議室の予約', 'Shift_JIS')),
        'Content-Type: text/plain; charset=ISO-2022-JP',
      ],
      iso2022jp('本文です。\r\n'),
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.subject, '会議室の予約');
    assert.equal(parsed.text, '本文です。\n');
  });

  it('repairs a raw EUC-JP Subject by the charset the body declares', async () => {
    const raw = message(
      [
        ...BASE,
        rawHeader('Subject', encode('パスワード再発行', 'euc-jp')),
        'Content-Type: text/plain; charset=EUC-JP',
      ],
      encode('本文\r\n', 'euc-jp'),
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.subject, 'パスワード再発行');
  });

  it('repairs a raw EUC-JP Subject with no declared charset by Japanese detection', async () => {
    const raw = message(
      [...BASE, rawHeader('Subject', encode('パスワード再発行のお願い', 'euc-jp'))],
      'plain ascii body',
    );
    assert.equal((await parseMessage(raw, LIMITS)).subject, 'パスワード再発行のお願い');
  });

  it('repairs raw ISO-2022-JP escape sequences in a Subject', async () => {
    const raw = message([...BASE, rawHeader('Subject', iso2022jp('障害報告 No.5'))], 'x');
    assert.equal((await parseMessage(raw, LIMITS)).subject, '障害報告 No.5');
  });

  it('keeps a raw UTF-8 Subject (RFC 6532) as it is', async () => {
    const raw = message(
      [...BASE, 'Subject: Überweisung – 請求書', 'Content-Type: text/plain; charset=Shift_JIS'],
      'x',
    );
    assert.equal((await parseMessage(raw, LIMITS)).subject, 'Überweisung – 請求書');
  });

  it('reads a raw Latin-1 Subject by the ISO-8859-1 charset the body declares', async () => {
    const raw = message(
      [
        ...BASE,
        rawHeader('Subject', encode('Réunion à Zürich', 'latin1')),
        'Content-Type: text/plain; charset=ISO-8859-1',
      ],
      encode('Grüße\r\n', 'latin1'),
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.subject, 'Réunion à Zürich');
    assert.equal(parsed.text, 'Grüße\n');
  });
  it('repairs a raw Shift_JIS attachment filename in a part header, and leaves bodies alone', async () => {
    const raw = message(
      [...BASE, 'Subject: files', 'Content-Type: multipart/mixed; boundary="sj"'],
      Buffer.concat([
        Buffer.from(
          '--sj\r\nContent-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n',
        ),
        // a signature line in the body starts with "--" too: it must not be taken for a part
        encode('見積書を送ります。\r\n-- \r\n営業部 佐藤\r\n\r\n', 'Shift_JIS'),
        Buffer.from('--sj\r\nContent-Type: application/pdf;\r\n name="'),
        encode('見積書①.pdf', 'cp932'),
        Buffer.from('"\r\nContent-Disposition: attachment; filename="'),
        encode('見積書①.pdf', 'cp932'),
        Buffer.from('"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--sj--\r\n'),
      ]),
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.deepEqual(
      parsed.attachments.map((a) => [a.filename, a.contentType]),
      [['見積書①.pdf', 'application/pdf']],
    );
    assert.equal(parsed.text, '見積書を送ります。\n-- \n営業部 佐藤\n');
  });
});

describe('parseMessage: other charsets', () => {
  it('decodes ISO-8859-1 quoted-printable', async () => {
    const raw = message(
      [
        ...BASE,
        'Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=',
        'Content-Type: text/plain; charset=ISO-8859-1',
        'Content-Transfer-Encoding: quoted-printable',
      ],
      'D=E9j=E0 vu, na=EFve fa=E7ade.\r\n',
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.subject, 'Café crème');
    assert.equal(parsed.text, 'Déjà vu, naïve façade.\n');
  });

  it('decodes ISO-8859-15 (the euro sign is 0xA4 there, not ¤)', async () => {
    const raw = message(
      [
        ...BASE,
        'Subject: prix',
        'Content-Type: text/plain; charset=iso-8859-15',
        'Content-Transfer-Encoding: 8bit',
      ],
      encode('Prix : 20 € — œuvre\r\n'.replace('—', '-'), 'iso-8859-15'),
    );
    assert.equal((await parseMessage(raw, LIMITS)).text, 'Prix : 20 € - œuvre\n');
  });

  it('decodes Windows-1252 smart quotes and the euro sign', async () => {
    const body = encode('“Quoted” ‘text’ costs €5 … done\r\n', 'windows-1252');
    assert.deepEqual([...body.subarray(0, 1)], [0x93]);
    const raw = message(
      [
        ...BASE,
        'Subject: q',
        'Content-Type: text/plain; charset=windows-1252',
        'Content-Transfer-Encoding: 8bit',
      ],
      body,
    );
    assert.equal((await parseMessage(raw, LIMITS)).text, '“Quoted” ‘text’ costs €5 … done\n');
  });

  it('decodes Windows-1251 Cyrillic body and subject', async () => {
    const raw = message(
      [
        ...BASE,
        `Subject: ${bWord('Привет, мир', 'windows-1251')}`,
        'Content-Type: text/plain; charset=windows-1251',
        'Content-Transfer-Encoding: 8bit',
      ],
      encode('Здравствуйте!\r\n', 'windows-1251'),
    );
    const parsed = await parseMessage(raw, LIMITS);
    assert.equal(parsed.subject, 'Привет, мир');
    assert.equal(parsed.text, 'Здравствуйте!\n');
  });
});

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
