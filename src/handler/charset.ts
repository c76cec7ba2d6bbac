/**
 * Repair of header bytes that were never MIME-encoded. RFC 5322 headers are US-ASCII and
 * non-ASCII text belongs in RFC 2047 encoded words, but Japanese mobile carriers, old
 * groupware and some scripts put raw Shift_JIS, EUC-JP, ISO-2022-JP (escape sequences) or
 * UTF-8 bytes straight into `Subject:` and `From:`. mailparser reads header bytes as UTF-8,
 * which is right for raw UTF-8 (RFC 6532) and turns everything else into U+FFFD. This module
 * finds such header fields, guesses their charset and rewrites them as UTF-8, so mailparser
 * then decodes them like any RFC 6532 header. Pure functions over bytes; WHATWG decoders
 * (`TextDecoder`, Node's full ICU) in `fatal` mode tell a charset that fits from one that
 * does not.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6532#section-3.2 RFC 6532 §3.2 (UTF-8 header values)
 * @see https://encoding.spec.whatwg.org/ WHATWG Encoding (shift_jis is CP932)
 */

import { decode as decodeWithIconv } from 'libmime/lib/charset.js';

/** A charset the repair can decode with, as a WHATWG label. */
export type DecoderLabel = string;

/**
 * The WHATWG decoder label for a MIME charset name, or null when there is none. Microsoft's
 * names for Shift_JIS (`cp932`, `ms932`, `windows-31j`) all mean the WHATWG `shift_jis`
 * decoder, which is CP932: it has the NEC and IBM extensions (①, ㈱, 髙) that strict
 * JIS X 0208 Shift_JIS lacks, so a message labelled `Shift_JIS` that uses them still decodes.
 */
export function decoderLabel(charset: string): DecoderLabel | null {
  const name = charset.trim().toLowerCase().replace(/^"|"$/g, '');
  const alias = CHARSET_ALIASES.get(name);
  if (alias) return alias;
  try {
    return new TextDecoder(name).encoding;
  } catch {
    return null;
  }
}

/**
 * Decodes `bytes` with `label`, or returns null when they are not valid in that charset.
 * Single-byte charsets accept every byte, so for them this never fails.
 */
export function decodeStrict(bytes: Uint8Array, label: DecoderLabel): string | null {
  // Node 20's TextDecoder reads windows-1252 as ISO-8859-1 (0x80–0x9F become C1 controls
  // instead of “ ” € …); iconv-lite, through libmime, has the real table
  if (label === 'windows-1252') return decodeWithIconv(Buffer.from(bytes), 'windows-1252');
  try {
    const text = new TextDecoder(label, { fatal: true }).decode(bytes);
    // ICU's EUC-JP passes 0x80–0x9F through as C1 controls instead of failing, and no real
    // header text holds one, so a reading that produces them is a wrong one
    return hasC1Control(text) ? null : text;
  } catch {
    return null;
  }
}

function hasC1Control(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80 && code <= 0x9f) return true;
  }
  return false;
}

/**
 * The text of raw header bytes that are not ASCII, in the order DESIGN asks for: strict
 * UTF-8 first (RFC 6532 makes it legal), then the charset the message declares for its body,
 * then a choice between the Japanese charsets (ISO-2022-JP when escape sequences are present,
 * else whichever of Shift_JIS/CP932 and EUC-JP reads as more plausible Japanese), and
 * Windows-1252 when nothing else fits. Never throws.
 */
export function decodeRawHeaderBytes(bytes: Uint8Array, declared: readonly string[]): string {
  // ISO-2022-JP is 7-bit, so only its escape sequences give it away (RFC 1468 §3)
  if (bytes.includes(ESC)) {
    return decodeStrict(bytes, 'iso-2022-jp') ?? new TextDecoder('iso-2022-jp').decode(bytes);
  }
  const utf8 = decodeStrict(bytes, 'utf-8');
  if (utf8 !== null) return utf8;
  for (const charset of declared) {
    const label = decoderLabel(charset);
    if (!label || label === 'utf-8') continue;
    const text = decodeStrict(bytes, label);
    if (text !== null) return text;
  }
  return guessJapaneseOrLatin(bytes);
}

/**
 * Rewrites the raw-8-bit fields of the message's header sections as UTF-8 and returns the
 * whole message; returns `raw` itself when nothing needed repair (the common case:
 * all-ASCII headers, or headers already in UTF-8). The header sections are the message's
 * own and those of its MIME parts (where raw Shift_JIS filenames turn up); bodies keep
 * their bytes.
 *
 * @param declared the charsets the message declares (see {@link declaredCharsets}), tried
 *   before guessing
 */
export function repairRawHeaders(raw: Buffer, declared: readonly string[]): Buffer {
  const text = raw.toString('latin1');
  // nothing 8-bit and no escape sequence anywhere: nothing to repair, skip the part scan
  // (a Latin-1 string is longer in UTF-8 exactly when it holds a byte of 0x80 or more)
  if (!raw.includes(ESC) && Buffer.byteLength(text, 'utf8') === raw.length) return raw;
  const pieces: Buffer[] = [];
  let pos = 0;
  for (const [start, end] of headerSections(raw, text)) {
    const head = raw.subarray(start, end);
    if (start < pos || !needsRepair(head)) continue;
    const fields = splitFields(head).map((field) =>
      needsRepair(field) ? Buffer.from(decodeRawHeaderBytes(field, declared), 'utf8') : field,
    );
    pieces.push(raw.subarray(pos, start), ...fields);
    pos = end;
  }
  if (pieces.length === 0) return raw;
  pieces.push(raw.subarray(pos));
  return Buffer.concat(pieces);
}

/**
 * The `charset` parameters a message declares (top-level `Content-Type` and its parts, HTML
 * `<meta charset>` too), first occurrence first, without US-ASCII and UTF-8: the hint for a
 * raw header, which is most often written in the same charset as the body beneath it. A scan
 * of the first 64 KiB is enough for a hint and keeps a large attachment from costing time.
 */
export function declaredCharsets(raw: Buffer): string[] {
  const text = raw.subarray(0, 65536).toString('latin1');
  const found: string[] = [];
  for (const match of text.matchAll(/\bcharset\s*=\s*["']?([A-Za-z0-9._:-]+)/gi)) {
    const name = (match[1] ?? '').toLowerCase();
    if (IGNORED_DECLARED.has(name) || found.includes(name)) continue;
    found.push(name);
  }
  return found;
}

const ESC = 0x1b;

const CHARSET_ALIASES = new Map<string, DecoderLabel>([
  ['cp932', 'shift_jis'],
  ['ms932', 'shift_jis'],
  ['windows-932', 'shift_jis'],
  ['windows-31j', 'shift_jis'],
  ['x-sjis', 'shift_jis'],
  ['sjis', 'shift_jis'],
  ['shift-jis', 'shift_jis'],
  ['x-ms-cp932', 'shift_jis'],
  ['eucjp', 'euc-jp'],
  ['x-euc-jp', 'euc-jp'],
  ['eucjp-ms', 'euc-jp'],
  ['euc-jp-ms', 'euc-jp'],
  ['cseucpkdfmtjapanese', 'euc-jp'],
  // ISO-2022-JP-1/2/3 are supersets seldom used for Japanese mail; their common part decodes
  ['iso-2022-jp-1', 'iso-2022-jp'],
  ['iso-2022-jp-2', 'iso-2022-jp'],
  ['iso-2022-jp-3', 'iso-2022-jp'],
  ['iso-2022-jp-ms', 'iso-2022-jp'],
  ['csiso2022jp', 'iso-2022-jp'],
]);

const IGNORED_DECLARED = new Set(['us-ascii', 'ascii', 'utf-8', 'utf8']);

/** Whether the bytes hold escape sequences or 8-bit bytes that are not UTF-8. */
function needsRepair(bytes: Uint8Array): boolean {
  if (bytes.includes(ESC)) return true;
  if (!bytes.some((byte) => byte >= 0x80)) return false;
  return decodeStrict(bytes, 'utf-8') === null;
}

/**
 * Where the header section starting at `from` ends: just after the first empty line
 * (RFC 5322 §2.1; a part may start with it, RFC 2046 §5.1.1), or the end of the input.
 */
function headerSectionEnd(raw: Buffer, from: number): number {
  if (raw[from] === 0x0a) return from + 1;
  if (raw[from] === 0x0d && raw[from + 1] === 0x0a) return from + 2;
  const crlf = raw.indexOf('\n\r\n', from);
  const lf = raw.indexOf('\n\n', from);
  if (crlf === -1 && lf === -1) return raw.length;
  if (lf === -1 || (crlf !== -1 && crlf < lf)) return crlf + 3;
  return lf + 2;
}

/**
 * The header sections of the message, first to last: the message's own, then the one after
 * every delimiter line `--<boundary>` (RFC 2046 §5.1.1) of a boundary that some
 * `Content-Type` declares. Only declared boundaries count, so a body line that merely
 * starts with `--` (a signature) is never read as the start of a part.
 */
function headerSections(raw: Buffer, text: string): [number, number][] {
  const sections: [number, number][] = [[0, headerSectionEnd(raw, 0)]];
  const boundaries = new Set(
    [...text.matchAll(/\bboundary\s*=\s*(?:"([^"\r\n]+)"|([^\s;"]+))/gi)].map(
      (match) => match[1] ?? match[2] ?? '',
    ),
  );
  for (const boundary of boundaries) {
    const delimiter = `\n--${boundary}`;
    for (let at = text.indexOf(delimiter); at !== -1; at = text.indexOf(delimiter, at + 1)) {
      const lineEnd = text.indexOf('\n', at + delimiter.length);
      if (lineEnd === -1) break;
      // "--boundary--" closes the multipart; only a bare delimiter line opens a part
      if (!/^[ \t]*\r?$/.test(text.slice(at + delimiter.length, lineEnd))) continue;
      sections.push([lineEnd + 1, headerSectionEnd(raw, lineEnd + 1)]);
    }
  }
  return sections.sort((a, b) => a[0] - b[0]);
}

/**
 * The header section cut into fields, each with its folded continuation lines and line
 * ending, so that joining them gives the input back byte for byte.
 */
function splitFields(head: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  let start = 0;
  let pos = 0;
  while (pos < head.length) {
    const newline = head.indexOf(0x0a, pos);
    const next = newline === -1 ? head.length : newline + 1;
    const following = head[next];
    // RFC 5322 §2.2.3: a line starting with white space continues the field before it
    if (next < head.length && following !== 0x20 && following !== 0x09) {
      fields.push(head.subarray(start, next));
      start = next;
    }
    pos = next;
  }
  if (start < head.length) fields.push(head.subarray(start));
  return fields;
}

/**
 * Chooses between Shift_JIS (CP932) and EUC-JP by which reads as more Japanese text, and
 * falls back to Windows-1252 when neither fits or the Latin reading is as plausible. A
 * fatal decoder rules most wrong choices out: Shift_JIS lead bytes 0x81–0x9F are invalid in
 * EUC-JP, and Latin-1 text seldom forms valid double-byte pairs.
 */
function guessJapaneseOrLatin(bytes: Uint8Array): string {
  const latin = decodeStrict(bytes, 'windows-1252') ?? '';
  let best = latin;
  let bestScore = plausibility(latin);
  for (const label of ['shift_jis', 'euc-jp']) {
    const text = decodeStrict(bytes, label);
    if (text === null) continue;
    const score = plausibility(text);
    // ties go to Japanese: the Latin reading of double-byte text also scores a little
    if (score >= bestScore && (best === latin || score > bestScore)) {
      best = text;
      bestScore = score;
    }
  }
  return best;
}

/**
 * A rough score of how much decoded header text looks like real text: kana, kanji and
 * full-width forms (two bytes each) score two, accented Latin letters and typographic marks
 * (one byte) score one,
 * half-width katakana (what EUC-JP looks like read as Shift_JIS) and replacement characters
 * count against.
 */
function plausibility(text: string): number {
  let score = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x80) continue;
    if (code === 0xfffd) score -= 5;
    else if (code >= 0xff61 && code <= 0xff9f) score -= 1;
    else if (
      (code >= 0x3000 && code <= 0x30ff) ||
      (code >= 0x4e00 && code <= 0x9fff) ||
      (code >= 0xff01 && code <= 0xff5e) ||
      (code >= 0x2460 && code <= 0x24ff) ||
      (code >= 0x3200 && code <= 0x33ff)
    )
      score += 2;
    else if (code >= 0xc0 && code <= 0x17f && code !== 0xd7 && code !== 0xf7) score += 1;
    // Windows-1252's typographic marks: “ ” ‘ ’ – — … € ™ •
    else if ((code >= 0x2010 && code <= 0x203a) || code === 0x20ac || code === 0x2122) score += 1;
  }
  return score;
}
