/**
 * The new text of a reply: what the sender wrote, without the quoted history and the
 * signature that mail clients add below (or, interleaved, between) it. Pure functions over
 * lines; the patterns are the ones real clients write: English and Japanese first, German,
 * French and Russian too.
 *
 * What goes:
 * - quoted lines (`>`), and the attribution line that introduces a quote block
 *   ("Taro wrote:", "On … wrote:", `2026年12月4日(金) 10:00 山田太郎 <taro@example.jp>:`,
 *   `… のメール:`, `… さんは書きました:`, "Am … schrieb …:", "Le … a écrit :",
 *   `02.12.2026 10:05, Иван Петров пишет:`), also when the attribution is wrapped over two
 *   or three lines; text between quote blocks (an interleaved answer) stays;
 * - everything from a dated attribution on when no `>` quote follows it (clients that quote
 *   without prefixes), from an Outlook block on, and from a signature (`-- `, `--`) or a
 *   mobile footer ("Sent from my iPhone", `iPhoneから送信`) on. An Outlook block is a
 *   separator (`-----Original Message-----`, `-----元のメッセージ-----`,
 *   `-----Ursprüngliche Nachricht-----`, `-----Message d'origine-----`,
 *   `-----Исходное сообщение-----`), a `____` rule over a `From:`-like field, or a bare header
 *   block: `From:/Sent:/To:/Subject:`, `差出人:/送信日時:/宛先:/件名:`,
 *   `Von:/Gesendet:/An:/Betreff:`, `De :/Envoyé :/À :/Objet :`, `От:/Отправлено:/Кому:/Тема:`.
 *   A bare block needs its subject field: lines like `From: Tokyo warehouse` / `To: Osaka
 *   branch` / `Date: 4 December` in a message's own text are not a quote header.
 *
 * What stays: a forward. A forward marker (`---------- Forwarded message ---------`,
 * `-------- 転送メッセージ --------`, `-------- Пересылаемое сообщение --------`,
 * "Begin forwarded message:") and everything after it are kept as they are, header block and
 * quotes included: there the forwarded content is the point. Outlook forwards carry no marker
 * (only the same header block as its replies), so they cannot be told from replies here and
 * are cut like one.
 */

/**
 * The new text of a message: quoted history and signature removed (see the module comment),
 * trailing white space trimmed from every line, runs of two or more blank lines collapsed to
 * one, the whole trimmed. Line ends become LF. If stripping would leave nothing (a message
 * that is only a quote), the original text is returned, trimmed.
 */
export function stripQuotedReply(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const forward = lines.findIndex((line) => FORWARD_MARKER.test(line));
  const ownEnd = forward === -1 ? lines.length : forward;
  const kept = [...ownLines(lines.slice(0, ownEnd)), ...lines.slice(ownEnd)];
  const stripped = tidy(kept);
  return stripped.length > 0 ? stripped : tidy(lines);
}

/** The sender's own lines of the part above any forward marker. */
function ownLines(lines: readonly string[]): string[] {
  const kept: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (SIGNATURE.test(line) || MOBILE_FOOTER.test(line)) break;
    if (OUTLOOK_SEPARATOR.test(line) || isRuleBeforeHeaders(lines, i) || isHeaderBlock(lines, i)) {
      break;
    }
    const attribution = attributionAt(lines, i);
    if (attribution) {
      if (isQuoted(lines[nextNonBlank(lines, i + attribution.span)] ?? '')) {
        i += attribution.span;
        continue;
      }
      // a dated attribution with the history below it unprefixed: everything from here is history
      if (attribution.dated) break;
    }
    if (!isQuoted(line)) kept.push(line);
    i++;
  }
  return kept;
}

function tidy(lines: readonly string[]): string {
  return lines
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const isQuoted = (line: string) => /^\s*>/.test(line);

function nextNonBlank(lines: readonly string[], from: number): number {
  let i = from;
  while (i < lines.length && (lines[i] ?? '').trim() === '') i++;
  return i;
}

// RFC 3676 §4.3 names "-- " the signature separator; "--" is what it becomes when a client
// or a transport trims trailing white space
const SIGNATURE = /^--[ \t]?$/;

const MOBILE_FOOTER =
  /^\s*(?:Sent from my (?:iPhone|iPad|Android|mobile device|Galaxy|Xperia|Pixel)\b.*|Sent from (?:Outlook|Mail|Yahoo Mail|Gmail|Samsung Mobile)\b.*|Get Outlook for (?:iOS|Android)|(?:iPhone|iPad|Android|Outlook|Galaxy|Xperia|Pixel) ?から送信|Outlook for (?:iOS|Android) を入手)\s*$/i;

const OUTLOOK_SEPARATOR =
  /^\s*-{3,}\s*(?:Original Message|元のメッセージ|Ursprüngliche Nachricht|Message d'origine|Mensaje original|Messaggio originale|Oorspronkelijk bericht|Исходное сообщение)\s*-{3,}\s*$/i;

const FORWARD_MARKER =
  /^\s*(?:-{2,}\s*(?:Forwarded message|Forwarded Message|転送メッセージ|転送されたメッセージ|Weitergeleitete Nachricht|Message transféré|Mensaje reenviado|Пересылаемое сообщение|Пересланное сообщение|Перенаправленное сообщение)\s*-{2,}|Begin forwarded message:|転送されたメッセージ[:：]|以下のメッセージを転送します[:：]?)\s*$/i;

// The fields of a quoted header block (Outlook, Exchange, Outlook on the web; English,
// Japanese, German, French, Russian, Spanish); an asterisk pair appears when HTML bold is
// rendered as text, and French puts a (no-break) space before the colon
const HEADER_FROM = /^\s*\*?(?:From|差出人|送信者|Von|De|Da|От)\*?\s*[:：]/i;
const HEADER_SUBJECT =
  /^\s*\*?(?:Subject|件名|Betreff|Objet|Тема|Asunto|Oggetto|Onderwerp)\*?\s*[:：]/i;
const HEADER_OTHER =
  /^\s*\*?(?:Sent|Date|To|Cc|送信日時|送信日|日時|日付|宛先|CC|Gesendet|Datum|An|Envoyé|À|Enviado|Fecha|Para|Отправлено|Дата|Кому|Копия)\*?\s*[:：]/i;

/** How many lines below its `From:` line a bare header block's other fields are looked for. */
const HEADER_BLOCK_LINES = 8;

/**
 * A bare header block: a `From:` line, and in the lines below it up to the first blank line
 * (a long `To:` may wrap onto a line of its own) at least two more fields, one of them the
 * subject. Outlook always writes the subject; a block without one is the message's own text
 * (a shipment's `From:/To:/Date:`), and one field alone is too common in prose ("To: all
 * staff") to cut on.
 */
function isHeaderBlock(lines: readonly string[], i: number): boolean {
  if (!HEADER_FROM.test(lines[i] ?? '')) return false;
  let fields = 0;
  let subject = false;
  for (let j = i + 1; j < lines.length && j <= i + HEADER_BLOCK_LINES; j++) {
    const line = lines[j] ?? '';
    if (line.trim() === '') break;
    const isSubject = HEADER_SUBJECT.test(line);
    if (isSubject) subject = true;
    if (isSubject || HEADER_OTHER.test(line)) fields++;
  }
  return subject && fields >= 2;
}

/**
 * Outlook's `________________________________` rule, followed by a `From:` field: the rule
 * marks what follows as a quote header, so no subject field is needed.
 */
function isRuleBeforeHeaders(lines: readonly string[], i: number): boolean {
  if (!/^\s*_{10,}\s*$/.test(lines[i] ?? '')) return false;
  return HEADER_FROM.test(lines[nextNonBlank(lines, i + 1)] ?? '');
}

interface Attribution {
  /** How many lines the attribution takes (clients wrap long ones). */
  readonly span: number;
  /** Whether it carries a date, the mark of a client's reply header rather than prose. */
  readonly dated: boolean;
}

// Reply headers with a date, as clients write them (joined when wrapped):
// Gmail, Apple Mail, Thunderbird "On <date>, <name> <addr> wrote:"; German, French;
// Gmail ja "2026年12月4日(金) 10:00 山田太郎 <taro@example.jp>:"; Apple Mail ja
// "2026/12/04 10:00、山田太郎 <…> のメール:"; Thunderbird ja "2026/12/04 10:00 に 山田太郎 さんは書きました:";
// Thunderbird ru "02.12.2026 10:05, Иван Петров пишет:" (`\b` knows no Cyrillic, hence `\s`)
const DATED_ATTRIBUTIONS: readonly RegExp[] = [
  /^On\s.*\bwrote\s*:$/i,
  /^Am\s.*\bschrieb\b.*:$/i,
  /^Le\s.*\ba écrit\s*:$/i,
  /^\d{4}年\d{1,2}月\d{1,2}日.*@.*[:：]$/,
  /^\d{4}[/-]\d{1,2}[/-]\d{1,2}.*(?:のメール|さんは書きました|書きました|wrote)\s*[:：]$/i,
  /^\d{1,2}\.\d{1,2}\.\d{2,4}.*\sпишет\s*:$/i,
];

// The first line of a dated header must show the date, so that prose starting with "On" and
// ending three lines later in "wrote:" is not taken for one
const DATE_IN_FIRST_LINE = /\d{4}|\d{1,2}:\d{2}|\d{1,2}\/\d{1,2}\/\d{2}|\d{1,2}\.\d{1,2}\.\d{2}/;

// Attributions without a date: only removed with the quote block they introduce
const PLAIN_ATTRIBUTIONS: readonly RegExp[] = [
  /\bwrote\s*:$/i,
  /\bschrieb\s*:$/i,
  /\sa écrit\s*:$/i,
  /(?:^|\s)пишет\s*:$/i,
  /さんは書きました\s*[:：]$/,
  /書きました\s*[:：]$/,
  /のメール\s*[:：]$/,
  /@.*[:：]$/,
];

/** The attribution starting at line `i`, one to three lines long, or null. */
function attributionAt(lines: readonly string[], i: number): Attribution | null {
  const first = (lines[i] ?? '').trim();
  if (first === '' || isQuoted(first)) return null;
  let joined = '';
  for (let span = 1; span <= 3 && i + span - 1 < lines.length; span++) {
    const line = (lines[i + span - 1] ?? '').trim();
    if (span > 1 && (line === '' || isQuoted(line))) break;
    joined = span === 1 ? line : `${joined} ${line}`;
    if (joined.length > 300) break;
    const dated =
      DATE_IN_FIRST_LINE.test(first) && DATED_ATTRIBUTIONS.some((re) => re.test(joined));
    if (dated) return { span, dated: true };
    // a plain attribution is one line: wrapping is what long dated headers do
    if (span === 1 && PLAIN_ATTRIBUTIONS.some((re) => re.test(joined))) {
      return { span, dated: false };
    }
  }
  return null;
}
