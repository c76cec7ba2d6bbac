/**
 * Recipes for new issues that carry files: attachments named the ways clients name them
 * (plain, RFC 2231, RFC 2231 continuations, encoded words, raw bytes), and forwards, as an
 * attached message/rfc822 or inline under Gmail's "Forwarded message" line.
 */
import { Buffer } from 'node:buffer';
import { boundaryFor, charsetFor, envelope, plainPart } from './corpus-envelope.js';
import { rfc5322Date } from './corpus-ids.js';
import { alternative, bodyBlocks, issueProduced, lc } from './corpus-issues.js';
import type { Recipe } from './corpus-model.js';
import type { Lang, Person } from './corpus-people.js';
import { renderHtml, renderText } from './corpus-quotes.js';
import type { Random } from './corpus-random.js';
import { newIssueText } from './corpus-text.js';
import type { Entity, FilenameStyle, HeaderField } from './mime.js';
import {
  attachmentPart,
  buildMessage,
  headerText,
  messagePart,
  multipart,
  textPart,
} from './mime.js';

const FILE_NAMES: Record<Lang, readonly string[]> = {
  en: [
    'invoice-{m}.pdf',
    'Screenshot 2026-12-04 at 10.00.00.png',
    'error log.txt',
    'report_Q4_{m}.xlsx',
  ],
  ja: [
    '見積書_{m}.pdf',
    'スクリーンショット 2026-12-04 10.00.00.png',
    '報告書（最終版）.xlsx',
    '議事録_{m}.docx',
    'エラーログ.txt',
  ],
  de: ['Rechnung_{m}.pdf', 'Überweisung.pdf', 'Lieferschein Nr. {m}.pdf'],
  fr: ['facture_{m}.pdf', 'reçu de paiement.pdf', 'capture d’écran.png'],
  ru: ['счёт_{m}.pdf', 'скриншот ошибки.png'],
};

const CONTENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  txt: 'text/plain',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

/** A few KB of bytes that start like a file of the type. */
export function fileContent(random: Random, filename: string, size: number): Buffer {
  const ext = filename.split('.').pop() ?? '';
  const head: Record<string, Buffer> = {
    pdf: Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1'),
    png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    xlsx: Buffer.from('PK\x03\x04', 'latin1'),
    docx: Buffer.from('PK\x03\x04', 'latin1'),
  };
  if (ext === 'txt')
    return Buffer.from(
      `2026-12-04 10:00:00 ERROR request failed\n`.repeat(Math.ceil(size / 41)).slice(0, size),
    );
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = random.int(0, 255);
  return Buffer.concat([head[ext] ?? Buffer.alloc(0), body]);
}

/** How the person's client writes a file name. */
function filenameStyleFor(
  random: Random,
  person: Person,
  filename: string,
): { style: FilenameStyle; charset: string } {
  if (/^[\x20-\x7e]+$/.test(filename) && !filename.includes('"'))
    return { style: 'plain', charset: 'UTF-8' };
  switch (person.client) {
    case 'thunderbird':
      return { style: filename.length > 12 ? 'rfc2231-continued' : 'rfc2231', charset: 'UTF-8' };
    case 'apple':
      return { style: random.pick(['rfc2231', 'rfc2231-continued'] as const), charset: 'UTF-8' };
    case 'becky':
      return { style: 'encoded-word', charset: 'ISO-2022-JP' };
    case 'outlook':
      return random.chance(0.2)
        ? { style: 'raw', charset: 'UTF-8' }
        : { style: 'encoded-word', charset: 'UTF-8' };
    case 'gmail':
      return { style: 'encoded-word', charset: 'UTF-8' };
  }
}

/** multipart/mixed: a text (or alternative) body and one to three attachments. */
export const attachmentIssue: Recipe = (ctx) => {
  const { random } = ctx;
  const lang = random.weighted<Lang>([
    ['en', 2],
    ['ja', 3],
    ['de', 1],
    ['fr', 1],
    ['ru', 1],
  ]);
  const person = ctx.people.pick(lang);
  const marker = ctx.marker();
  const written = newIssueText(random, person, marker, 'UTF-8');
  const { charset, transfer } = charsetFor(
    random,
    lang,
    [...written.lines, ...person.signature].join('\n'),
  );
  const { blocks, excludes } = bodyBlocks(random, person, written, charset);
  const text = renderText(blocks);
  const names = random
    .shuffle(FILE_NAMES[lang])
    .slice(0, random.int(1, 3))
    .map((name) => name.replace('{m}', marker));
  const styles: string[] = [];
  const attachments = names.map((filename) => {
    const { style, charset: nameCharset } = filenameStyleFor(random, person, filename);
    styles.push(style === 'encoded-word' ? `encoded-word-${lc(nameCharset)}` : style);
    return attachmentPart({
      filename,
      contentType: CONTENT_TYPES[filename.split('.').pop() ?? ''] ?? 'application/octet-stream',
      content: fileContent(random, filename, random.int(512, 6000)),
      style,
      charset: nameCharset,
      nameParam: person.client !== 'thunderbird',
    });
  });
  const body = random.chance(0.5)
    ? alternative(random, person, text, renderHtml(blocks), charset, transfer)
    : plainPart(random, person, text, charset, transfer);
  const entity = multipart('mixed', [body, ...attachments], {
    boundary: boundaryFor(random, person.client),
    ...(random.chance(0.3) ? { preamble: 'This is a multi-part message in MIME format.' } : {}),
  });
  const messageId = ctx.messageId(person);
  const raw = buildMessage(
    envelope(ctx, { person, subject: written.subject, messageId, bodyCharset: charset }),
    entity,
  );
  return issueProduced(ctx, {
    person,
    subject: written.subject,
    summary: written.subject,
    raw,
    messageId,
    label: `issue attachments ${[...new Set(styles)].sort().join('+')}`,
    lines: text.trimEnd().split('\n'),
    includes: written.includes,
    excludes,
    attachments: names,
  });
};

const FORWARD_NOTES: Record<'en' | 'ja', readonly string[]> = {
  en: [
    'Forwarding this from a customer, see case {m} below.',
    'FYI, customer complaint {m} forwarded below.',
  ],
  ja: [
    'お客様からのメールを転送します（案件{m}）。',
    '下記の問い合わせ{m}について対応をお願いします。',
  ],
};

/** A forward: as an attached message/rfc822, or inline under Gmail's "Forwarded message" line. */
export const forwardedIssue: Recipe = (ctx) => {
  const { random } = ctx;
  const lang = random.pick(['en', 'ja'] as const);
  const person = ctx.people.pick(lang);
  const customer = ctx.people.pick(lang, { not: person.address });
  const marker = ctx.marker();
  const inner = newIssueText(random, customer, ctx.marker(), 'UTF-8');
  const note = random.pick(FORWARD_NOTES[lang]).replace('{m}', marker);
  const prefix =
    lang === 'ja'
      ? random.pick(['Fwd: ', '転送: ', 'FW: '])
      : random.pick(['Fwd: ', 'FW: ', 'Fw: ']);
  const subject = `${prefix}${inner.subject}`;
  const messageId = ctx.messageId(person);
  const inline = random.chance(0.4);
  const innerDate = new Date(ctx.date.getTime() - 3_600_000);
  let entity: Entity;
  let attachments: string[] = [];
  let lines: string[];
  if (inline) {
    lines = [
      note,
      '',
      '---------- Forwarded message ---------',
      `From: ${customer.name || customer.address} <${customer.address}>`,
      `Date: ${rfc5322Date(innerDate, customer.utcOffset)}`,
      `Subject: ${inner.subject}`,
      `To: ${ctx.mailboxName} <${ctx.options.mailbox}>`,
      '',
      ...inner.lines,
    ];
    entity = textPart({
      text: `${lines.join('\n')}\n`,
      charset: 'UTF-8',
      transferEncoding: 'base64',
    });
  } else {
    lines = [note];
    const innerCharset = lang === 'ja' ? 'ISO-2022-JP' : 'UTF-8';
    const innerRaw = buildMessage(
      [
        { name: 'From', value: `${customer.address}` },
        { name: 'To', value: person.address },
        {
          name: 'Subject',
          value: headerText(inner.subject, { kind: 'words', charset: innerCharset, encoding: 'B' }),
        },
        { name: 'Date', value: rfc5322Date(innerDate, customer.utcOffset) },
        { name: 'Message-ID', value: `<${ctx.messageId(customer)}>` },
        { name: 'MIME-Version', value: '1.0' },
      ] satisfies HeaderField[],
      textPart({
        text: `${inner.lines.join('\n')}\n`,
        charset: innerCharset,
        transferEncoding: innerCharset === 'ISO-2022-JP' ? '7bit' : 'base64',
      }),
    );
    const filename = random.pick([
      'ForwardedMessage.eml',
      'original message.eml',
      `case-${marker}.eml`,
    ]);
    attachments = [filename];
    entity = multipart(
      'mixed',
      [
        textPart({ text: `${note}\n`, charset: 'UTF-8', transferEncoding: 'quoted-printable' }),
        messagePart(innerRaw, filename),
      ],
      { boundary: boundaryFor(random, person.client) },
    );
  }
  const raw = buildMessage(
    envelope(ctx, { person, subject, messageId, bodyCharset: 'UTF-8' }),
    entity,
  );
  return issueProduced(ctx, {
    person,
    subject,
    summary: inner.subject,
    raw,
    messageId,
    label: `issue forwarded ${inline ? 'inline' : 'rfc822'}`,
    lines,
    includes: [note],
    excludes: [],
    attachments,
  });
};
