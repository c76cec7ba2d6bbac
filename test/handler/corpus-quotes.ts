/**
 * How mail clients write a reply: where the new text goes, the signature, the attribution line
 * ("On … wrote:", "2026年12月4日(金) 10:00 山田太郎 <…>:", "… さんは書きました:") or Outlook's
 * header block (`-----Original Message-----`, `差出人:`), and the quoted history. A reply is
 * built as blocks, then written as text/plain and, for the HTML part, as Gmail-like HTML.
 */
import { type Client, type Lang, localTime, type Person, pad } from './corpus-people.js';
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

const EN_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const EN_LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const EN_MONTHS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
];
const EN_LONG_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const JA_DAYS = ['日', '月', '火', '水', '木', '金', '土'];
const DE_DAYS = ['So.', 'Mo.', 'Di.', 'Mi.', 'Do.', 'Fr.', 'Sa.'];
const DE_MONTHS = [
  'Jan.',
  'Feb.',
  'März',
  'Apr.',
  'Mai',
  'Juni',
  'Juli',
  'Aug.',
  'Sept.',
  'Okt.',
  'Nov.',
  'Dez.',
];
const FR_DAYS = ['dim.', 'lun.', 'mar.', 'mer.', 'jeu.', 'ven.', 'sam.'];
const FR_MONTHS = [
  'janv.',
  'févr.',
  'mars',
  'avr.',
  'mai',
  'juin',
  'juil.',
  'août',
  'sept.',
  'oct.',
  'nov.',
  'déc.',
];
const RU_DAYS = ['вс', 'пн', 'вт', 'ср', 'чт', 'пт', 'сб'];
const RU_MONTHS = [
  'янв.',
  'февр.',
  'мар.',
  'апр.',
  'мая',
  'июн.',
  'июл.',
  'авг.',
  'сент.',
  'окт.',
  'нояб.',
  'дек.',
];

function clock12(hour: number, minute: number): string {
  return `${hour % 12 === 0 ? 12 : hour % 12}:${pad(minute)} ${hour < 12 ? 'AM' : 'PM'}`;
}

/** The attribution line(s) the author's client writes above a quote, and what identifies them. */
function attributionFor(
  author: Person,
  original: Original,
  wrap: boolean,
): { lines: string[]; excludes: string[] } {
  const t = localTime(original.date, author.utcOffset);
  const who = original.author.name || original.author.address;
  const addr = original.author.address;
  const hm = `${pad(t.hour)}:${pad(t.minute)}`;
  const lang: Lang = author.lang;
  if (author.client === 'gmail') {
    switch (lang) {
      case 'en': {
        const date = `${EN_DAYS[t.weekday]}, ${EN_MONTHS[t.month]} ${t.day}, ${t.year} at ${clock12(t.hour, t.minute)}`;
        const lines = wrap
          ? [`On ${date} ${who} <`, `${addr}> wrote:`]
          : [`On ${date} ${who} <${addr}> wrote:`];
        return { lines, excludes: [date, 'wrote:'] };
      }
      case 'ja': {
        const date = `${t.year}年${t.month + 1}月${t.day}日(${JA_DAYS[t.weekday]}) ${hm}`;
        const lines = wrap ? [`${date} ${who} <`, `${addr}>:`] : [`${date} ${who} <${addr}>:`];
        return { lines, excludes: [date] };
      }
      case 'de': {
        const date = `${DE_DAYS[t.weekday]}, ${t.day}. ${DE_MONTHS[t.month]} ${t.year} um ${hm}`;
        return { lines: [`Am ${date} Uhr schrieb ${who} <${addr}>:`], excludes: [date, 'schrieb'] };
      }
      case 'fr': {
        const date = `${FR_DAYS[t.weekday]} ${t.day} ${FR_MONTHS[t.month]} ${t.year} à ${hm}`;
        return { lines: [`Le ${date}, ${who} <${addr}> a écrit :`], excludes: [date, 'a écrit'] };
      }
      case 'ru': {
        const date = `${RU_DAYS[t.weekday]}, ${t.day} ${RU_MONTHS[t.month]} ${t.year} г. в ${hm}`;
        return { lines: [`${date}, ${who} <${addr}>:`], excludes: [date] };
      }
    }
  }
  if (author.client === 'apple') {
    if (lang === 'ja') {
      const date = `${t.year}/${pad(t.month + 1)}/${pad(t.day)} ${hm}`;
      return { lines: [`${date}、${who} <${addr}>のメール:`], excludes: [date, 'のメール:'] };
    }
    const date = `${EN_MONTHS[t.month]} ${t.day}, ${t.year}, at ${hm}`;
    return { lines: [`On ${date}, ${who} <${addr}> wrote:`], excludes: [date, 'wrote:'] };
  }
  if (author.client === 'becky') {
    // Becky! writes the date and the author on two lines
    const date = `On ${EN_DAYS[t.weekday]}, ${pad(t.day)} ${EN_MONTHS[t.month]} ${t.year} ${hm}:${pad(t.second)} +0900`;
    return { lines: [date, `${who} <${addr}> wrote:`], excludes: [date, 'wrote:'] };
  }
  // Thunderbird
  switch (lang) {
    case 'ja': {
      const date = `${t.year}/${pad(t.month + 1)}/${pad(t.day)} ${hm}`;
      return {
        lines: [`${date} に ${who} さんは書きました:`],
        excludes: [date, 'さんは書きました:'],
      };
    }
    case 'de': {
      const date = `${pad(t.day)}.${pad(t.month + 1)}.${String(t.year).slice(2)} um ${hm}`;
      return { lines: [`Am ${date} schrieb ${who}:`], excludes: [date, 'schrieb'] };
    }
    case 'fr': {
      const date = `${pad(t.day)}/${pad(t.month + 1)}/${t.year} à ${hm}`;
      return { lines: [`Le ${date}, ${who} a écrit :`], excludes: [date, 'a écrit'] };
    }
    case 'ru': {
      const date = `${pad(t.day)}.${pad(t.month + 1)}.${t.year} ${hm}`;
      return { lines: [`${date}, ${who} пишет:`], excludes: [date, 'пишет:'] };
    }
    case 'en': {
      const date = `${t.month + 1}/${t.day}/${String(t.year).slice(2)} ${clock12(t.hour, t.minute)}`;
      return { lines: [`On ${date}, ${who} wrote:`], excludes: [date, 'wrote:'] };
    }
  }
}

/** Outlook's classic separator as each language's Outlook writes it (Japanese Outlook keeps English). */
const CLASSIC_SEPARATOR: Record<Lang, string> = {
  en: '-----Original Message-----',
  ja: '-----Original Message-----',
  de: '-----Ursprüngliche Nachricht-----',
  fr: "-----Message d'origine-----",
  ru: '-----Исходное сообщение-----',
};

/** Outlook's header block over the quoted message, in the author's language. */
function outlookHeader(
  random: Random,
  lang: Lang,
  original: Original,
  mailbox: { readonly name: string; readonly address: string },
): { lines: string[]; excludes: string[] } {
  const t = localTime(original.date, original.author.utcOffset);
  const from = original.author.name
    ? `${original.author.name} <${original.author.address}>`
    : original.author.address;
  const to = `${mailbox.name} <${mailbox.address}>`;
  const subject = original.subject;
  const labels: Record<Lang, readonly [string, string, string, string, string]> = {
    en: [
      'From:',
      'Sent:',
      'To:',
      'Subject:',
      `${EN_LONG_DAYS[t.weekday]}, ${EN_LONG_MONTHS[t.month]} ${t.day}, ${t.year} ${clock12(t.hour, t.minute)}`,
    ],
    ja: [
      '差出人:',
      '送信日時:',
      '宛先:',
      '件名:',
      `${t.year}年${t.month + 1}月${t.day}日 ${t.hour}:${pad(t.minute)}`,
    ],
    de: [
      'Von:',
      'Gesendet:',
      'An:',
      'Betreff:',
      `${pad(t.day)}.${pad(t.month + 1)}.${t.year} ${pad(t.hour)}:${pad(t.minute)}`,
    ],
    fr: [
      'De :',
      'Envoyé :',
      'À :',
      'Objet :',
      `${pad(t.day)}/${pad(t.month + 1)}/${t.year} ${pad(t.hour)}:${pad(t.minute)}`,
    ],
    ru: [
      'От:',
      'Отправлено:',
      'Кому:',
      'Тема:',
      `${pad(t.day)}.${pad(t.month + 1)}.${t.year} ${pad(t.hour)}:${pad(t.minute)}`,
    ],
  };
  const [fromLabel, sentLabel, toLabel, subjectLabel, date] = labels[lang];
  // the classic separator, the newer rule, or (Outlook for the web) none at all
  const separator = random.weighted<string | null>([
    [CLASSIC_SEPARATOR[lang], 3],
    ['________________________________', 3],
    [null, 1],
  ]);
  const sent = `${sentLabel} ${date}`;
  const lines = [
    ...(separator ? [separator] : []),
    `${fromLabel} ${from}`,
    sent,
    `${toLabel} ${to}`,
    `${subjectLabel} ${subject}`,
  ];
  return { lines, excludes: [...(separator ? [separator] : []), sent] };
}
