/**
 * How mail clients write a reply: where the new text goes, the signature, the attribution line
 * ("On … wrote:", "2026年12月4日(金) 10:00 山田太郎 <…>:", "… さんは書きました:") or Outlook's
 * header block (`-----Original Message-----`, `差出人:`), and the quoted history. A reply is
 * built as blocks, then written as text/plain and, for the HTML part, as Gmail-like HTML.
 */
import { attributionFor, outlookHeader } from './corpus-attributions.js';
import type { Client, Person } from './corpus-people.js';
import type { Random } from './corpus-random.js';

/** A piece of a message body. */
export type Block =
  | { readonly kind: 'text'; readonly lines: readonly string[] }
  /** After the `-- ` separator (RFC 3676 §4.3). */
  | { readonly kind: 'signature'; readonly lines: readonly string[] }
  /** Lines introducing a quote. */
  | { readonly kind: 'attribution'; readonly lines: readonly string[] }
  /** Quoted lines, written with `> `. */
  | { readonly kind: 'quote'; readonly lines: readonly string[] }
  /** Outlook's history: a header block and the earlier text, not prefixed. */
  | { readonly kind: 'history'; readonly lines: readonly string[] };

/** Where a client puts the new text relative to the quote. */
export type QuoteStyle = 'top' | 'bottom' | 'inline' | 'outlook' | 'unquoted';

/** The message a reply answers, as its author wrote it. */
export interface Original {
  readonly lines: readonly string[];
  readonly author: Person;
  readonly date: Date;
  readonly subject: string;
  /** Lines of it that no other message has (its marker, its signature marker). */
  readonly unique: readonly string[];
}

/** A reply's blocks and what of it must not reach the comment. */
export interface ComposedReply {
  readonly blocks: readonly Block[];
  readonly excludes: readonly string[];
}

/** What a reply is made of. */
export interface ReplyInput {
  readonly author: Person;
  readonly lines: readonly string[];
  /** The sentence that ends up last in the new text when it is split around quotes. */
  readonly markerLine: string;
  readonly signature: boolean;
  /** A mobile footer ("Sent from my iPhone") in place of the signature. */
  readonly footer?: string | null;
  readonly original: Original;
  readonly style: QuoteStyle;
  /** Gmail's plain text breaks a long attribution line in two. */
  readonly wrapAttribution: boolean;
  /** The client whose attribution line to write, when not the author's (HTML-only mail is Gmail's). */
  readonly attributionClient?: Client;
  readonly mailbox: { readonly name: string; readonly address: string };
}

/** The quote style a client uses for a reply, drawn with the client's habits. */
export function styleFor(random: Random, person: Person): QuoteStyle {
  switch (person.client) {
    case 'outlook':
      return 'outlook';
    case 'thunderbird':
      return random.weighted<QuoteStyle>([
        ['top', 2],
        ['bottom', 2],
        ['inline', 1],
      ]);
    default:
      return random.chance(0.08) ? 'unquoted' : 'top';
  }
}

/** The blocks of a reply in the author's client's layout. */
export function composeReply(random: Random, input: ReplyInput): ComposedReply {
  const { author, original } = input;
  const footer = input.footer ?? null;
  const signature: Block[] = footer
    ? [{ kind: 'text', lines: [footer] }]
    : input.signature
      ? [{ kind: 'signature', lines: author.signature }]
      : [];
  const ownExcludes = footer ? [footer] : input.signature ? [author.signatureMarker] : [];
  const text: Block = { kind: 'text', lines: input.lines };
  if (input.style === 'unquoted') return { blocks: [text, ...signature], excludes: ownExcludes };
  if (input.style === 'outlook') {
    const header = outlookHeader(random, author.lang, original, input.mailbox);
    const history: Block = { kind: 'history', lines: [...header.lines, '', ...original.lines] };
    return {
      // Outlook signatures carry no `-- ` separator, so they are new text as far as anyone can tell
      blocks: [text, { kind: 'text', lines: ['', author.signature[0]!] }, history],
      excludes: [...header.excludes, ...original.unique],
    };
  }
  const attribution = attributionFor(
    { ...author, client: input.attributionClient ?? author.client },
    original,
    input.wrapAttribution,
  );
  const attributionBlock: Block = { kind: 'attribution', lines: attribution.lines };
  const quote: Block = { kind: 'quote', lines: original.lines };
  const excludes = [...attribution.excludes, ...original.unique, ...ownExcludes];
  switch (input.style) {
    case 'top':
      return { blocks: [text, ...signature, attributionBlock, quote], excludes };
    case 'bottom':
      return { blocks: [attributionBlock, quote, text, ...signature], excludes };
    case 'inline': {
      // answers between the quoted lines: the first half of the original, then text, then the rest
      const cut = Math.max(1, Math.floor(original.lines.length / 2));
      const before = input.lines.filter((line) => line !== input.markerLine);
      return {
        blocks: [
          attributionBlock,
          { kind: 'quote', lines: original.lines.slice(0, cut) },
          { kind: 'text', lines: before },
          { kind: 'quote', lines: original.lines.slice(cut) },
          { kind: 'text', lines: [input.markerLine] },
          ...signature,
        ],
        excludes,
      };
    }
  }
}

/** The reply as text/plain. */
export function renderText(blocks: readonly Block[]): string {
  return `${blocks.map(blockText).join('\n\n')}\n`;
}

function blockText(block: Block): string {
  switch (block.kind) {
    case 'text':
    case 'attribution':
    case 'history':
      return block.lines.join('\n');
    case 'signature':
      return ['-- ', ...block.lines].join('\n');
    case 'quote':
      return block.lines.map((line) => (line === '' ? '>' : `> ${line}`)).join('\n');
  }
}

/** The reply as Gmail-like HTML: divs, a gmail_quote blockquote, a signature div. */
export function renderHtml(blocks: readonly Block[]): string {
  return `<div dir="ltr">${blocks.map((block, i) => blockHtml(block, blocks[i - 1])).join('')}</div>\n`;
}

function htmlLines(items: readonly string[]): string[] {
  return items.map((line) => (line === '' ? '<br>' : escapeHtml(line)));
}

function blockHtml(block: Block, previous: Block | undefined): string {
  switch (block.kind) {
    case 'text':
      return htmlLines(block.lines)
        .map((line) => `<div>${line}</div>`)
        .join('');
    case 'signature':
      return `<br clear="all"><div><br></div><span class="gmail_signature_prefix">-- </span><br><div dir="ltr" class="gmail_signature">${htmlLines(block.lines).join('<br>')}</div>`;
    case 'attribution':
      return `<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">${htmlLines(block.lines).join(' ')}<br></div>`;
    case 'quote': {
      const close = previous?.kind === 'attribution' ? '</div>' : '';
      return `<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">${htmlLines(block.lines).join('<br>')}</blockquote>${close}`;
    }
    case 'history':
      return `<div><hr style="display:inline-block;width:98%"><div>${htmlLines(block.lines).join('<br>')}</div></div>`;
  }
}

/** `<`, `>`, `&` and `"` as entities. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
