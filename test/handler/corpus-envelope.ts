/**
 * The parts every corpus message shares: the header block as the sender's client and the
 * receiving MTA write it, the charset and transfer encoding a client picks, and the
 * text/plain, text/html and multipart shapes clients send.
 */

import { rfc5322Date } from './corpus-ids.js';
import type { Ctx } from './corpus-model.js';
import type { Client, Lang, Person } from './corpus-people.js';
import type { Random } from './corpus-random.js';
import { fits } from './corpus-text.js';
import {
  type Entity,
  encodeText,
  type HeaderField,
  type HeaderTextStyle,
  headerText,
  mailboxAddress,
  type NameStyle,
  type TransferEncoding,
  textPart,
} from './mime.js';

/** Charsets, each with the transfer encodings clients use it with, per language. */
const CHARSETS: Record<Lang, readonly (readonly [string, readonly TransferEncoding[], number])[]> =
  {
    en: [
      ['us-ascii', ['7bit'], 3],
      ['UTF-8', ['7bit', 'quoted-printable', 'base64'], 4],
      ['windows-1252', ['quoted-printable'], 1],
      ['ISO-8859-1', ['quoted-printable', '8bit'], 1],
    ],
    ja: [
      ['UTF-8', ['base64', '8bit', 'quoted-printable'], 4],
      ['ISO-2022-JP', ['7bit', '7bit', 'base64'], 4],
      ['Shift_JIS', ['8bit', 'base64'], 2],
      ['EUC-JP', ['8bit', 'base64'], 1],
    ],
    de: [
      ['ISO-8859-1', ['quoted-printable', '8bit'], 2],
      ['ISO-8859-15', ['quoted-printable', '8bit'], 1],
      ['windows-1252', ['quoted-printable'], 1],
      ['UTF-8', ['quoted-printable', '8bit', 'base64'], 3],
    ],
    fr: [
      ['ISO-8859-1', ['quoted-printable', '8bit'], 2],
      ['ISO-8859-15', ['quoted-printable'], 1],
      ['windows-1252', ['quoted-printable', '8bit'], 1],
      ['UTF-8', ['quoted-printable', 'base64'], 3],
    ],
    ru: [
      ['windows-1251', ['base64', '8bit', 'quoted-printable'], 3],
      ['KOI8-R', ['8bit', 'base64'], 1],
      ['UTF-8', ['base64', '8bit'], 3],
    ],
  };

/** A charset of the language that carries all of `text`, and a transfer encoding for it. */
export function charsetFor(
  random: Random,
  lang: Lang,
  text: string,
): { charset: string; transfer: TransferEncoding } {
  const fitting = CHARSETS[lang].filter(([charset]) => fits(text, charset));
  if (fitting.length === 0) return { charset: 'UTF-8', transfer: 'base64' };
  const [charset] = random.weighted(fitting.map((entry) => [entry, entry[2]] as const));
  return { charset, transfer: transferFor(random, charset, text) };
}

/** A transfer encoding clients use with the charset that can carry the text (7bit only for 7-bit bytes). */
export function transferFor(random: Random, charset: string, text: string): TransferEncoding {
  const sevenBit = !encodeText(text, charset).some((byte) => byte >= 0x80);
  const entry = Object.values(CHARSETS)
    .flat()
    .filter(([name]) => name === charset)
    .flatMap(([, transfers]) => transfers);
  const usable = [...new Set(entry)].filter((transfer) => sevenBit || transfer !== '7bit');
  return usable.length === 0 ? 'base64' : random.pick(usable);
}

/** How a client writes non-ASCII header text. */
export function headerStyleFor(
  random: Random,
  person: Person,
  text: string,
  bodyCharset: string,
): HeaderTextStyle {
  if (/^[\x20-\x7e]*$/.test(text)) return { kind: 'ascii' };
  const options: (readonly [HeaderTextStyle, number])[] = [
    [{ kind: 'words', charset: 'UTF-8', encoding: 'B' }, 4],
    [{ kind: 'mixed', charset: 'UTF-8', encoding: 'Q' }, 1],
    [{ kind: 'mixed', charset: bodyCharset, encoding: person.lang === 'ja' ? 'B' : 'Q' }, 4],
  ];
  if (person.lang === 'ja')
    options.push([{ kind: 'mixed', charset: 'ISO-2022-JP', encoding: 'B' }, 4]);
  if (person.client === 'becky' || person.client === 'outlook') {
    options.push([{ kind: 'words', charset: 'ISO-2022-JP', encoding: 'B' }, 3]);
  }
  const usable = options.filter(
    ([style]) => 'charset' in style && fits(text, style.charset) && !/ascii/i.test(style.charset),
  );
  if (usable.length === 0) return { kind: 'words', charset: 'UTF-8', encoding: 'B' };
  return random.weighted(usable);
}

/** How a client writes the sender's display name. */
export function nameStyleFor(random: Random, person: Person, bodyCharset: string): NameStyle {
  if (
    person.client === 'outlook' &&
    person.name !== '' &&
    !/^[\x20-\x7e]*$/.test(person.name) &&
    random.chance(0.15)
  ) {
    // encoded words inside quotes: forbidden by RFC 2047 §5, written by Outlook all the same
    return { kind: 'quoted-words', charset: 'UTF-8' };
  }
  return headerStyleFor(random, person, person.name, bodyCharset);
}

/** The header fields of a message. */
export interface EnvelopeInput {
  readonly person: Person;
  readonly subject: string;
  readonly messageId: string | null;
  readonly bodyCharset: string;
  readonly inReplyTo?: string;
  readonly references?: readonly string[];
  readonly subjectStyle?: HeaderTextStyle;
  readonly nameStyle?: NameStyle;
  /** More fields after the standard ones (Auto-Submitted, Precedence …). */
  readonly extra?: readonly HeaderField[];
  /** A From other than the person's (own address, MAILER-DAEMON). */
  readonly from?: string | Buffer;
  /** Leave out the Date field. */
  readonly noDate?: boolean;
  /** The SMTP reverse-path the MTA records: `<>` for a bounce (RFC 5321 §4.5.5). */
  readonly returnPath?: string;
}

/** The header block: trace fields the MTA adds, then the client's fields. */
export function envelope(ctx: Ctx, input: EnvelopeInput): HeaderField[] {
  const { random } = ctx;
  const person = input.person;
  const date = rfc5322Date(ctx.date, person.utcOffset);
  const fields: HeaderField[] = [
    { name: 'Return-Path', value: input.returnPath ?? `<${person.address}>` },
    { name: 'Delivered-To', value: ctx.options.mailbox },
    {
      name: 'Received',
      value: `from ${mxOf(person.address)} (${mxOf(person.address)} [192.0.2.${random.int(1, 254)}])\r\n\tby mail.example.test (Postfix) with ESMTPS id ${random.string('0123456789ABCDEFGHJKLMNPQRSTVWXYZ', 11)}\r\n\tfor <${ctx.options.mailbox}>; ${rfc5322Date(ctx.date, 0)}`,
    },
  ];
  const address = random.chance(0.1) ? mixedCase(random, person.address) : person.address;
  const from =
    input.from ??
    mailboxAddress(
      person.name,
      address,
      input.nameStyle ?? nameStyleFor(random, person, input.bodyCharset),
    );
  fields.push({ name: 'From', value: from });
  fields.push({ name: 'To', value: `${ctx.mailboxName} <${ctx.options.mailbox}>` });
  fields.push({
    name: 'Subject',
    value: headerText(
      input.subject,
      input.subjectStyle ?? headerStyleFor(random, person, input.subject, input.bodyCharset),
    ),
  });
  if (!input.noDate) fields.push({ name: 'Date', value: date });
  if (input.messageId !== null) {
    fields.push({
      name: random.chance(0.3) ? 'Message-Id' : 'Message-ID',
      value: `<${input.messageId}>`,
    });
  }
  if (input.inReplyTo !== undefined)
    fields.push({ name: 'In-Reply-To', value: `<${input.inReplyTo}>` });
  if (input.references !== undefined && input.references.length > 0) {
    fields.push({
      name: 'References',
      value: input.references.map((id) => `<${id}>`).join('\r\n '),
    });
  }
  fields.push(...clientFields(random, person.client, person.lang));
  fields.push({ name: 'MIME-Version', value: '1.0' });
  fields.push(...(input.extra ?? []));
  return fields;
}

function mxOf(address: string): string {
  return `mx.${address.split('@')[1]}`;
}

function mixedCase(random: Random, address: string): string {
  return [...address].map((c) => (random.chance(0.4) ? c.toUpperCase() : c)).join('');
}

function clientFields(random: Random, client: Client, lang: Lang): HeaderField[] {
  const language = { en: 'en-US', ja: 'ja-JP', de: 'de-DE', fr: 'fr-FR', ru: 'ru-RU' }[lang];
  switch (client) {
    case 'gmail':
      return [];
    case 'outlook':
      return [
        {
          name: 'Thread-Index',
          value: `A${random.string('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 31)}=`,
        },
        { name: 'Content-Language', value: language },
        { name: 'X-MS-Has-Attach', value: '' },
      ];
    case 'thunderbird':
      return [
        { name: 'User-Agent', value: 'Mozilla Thunderbird' },
        { name: 'Content-Language', value: language },
      ];
    case 'apple':
      return [{ name: 'X-Mailer', value: 'Apple Mail (2.3826.300.87)' }];
    case 'becky':
      return [{ name: 'X-Mailer', value: 'Becky! ver. 2.81.05 [ja]' }];
  }
}

/** A multipart boundary in the client's style. */
export function boundaryFor(random: Random, client: Client): string {
  switch (client) {
    case 'gmail':
      return `000000000000${random.string('0123456789abcdef', 12)}`;
    case 'outlook':
      return `_000_${random.string('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 32)}_`;
    case 'thunderbird':
      return `------------${random.string('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 24)}`;
    case 'apple':
      return `Apple-Mail=_${random.string('0123456789ABCDEF', 8)}-${random.string('0123456789ABCDEF', 4)}-${random.string('0123456789ABCDEF', 4)}`;
    case 'becky':
      return `----_NextPart_${random.string('0123456789ABCDEF', 16)}`;
  }
}

/** A text/plain part, format=flowed the way Thunderbird writes it. */
export function plainPart(
  random: Random,
  person: Person,
  text: string,
  charset: string,
  transfer: TransferEncoding,
): Entity {
  const flowed = person.client === 'thunderbird' && transfer !== 'base64' && random.chance(0.7);
  return textPart({
    text,
    charset,
    transferEncoding: transfer,
    ...(flowed
      ? { flowed: { delSp: person.lang === 'ja', width: person.lang === 'ja' ? 36 : 72 } }
      : {}),
  });
}
