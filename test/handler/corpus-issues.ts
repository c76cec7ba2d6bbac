/**
 * Recipes for new issues: plain text in every charset the handler must read, HTML-only mail,
 * multipart/alternative; and the parts every new message shares (its basics, its signature or
 * mobile footer, the issue expectation it yields).
 */
import type { Buffer } from 'node:buffer';
import { boundaryFor, charsetFor, envelope, plainPart, transferFor } from './corpus-envelope.js';
import type { Ctx, Produced, Recipe } from './corpus-model.js';
import type { Lang, Person } from './corpus-people.js';
import { type Block, escapeHtml, renderHtml, renderText } from './corpus-quotes.js';
import type { Random } from './corpus-random.js';
import { fits, newIssueText, type Written } from './corpus-text.js';
import {
  buildMessage,
  type Entity,
  type HeaderField,
  multipart,
  type TransferEncoding,
  textPart,
} from './mime.js';

/** What a new-issue message is made of, before it is written. */
export interface IssueMessage {
  readonly person: Person;
  readonly subject: string;
  /** The subject without prefixes, whitespace collapsed: what the issue's summary must be. */
  readonly summary: string;
  readonly raw: Buffer;
  readonly messageId: string | null;
  readonly label: string;
  /** The text as written (for quotes in replies). */
  readonly lines: readonly string[];
  readonly includes: readonly string[];
  readonly excludes: readonly string[];
  readonly attachments?: readonly string[];
  readonly reporterName?: string;
}

/** The Produced of a new issue, with what later replies can quote. */
export function issueProduced(ctx: Ctx, message: IssueMessage): Produced {
  const { person } = message;
  const unique = [...message.includes.filter((line) => /\d{6}/.test(line)), person.signatureMarker];
  return {
    raw: message.raw,
    messageId: message.messageId,
    sender: person.address,
    label: message.label,
    expect: {
      kind: 'issue',
      number: ctx.nextIssueNumber,
      summary: message.summary,
      descriptionIncludes: message.includes,
      descriptionExcludes: message.excludes,
      reporter: person.address,
      reporterName: message.reporterName ?? person.name,
      attachments: message.attachments ?? [],
    },
    record: {
      index: ctx.index,
      messageId: message.messageId,
      issueNumber: ctx.nextIssueNumber,
      author: person,
      date: ctx.date,
      subject: message.subject,
      lines: message.lines,
      unique: unique.filter((line) => line !== '' && message.lines.join('\n').includes(line)),
      chain: message.messageId === null ? [] : [message.messageId],
    },
  };
}

/** The text blocks of a new message: its lines and, half the time, a `-- ` signature. */
export function bodyBlocks(random: Random, person: Person, written: Written, charset: string) {
  const blocks: Block[] = [{ kind: 'text', lines: written.lines }];
  const footer = mobileFooter(random, person);
  if (footer !== null) {
    blocks.push({ kind: 'text', lines: [footer] });
    return { blocks, excludes: [footer] };
  }
  const signed = random.chance(0.5) && person.signature.every((line) => fits(line, charset));
  if (signed) blocks.push({ kind: 'signature', lines: person.signature });
  return { blocks, excludes: signed ? [person.signatureMarker] : [] };
}

/** The footer iOS Mail puts under what was typed on a phone, for some of Apple Mail's users. */
export function mobileFooter(random: Random, person: Person): string | null {
  if (person.client !== 'apple' || !random.chance(0.4)) return null;
  return person.lang === 'ja' ? 'iPhoneから送信' : 'Sent from my iPhone';
}

/** The usual makings of a new message: its sender, text, charset and signature. */
export interface Basics {
  readonly person: Person;
  readonly written: Written;
  readonly charset: string;
  readonly transfer: TransferEncoding;
  /** The text/plain body, signature included. */
  readonly text: string;
  readonly excludes: readonly string[];
  readonly blocks: readonly Block[];
}

/** Draws the basics of a new message in the language, in the charset if one is given. */
export function basics(
  ctx: Ctx,
  lang: Lang,
  options: {
    readonly charset?: string;
    readonly cp932?: boolean;
    readonly extra?: readonly string[];
  } = {},
): Basics {
  const { random } = ctx;
  const person = ctx.people.pick(lang, { cp932: options.cp932 ?? false });
  const probe = newIssueText(random, person, ctx.marker(), options.charset ?? 'UTF-8');
  const extra = (options.extra ?? []).filter((line) => fits(line, options.charset ?? 'UTF-8'));
  const written: Written = {
    ...probe,
    lines: [...probe.lines.slice(0, -2), ...extra, ...probe.lines.slice(-2)],
    includes: [...probe.includes, ...extra],
  };
  const chosen = options.charset
    ? {
        charset: options.charset,
        transfer: transferFor(random, options.charset, written.lines.join('\n')),
      }
    : charsetFor(random, person.lang, written.lines.join('\n'));
  const { blocks, excludes } = bodyBlocks(random, person, written, chosen.charset);
  return { person, written, ...chosen, text: renderText(blocks), excludes, blocks };
}

/** A plain-text new issue in a charset; `extra` adds lines that need the charset's own characters. */
export function plainIssue(options: {
  readonly lang: Lang;
  readonly charset?: string;
  /** The charset name written in Content-Type, when it is an alias of the one encoded with. */
  readonly labelCharset?: string;
  readonly cp932?: boolean;
  readonly extra?: readonly string[];
  readonly label: (charset: string) => string;
  readonly messageId?: boolean;
  readonly flowed?: boolean;
  readonly headers?: readonly HeaderField[];
}): Recipe {
  return (ctx) => {
    const { random } = ctx;
    const b = basics(ctx, options.lang, options);
    const { person, written, charset, transfer, text } = b;
    const messageId = options.messageId === false ? null : ctx.messageId(person);
    const label = options.labelCharset ? { charsetLabel: options.labelCharset } : {};
    const entity = options.flowed
      ? textPart({
          text,
          charset,
          transferEncoding: transfer === 'base64' ? '8bit' : transfer,
          flowed: { delSp: person.lang === 'ja', width: person.lang === 'ja' ? 30 : 60 },
          ...label,
        })
      : options.labelCharset
        ? textPart({ text, charset, transferEncoding: transfer, ...label })
        : plainPart(random, person, text, charset, transfer);
    const headers = envelope(ctx, {
      person,
      subject: written.subject,
      messageId,
      bodyCharset: charset,
      ...(options.headers ? { extra: options.headers } : {}),
    });
    return issueProduced(ctx, {
      person,
      subject: written.subject,
      summary: written.subject,
      raw: buildMessage(headers, entity),
      messageId,
      label: options.label(options.labelCharset ?? charset),
      lines: text.trimEnd().split('\n'),
      includes: written.includes,
      excludes: b.excludes,
    });
  };
}

/** The charsets in labels: lower-case, as people write them. */
export const lc = (charset: string) => charset.toLowerCase();

const HTML_EXTRAS: Record<'en' | 'ja', readonly (readonly [html: string, text: string])[]> = {
  en: [
    ['Terms &amp; conditions apply', 'Terms & conditions apply'],
    ['Temperature was &gt; 40&nbsp;C in the server room', 'Temperature was > 40'],
  ],
  ja: [
    ['「仕様書」&amp;「手順書」を参照しました', '「仕様書」&「手順書」を参照しました'],
    ['温度は40度&gt;でした', '温度は40度>でした'],
  ],
};

/** HTML-only mail with markup and script that must not reach the description. */
export const htmlOnlyIssue: Recipe = (ctx) => {
  const { random } = ctx;
  const lang = random.pick(['en', 'ja'] as const);
  const person = ctx.people.pick(lang);
  const charset =
    lang === 'ja'
      ? random.pick(['UTF-8', 'ISO-2022-JP', 'Shift_JIS'])
      : random.pick(['UTF-8', 'us-ascii']);
  const marker = ctx.marker();
  const written = newIssueText(random, person, marker, charset);
  const markerLine = written.includes[0]!;
  const [extraHtml, extraText] = random.pick(HTML_EXTRAS[lang]);
  const paragraphs = written.lines.map((line) => {
    if (line === markerLine) return `<p>${escapeWithBold(line, marker)}</p>`;
    return line === '' ? '<p><br></p>' : `<p>${escapeHtml(line)}</p>`;
  });
  const html = [
    `<html><head><meta http-equiv="Content-Type" content="text/html; charset=${charset}">`,
    '<style type="text/css">p { margin: 0; color: #333333; }</style>',
    '<script type="text/javascript">window.alert("tracking pixel");</script></head>',
    '<body>',
    ...paragraphs,
    `<div>${extraHtml}</div>`,
    '<script>document.write("<b>injected</b>")</script>',
    '<p><a href="https://example.com/help">Help centre</a></p>',
    '</body></html>',
  ].join('\r\n');
  const transfer: TransferEncoding =
    charset === 'ISO-2022-JP' || charset === 'us-ascii'
      ? '7bit'
      : random.pick(['base64', 'quoted-printable'] as const);
  const entity = textPart({
    text: `${html}\n`,
    subtype: 'html',
    charset,
    transferEncoding: transfer,
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
    label: `issue html-only ${lc(charset)}`,
    lines: written.lines,
    includes: [markerLine, extraText],
    excludes: [
      '<script',
      '<b>',
      '<p>',
      'window.alert',
      'tracking pixel',
      'injected',
      'color: #333333',
    ],
  });
};

function escapeWithBold(line: string, marker: string): string {
  return escapeHtml(line).replace(marker, `<b>${marker}</b>`);
}

/** multipart/alternative: the text part is the description, the HTML part its twin. */
export const alternativeIssue: Recipe = (ctx) => {
  const { random } = ctx;
  const lang = random.weighted<Lang>([
    ['en', 3],
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
  const entity = alternative(random, person, text, renderHtml(blocks), charset, transfer);
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
    label: `issue alternative ${lc(charset)}`,
    lines: text.trimEnd().split('\n'),
    includes: written.includes,
    excludes,
  });
};

/** multipart/alternative of a text and an HTML part in one charset. */
export function alternative(
  random: Random,
  person: Person,
  text: string,
  html: string,
  charset: string,
  transfer: TransferEncoding,
): Entity {
  const htmlTransfer: TransferEncoding =
    transfer === '7bit' && /[^\p{ASCII}]/u.test(html) ? 'quoted-printable' : transfer;
  return multipart(
    'alternative',
    [
      plainPart(random, person, text, charset, transfer),
      textPart({
        text: html,
        subtype: 'html',
        charset,
        transferEncoding: charset === 'ISO-2022-JP' ? '7bit' : htmlTransfer,
      }),
    ],
    { boundary: boundaryFor(random, person.client) },
  );
}
