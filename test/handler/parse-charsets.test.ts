/**
 * parseMessage and the charsets real mail comes in: Japanese (ISO-2022-JP, Shift_JIS/CP932,
 * EUC-JP), broken headers seen in the wild (raw 8-bit bytes, encoded words split inside a
 * character), and the European single-byte charsets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ParseLimits, parseMessage } from '../../src/handler/parse.js';
import { bWord, bWordOfBytes, encode, iso2022jp, message, rawHeader } from './message-bytes.js';

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
