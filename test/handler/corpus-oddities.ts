/**
 * Recipes for new issues whose headers or text real mail gets subtly wrong, or that look like
 * something they are not: prefixed, long and hostile subjects, encoded words cut
 * mid-character, raw 8-bit headers, filter-like headers, header-like prose.
 */
import { Buffer } from 'node:buffer';
import { fileContent } from './corpus-attachments.js';
import { boundaryFor, envelope, plainPart } from './corpus-envelope.js';
import { basics, issueProduced, lc } from './corpus-issues.js';
import type { Ctx, Produced, Recipe } from './corpus-model.js';
import type { Lang } from './corpus-people.js';
import { fits } from './corpus-text.js';
import { attachmentPart, buildMessage, type HeaderTextStyle, multipart, textPart } from './mime.js';

const PREFIXES: Record<'en' | 'ja' | 'de', readonly string[]> = {
  en: ['Re: ', 'RE: ', 'Fwd: ', 'FW: ', 'Fw: ', 'Re: Re: ', 'Fwd: Re: ', 'RE: FW: ', 'RE:  '],
  ja: ['返信: ', '転送: ', 'Re: ', 'RE: 返信: ', 'Fwd: ', '転送: Re: '],
  de: ['AW: ', 'AW: AW: ', 'Re: '],
};
const FULLWIDTH_PREFIXES = ['Re：', 'RE：', '返信：', '転送：', 'Fwd：'];

/**
 * A new issue whose subject starts with reply or forward prefixes (a reply to mail the
 * tracker never saw, a forward): the summary has them stripped. `fullwidth` uses the
 * full-width colon Japanese input methods write.
 */
export function prefixedIssue(fullwidth: boolean): Recipe {
  return (ctx) => {
    const { random } = ctx;
    const lang = fullwidth ? 'ja' : random.pick(['en', 'ja', 'de'] as const);
    const prefix = random.pick(fullwidth ? FULLWIDTH_PREFIXES : PREFIXES[lang]);
    const label = fullwidth
      ? `issue prefixed-fullwidth ${prefix}`
      : `issue prefixed ${prefix.trim()}`;
    return subjectIssue(ctx, lang, label, (subject) => `${prefix}${subject}`);
  };
}

/** A subject long enough to be folded over several lines (ASCII) or many encoded words. */
export const longSubjectIssue: Recipe = (ctx) => {
  const { random } = ctx;
  const lang = random.pick(['en', 'ja'] as const);
  const tail =
    lang === 'en'
      ? ' - urgent, affects all users in the Osaka and Nagoya offices since the last maintenance window'
      : '（至急）大阪および名古屋の全拠点で前回のメンテナンス以降に発生している件について';
  return subjectIssue(
    ctx,
    lang,
    `issue long-subject ${lang === 'en' ? 'folded' : 'encoded-words'}`,
    (s) => `${s}${tail}`,
    true,
  );
};

/** An issue whose subject is `make(subject)`: the summary is that, prefixes stripped. */
function subjectIssue(
  ctx: Ctx,
  lang: Lang,
  label: string,
  make: (subject: string) => string,
  summaryIsSubject = false,
): Produced {
  const { random } = ctx;
  const b = basics(ctx, lang);
  const subject = make(b.written.subject);
  const messageId = ctx.messageId(b.person);
  const headers = envelope(ctx, { person: b.person, subject, messageId, bodyCharset: b.charset });
  return issueProduced(ctx, {
    person: b.person,
    subject,
    summary: summaryIsSubject ? subject : b.written.subject,
    raw: buildMessage(headers, plainPart(random, b.person, b.text, b.charset, b.transfer)),
    messageId,
    label,
    lines: b.text.trimEnd().split('\n'),
    includes: b.written.includes,
    excludes: b.excludes,
  });
}

/** Subject and display name as two encoded words cut in the middle of a character. */
export const splitWordIssue: Recipe = (ctx) => {
  const { random } = ctx;
  const b = basics(ctx, 'ja');
  const encoding = random.pick(['B', 'Q'] as const);
  const charset = random.pick(['UTF-8', 'UTF-8', 'Shift_JIS'] as const);
  const subjectStyle = splitStyle(b.written.subject, charset, encoding);
  const nameStyle =
    b.person.name !== '' && fits(b.person.name, charset)
      ? splitStyle(b.person.name, charset, encoding)
      : undefined;
  const messageId = ctx.messageId(b.person);
  const headers = envelope(ctx, {
    person: b.person,
    subject: b.written.subject,
    messageId,
    bodyCharset: b.charset,
    subjectStyle,
    ...(nameStyle ? { nameStyle } : {}),
  });
  return issueProduced(ctx, {
    person: b.person,
    subject: b.written.subject,
    summary: b.written.subject,
    raw: buildMessage(headers, plainPart(random, b.person, b.text, b.charset, b.transfer)),
    messageId,
    label: `issue split-encoded-word ${lc(charset)} ${encoding}`,
    lines: b.text.trimEnd().split('\n'),
    includes: b.written.includes,
    excludes: b.excludes,
  });
};

/** Cut after the first byte of the first multi-byte character past the middle. */
function splitStyle(text: string, charset: string, encoding: 'B' | 'Q'): HeaderTextStyle {
  const chars = [...text];
  let at = 0;
  for (const [i, char] of chars.entries()) {
    if (i >= Math.floor(chars.length / 2) && char.charCodeAt(0) > 0x7f) {
      return { kind: 'split', charset, encoding, at: at + 1 };
    }
    at += textBytes(char, charset);
  }
  return { kind: 'words', charset, encoding };
}

function textBytes(char: string, charset: string): number {
  return charset === 'UTF-8' ? Buffer.byteLength(char) : char.charCodeAt(0) > 0x7f ? 2 : 1;
}

/** The charsets raw header bytes come in, with the language that writes them. */
const RAW_HEADER_CHARSETS: readonly (readonly [charset: string, lang: Lang])[] = [
  ['UTF-8', 'ja'],
  ['UTF-8', 'de'],
  ['UTF-8', 'ru'],
  // Japanese mobile carriers and old groupware: the body's charset, straight into the header
  ['Shift_JIS', 'ja'],
  ['EUC-JP', 'ja'],
  // ISO-2022-JP is 7-bit: its escape sequences sit in the header without an encoded word
  ['ISO-2022-JP', 'ja'],
  ['ISO-8859-1', 'de'],
  ['windows-1251', 'ru'],
];

/**
 * Subject and From name as raw bytes in a charset, never MIME-encoded: UTF-8 (legal since
 * RFC 6532), or the charset the body declares (broken, and common from Japanese mobile
 * carriers); a raw Shift_JIS file name with it; and a Latin-1 byte in an unimportant header.
 */
export const raw8bitIssue: Recipe = (ctx) => {
  const { random } = ctx;
  // each charset in turn, so that every one is there however the dice fall
  const done = ctx.messages.filter((m) => m.label.startsWith('issue raw-8bit-header')).length;
  const [charset, lang] = RAW_HEADER_CHARSETS[done % RAW_HEADER_CHARSETS.length]!;
  const b = basics(ctx, lang, { charset });
  const nameFits = fits(b.person.name, charset);
  const messageId = ctx.messageId(b.person);
  const headers = envelope(ctx, {
    person: b.person,
    subject: b.written.subject,
    messageId,
    bodyCharset: charset,
    subjectStyle: { kind: 'raw', charset },
    ...(nameFits ? { nameStyle: { kind: 'raw', charset } } : {}),
    extra: [
      { name: 'X-Sender-Organisation', value: Buffer.from('B\xe4ckerei M\xfcller', 'latin1') },
    ],
  });
  const body = plainPart(random, b.person, b.text, charset, b.transfer);
  const filename = charset === 'Shift_JIS' ? `請求書_${ctx.index}.pdf` : null;
  const entity = filename
    ? multipart(
        'mixed',
        [
          body,
          attachmentPart({
            filename,
            contentType: 'application/pdf',
            content: fileContent(random, filename, 2000),
            style: 'raw',
            charset,
          }),
        ],
        { boundary: boundaryFor(random, b.person.client) },
      )
    : body;
  return issueProduced(ctx, {
    person: b.person,
    subject: b.written.subject,
    summary: b.written.subject,
    raw: buildMessage(headers, entity),
    messageId,
    label: `issue raw-8bit-header ${lc(charset)}${filename ? ' with-raw-filename' : ''}`,
    lines: b.text.trimEnd().split('\n'),
    includes: b.written.includes,
    excludes: b.excludes,
    ...(filename ? { attachments: [filename] } : {}),
  });
};

/**
 * A new issue whose own text has lines shaped like a quoted header block (a shipment's
 * From/To/Date), with the marker sentence below them: nothing here is quoted history.
 */
export const headerLikeProseIssue: Recipe = (ctx) => {
  const { random } = ctx;
  const b = basics(ctx, 'en', { charset: 'us-ascii' });
  const marker = b.written.includes[0]!;
  const block = [
    'Shipment details:',
    `From: ${random.pick(['Tokyo warehouse', 'Yokohama port', 'Kobe depot'])}`,
    `To: ${random.pick(['Osaka branch', 'Nagoya office', 'Sendai store'])}`,
    `Date: ${random.int(1, 28)} December`,
    '',
  ];
  const text = b.text.replace(marker, `${block.join('\n')}\n${marker}`);
  const messageId = ctx.messageId(b.person);
  const headers = envelope(ctx, {
    person: b.person,
    subject: b.written.subject,
    messageId,
    bodyCharset: 'us-ascii',
  });
  return issueProduced(ctx, {
    person: b.person,
    subject: b.written.subject,
    summary: b.written.subject,
    raw: buildMessage(headers, textPart({ text, charset: 'us-ascii', transferEncoding: '7bit' })),
    messageId,
    label: 'issue header-like-prose',
    lines: text.trimEnd().split('\n'),
    includes: [...b.written.includes, block[1]!],
    excludes: b.excludes,
  });
};

/** Subject and body carrying markup as text: kept as text, character for character. */
export const htmlPayloadIssue: Recipe = (ctx) => {
  const b = basics(ctx, 'en', { charset: 'us-ascii' });
  const payload = `<img src=x onerror=alert(${ctx.index})>`;
  const subject = `Report title shows <script>alert("${ctx.index}")</script> as text`;
  const line = `The name field contains ${payload} and saves fine.`;
  const text = b.text.replace(b.written.includes[0]!, `${b.written.includes[0]}\n${line}`);
  const messageId = ctx.messageId(b.person);
  const headers = envelope(ctx, { person: b.person, subject, messageId, bodyCharset: 'us-ascii' });
  return issueProduced(ctx, {
    person: b.person,
    subject,
    summary: subject,
    raw: buildMessage(headers, textPart({ text, charset: 'us-ascii', transferEncoding: '7bit' })),
    messageId,
    label: 'issue html-payload',
    lines: text.trimEnd().split('\n'),
    includes: [...b.written.includes, line],
    excludes: b.excludes,
  });
};

/** Headers that look like the filters' but are not: `Auto-Submitted: no` and friends. */
export const harmlessHeadersIssue: Recipe = (ctx) => {
  const { random } = ctx;
  const [name, value] = random.pick([
    ['Auto-Submitted', 'no'],
    ['Auto-Submitted', 'No'],
    ['X-Auto-Response-Suppress', 'All'],
    ['Precedence', 'first-class'],
  ] as const);
  const b = basics(ctx, random.pick(['en', 'ja'] as const));
  const messageId = ctx.messageId(b.person);
  const headers = envelope(ctx, {
    person: b.person,
    subject: b.written.subject,
    messageId,
    bodyCharset: b.charset,
    extra: [{ name, value }],
  });
  return issueProduced(ctx, {
    person: b.person,
    subject: b.written.subject,
    summary: b.written.subject,
    raw: buildMessage(headers, plainPart(random, b.person, b.text, b.charset, b.transfer)),
    messageId,
    label: `issue harmless-header ${name.toLowerCase()}-${value.toLowerCase()}`,
    lines: b.text.trimEnd().split('\n'),
    includes: b.written.includes,
    excludes: b.excludes,
  });
};
