/**
 * Broken MIME that a tolerant reader still reads, each breakage in turn: a missing close
 * delimiter, base64 without padding, an unknown or misspelt charset, stray `=` in
 * quoted-printable, no MIME-Version, no charset on 8-bit text, bare LF line ends, a header
 * line past 998 characters, no Date. Every one of them must still become an issue.
 */
import { Buffer } from 'node:buffer';
import { fileContent } from './corpus-attachments.js';
import { boundaryFor, envelope } from './corpus-envelope.js';
import { basics, issueProduced } from './corpus-issues.js';
import type { Ctx, Produced, Recipe } from './corpus-model.js';
import type { Lang } from './corpus-people.js';
import {
  attachmentPart,
  buildMessage,
  CRLF,
  type Entity,
  type HeaderField,
  multipart,
  textPart,
} from './mime.js';

/** How a readable message is broken. */
type Breakage =
  | 'missing-close-delimiter'
  | 'bad-base64-padding'
  | 'unknown-charset'
  | 'bad-quoted-printable'
  | 'no-mime-version'
  | 'no-charset-8bit'
  | 'lf-line-endings'
  | 'mbox-from-line'
  | 'long-header-line'
  | 'no-date'
  | 'charset-alias';

const BREAKAGES: readonly Breakage[] = [
  'missing-close-delimiter',
  'bad-base64-padding',
  'unknown-charset',
  'bad-quoted-printable',
  'no-mime-version',
  'no-charset-8bit',
  'lf-line-endings',
  'mbox-from-line',
  'long-header-line',
  'no-date',
  'charset-alias',
];

/** Broken MIME that a tolerant reader still reads: each kind in turn. */
export const brokenIssue: Recipe = (ctx) => {
  const breakage =
    BREAKAGES[
      ctx.messages.filter((m) => m.label.startsWith('issue broken')).length % BREAKAGES.length
    ]!;
  return broken(ctx, breakage);
};

function broken(ctx: Ctx, breakage: Breakage): Produced {
  const { random } = ctx;
  const lang: Lang =
    breakage === 'unknown-charset' || breakage === 'bad-quoted-printable'
      ? 'en'
      : random.pick(['en', 'ja'] as const);
  const [charset, alias] =
    breakage === 'charset-alias'
      ? random.pick(
          lang === 'ja'
            ? ([
                ['Shift_JIS', 'sjis'],
                ['Shift_JIS', 'x-sjis'],
                ['EUC-JP', 'x-euc-jp'],
                ['UTF-8', 'utf8'],
              ] as const)
            : ([['UTF-8', 'utf8']] as const),
        )
      : ['UTF-8', 'UTF-8'];
  const b = basics(ctx, lang, { charset });
  const { person, text } = b;
  const messageId = ctx.messageId(person);
  let includes = b.written.includes;
  let attachments: string[] = [];
  let entity: Entity;
  let extra: HeaderField[] = [];
  let label: string = breakage;
  switch (breakage) {
    case 'missing-close-delimiter': {
      const filename = lang === 'ja' ? '資料.pdf' : 'details.pdf';
      attachments = [filename];
      entity = multipart(
        'mixed',
        [
          textPart({ text, charset: 'UTF-8', transferEncoding: 'base64' }),
          attachmentPart({
            filename,
            contentType: 'application/pdf',
            content: fileContent(random, filename, 1500),
            style: lang === 'ja' ? 'rfc2231' : 'plain',
          }),
        ],
        { boundary: boundaryFor(random, person.client), unterminated: true },
      );
      break;
    }
    case 'bad-base64-padding': {
      const part = textPart({ text: `${text}\n`, charset: 'UTF-8', transferEncoding: 'base64' });
      // padding dropped and the lines rewrapped at an odd width, as some gateways do
      const bare = part.body.toString('latin1').replace(/[=\r\n]/g, '');
      entity = {
        headers: part.headers,
        body: Buffer.from(`${bare.match(/.{1,61}/g)!.join(CRLF)}${CRLF}`, 'latin1'),
      };
      break;
    }
    case 'unknown-charset': {
      const charsetLabel = random.pick(['x-unknown', 'unknown-8bit', 'x-user-defined-charset']);
      label = `unknown-charset ${charsetLabel}`;
      entity = textPart({ text, charset: 'UTF-8', charsetLabel, transferEncoding: '8bit' });
      break;
    }
    case 'bad-quoted-printable': {
      const part = textPart({ text, charset: 'UTF-8', transferEncoding: 'quoted-printable' });
      // a stray "=" before a non-hex pair and lower-case hex, both seen from old gateways
      const bad = Buffer.from(`Discount =ZZ applies, 100=25 sure.${CRLF}`, 'latin1');
      entity = { headers: part.headers, body: Buffer.concat([bad, part.body]) };
      includes = [...includes, 'applies, 100% sure.'];
      break;
    }
    case 'no-mime-version':
    case 'no-date':
    case 'long-header-line':
    case 'lf-line-endings':
    case 'mbox-from-line':
      entity = textPart({
        text,
        charset: 'UTF-8',
        transferEncoding: random.pick(['base64', 'quoted-printable'] as const),
      });
      if (breakage === 'long-header-line') {
        extra = [
          {
            name: 'X-Tracking',
            value: random.string('abcdefghijklmnopqrstuvwxyz0123456789', 1200),
          },
        ];
      }
      break;
    case 'no-charset-8bit': {
      const part = textPart({ text, charset: 'UTF-8', transferEncoding: '8bit' });
      entity = { headers: [{ name: 'Content-Type', value: 'text/plain' }], body: part.body };
      break;
    }
    case 'charset-alias':
      label = `charset-alias ${alias}`;
      entity = textPart({ text, charset, charsetLabel: alias, transferEncoding: '8bit' });
      break;
  }
  let headers = envelope(ctx, {
    person,
    subject: b.written.subject,
    messageId,
    bodyCharset: charset,
    extra,
    noDate: breakage === 'no-date',
  });
  if (breakage === 'no-mime-version')
    headers = headers.filter((field) => field.name !== 'MIME-Version');
  let raw = buildMessage(headers, entity);
  if (breakage === 'lf-line-endings')
    raw = Buffer.from(raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
  if (breakage === 'mbox-from-line') {
    // the mbox separator an export or a local delivery agent leaves in front of the header
    const stamp = new Date(ctx.date)
      .toUTCString()
      .replace(/^(\w+), (\d+) (\w+) (\d+) (\S+) GMT$/, '$1 $3 $2 $5 $4');
    raw = Buffer.concat([Buffer.from(`From ${person.address} ${stamp}${CRLF}`), raw]);
  }
  return issueProduced(ctx, {
    person,
    subject: b.written.subject,
    summary: b.written.subject,
    raw,
    messageId,
    label: `issue broken ${label}`,
    lines: text.trimEnd().split('\n'),
    includes,
    excludes: b.excludes,
    attachments,
  });
}
