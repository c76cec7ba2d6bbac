/**
 * Text in a charset, for bodies and headers: iconv-lite for every charset it can encode, and
 * ISO-2022-JP built here (iconv-lite cannot encode it) from iconv-lite's EUC-JP bytes, the way
 * Windows mailers write it (CP50220: NEC row 13 and the IBM extensions kept in their JIS rows,
 * no half-width katakana). Then RFC 2047 encoded words, correct and deliberately broken, header
 * text and display names in the styles mailers write them.
 */
import { Buffer } from 'node:buffer';
import iconv from 'iconv-lite';

const CRLF = '\r\n';

/** The two encodings of an RFC 2047 encoded word. */
export type WordEncoding = 'B' | 'Q';

/**
 * Encodes text in a charset, with LF turned into CRLF. Throws when the charset cannot carry
 * the text exactly (iconv-lite would write `?`), so a corpus never asserts on text that was
 * lost while it was being built.
 */
export function encodeText(text: string, charset: string): Buffer {
  const crlf = text.replace(/\r?\n/g, CRLF);
  if (/^iso-?2022-?jp$/i.test(charset)) return encodeIso2022Jp(crlf);
  if (/^(us-)?ascii$/i.test(charset)) {
    if (/[^\p{ASCII}]/u.test(crlf)) throw new Error(`text is not ASCII: ${crlf.slice(0, 40)}`);
    return Buffer.from(crlf, 'latin1');
  }
  const bytes = iconv.encode(crlf, charset);
  if (iconv.decode(bytes, charset) !== crlf) {
    throw new Error(`${charset} cannot carry the text exactly: ${crlf.slice(0, 40)}`);
  }
  return bytes;
}

/**
 * ISO-2022-JP (RFC 1468): ASCII and JIS X 0208 switched by escape sequences, back to ASCII
 * before every line end and at the end. JIS bytes are EUC-JP bytes minus 0x80.
 */
function encodeIso2022Jp(text: string): Buffer {
  const out: number[] = [];
  let jis = false;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x80) {
      if (jis) out.push(0x1b, 0x28, 0x42);
      jis = false;
      out.push(code);
      continue;
    }
    const euc = iconv.encode(char, 'euc-jp');
    const [first = 0, second = 0] = euc;
    if (euc.length !== 2 || first < 0xa1 || second < 0xa1 || iconv.decode(euc, 'euc-jp') !== char) {
      throw new Error(`ISO-2022-JP cannot carry ${JSON.stringify(char)}`);
    }
    if (!jis) out.push(0x1b, 0x24, 0x42);
    jis = true;
    out.push(first - 0x80, second - 0x80);
  }
  if (jis) out.push(0x1b, 0x28, 0x42);
  return Buffer.from(out);
}

/**
 * The text as RFC 2047 encoded words, each self-contained (whole characters, ISO-2022-JP
 * back in ASCII at its end) and at most 75 characters long, to be joined by folding
 * whitespace, which a decoder removes between adjacent words.
 */
export function encodedWords(text: string, charset: string, encoding: WordEncoding): string[] {
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    const candidate = chunk + char;
    if (
      chunk !== '' &&
      encodedWord(encodeText(candidate, charset), charset, encoding).length > 75
    ) {
      words.push(encodedWord(encodeText(chunk, charset), charset, encoding));
      chunk = char;
    } else {
      chunk = candidate;
    }
  }
  if (chunk !== '') words.push(encodedWord(encodeText(chunk, charset), charset, encoding));
  return words;
}

/**
 * A broken sequence that real mailers write: the text's bytes cut into two encoded words at
 * byte `at`, in the middle of a character. RFC 2047 §5 forbids it; decoders that join
 * adjacent words of one charset before decoding still read it.
 */
export function splitEncodedWords(
  text: string,
  charset: string,
  encoding: WordEncoding,
  at: number,
): string[] {
  const bytes = encodeText(text, charset);
  return [
    encodedWord(bytes.subarray(0, at), charset, encoding),
    encodedWord(bytes.subarray(at), charset, encoding),
  ];
}

/** One encoded word over bytes already in the charset (RFC 2047 §4). */
export function encodedWord(bytes: Buffer, charset: string, encoding: WordEncoding): string {
  if (encoding === 'B') return `=?${charset}?B?${bytes.toString('base64')}?=`;
  let q = '';
  for (const byte of bytes) {
    if (byte === 0x20) q += '_';
    else if (/[A-Za-z0-9!*+\-/]/.test(String.fromCharCode(byte))) q += String.fromCharCode(byte);
    else q += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `=?${charset}?Q?${q}?=`;
}

/** How header text is written. */
export type HeaderTextStyle =
  /** ASCII text as is, folded at spaces; non-ASCII text is an error. */
  | { readonly kind: 'ascii' }
  /** All of the text as encoded words. */
  | { readonly kind: 'words'; readonly charset: string; readonly encoding: WordEncoding }
  /** A leading ASCII run (`Re: `) as is, the rest as encoded words, as most mailers do. */
  | { readonly kind: 'mixed'; readonly charset: string; readonly encoding: WordEncoding }
  /** Two encoded words cut mid-character at byte `at` (broken). */
  | {
      readonly kind: 'split';
      readonly charset: string;
      readonly encoding: WordEncoding;
      readonly at: number;
    }
  /** Raw bytes of the text in a charset, no encoding (8-bit header, broken or RFC 6532). */
  | { readonly kind: 'raw'; readonly charset: string };

/** Header text in a style; the value of a Subject field or a display name. */
export function headerText(text: string, style: HeaderTextStyle): string | Buffer {
  switch (style.kind) {
    case 'ascii':
      if (/[^\x20-\x7e]/.test(text)) throw new Error(`not printable ASCII: ${text}`);
      return foldAtSpaces(text);
    case 'words':
      return encodedWords(text, style.charset, style.encoding).join(`${CRLF} `);
    case 'mixed': {
      const cut = asciiPrefixLength(text);
      if (cut === text.length) return foldAtSpaces(text);
      const words = encodedWords(text.slice(cut), style.charset, style.encoding);
      return `${text.slice(0, cut)}${words.join(`${CRLF} `)}`;
    }
    case 'split':
      return splitEncodedWords(text, style.charset, style.encoding, style.at).join(`${CRLF} `);
    case 'raw':
      return encodeText(text, style.charset);
  }
}

/** The length of the leading ASCII words of the text, up to and including a space. */
function asciiPrefixLength(text: string): number {
  const match = /^(?:[\x21-\x7e]+ )+/.exec(text);
  if (match === null) return 0;
  const prefix = match[0];
  return /[^\p{ASCII}]/u.test(text.slice(prefix.length)) ? prefix.length : text.length;
}

/** Folds ASCII header text at spaces so that no line passes 78 characters (RFC 5322 §2.2.3). */
function foldAtSpaces(text: string): string {
  const words = text.split(' ');
  let out = '';
  let line = 0;
  for (const [i, word] of words.entries()) {
    if (i > 0 && line + 1 + word.length > 66) {
      out += `${CRLF} ${word}`;
      line = word.length + 1;
    } else {
      out += i === 0 ? word : ` ${word}`;
      line += word.length + (i === 0 ? 0 : 1);
    }
  }
  return out;
}

/** How a display name is written in an address header. */
export type NameStyle =
  | HeaderTextStyle
  | { readonly kind: 'quoted-words'; readonly charset: string };

/**
 * An address (`name-addr` of RFC 5322 §3.4): the display name quoted when it has specials,
 * encoded as the style says; a bare address when the name is empty. `quoted-words` puts
 * encoded words inside a quoted string, which RFC 2047 §5 forbids and Outlook writes.
 */
export function mailboxAddress(name: string, address: string, style: NameStyle): string | Buffer {
  if (name === '') return address;
  if (style.kind === 'quoted-words') {
    return `"${encodedWords(name, style.charset, 'B').join(' ')}" <${address}>`;
  }
  if (style.kind === 'ascii') {
    const phrase = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(name)
      ? name
      : `"${name.replace(/["\\]/g, '\\$&')}"`;
    return `${phrase} <${address}>`;
  }
  const encoded = headerText(name, style);
  if (Buffer.isBuffer(encoded)) return Buffer.concat([encoded, Buffer.from(` <${address}>`)]);
  return `${encoded} <${address}>`;
}
