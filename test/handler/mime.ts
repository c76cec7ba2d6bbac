/**
 * Builders for raw RFC 5322 / MIME messages with exact control of every byte, for the mail
 * handler's test corpus. Everything is CRLF; nothing is normalised behind the caller's back,
 * so a test can write a broken message as deliberately as a correct one.
 *
 * Charsets are encoded with iconv-lite (the library mailparser decodes with), except
 * ISO-2022-JP, which iconv-lite cannot encode: it is built here from iconv-lite's EUC-JP
 * bytes, the way Windows mailers write it (CP50220: NEC row 13 and the IBM extensions kept in
 * their JIS rows, no half-width katakana).
 */
import { Buffer } from 'node:buffer';
import iconv from 'iconv-lite';

/** A Content-Transfer-Encoding (RFC 2045 §6.1). */
export type TransferEncoding = '7bit' | '8bit' | 'base64' | 'quoted-printable';

/** The two encodings of an RFC 2047 encoded word. */
export type WordEncoding = 'B' | 'Q';

/**
 * One header field as it goes on the wire, `name: value`. A string value is written as is
 * (already encoded, already folded with CRLF SP where long); a Buffer value carries raw bytes,
 * for the 8-bit headers real mail has.
 */
export interface HeaderField {
  readonly name: string;
  readonly value: string | Buffer;
}

/** A MIME entity: its header fields and its body, already transfer-encoded. */
export interface Entity {
  readonly headers: readonly HeaderField[];
  readonly body: Buffer;
}

export const CRLF = '\r\n';

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

/** Applies a Content-Transfer-Encoding to bytes whose lines already end in CRLF. */
export function encodeTransfer(bytes: Buffer, encoding: TransferEncoding): Buffer {
  switch (encoding) {
    case 'base64':
      return Buffer.from(`${wrap(bytes.toString('base64'), 76).join(CRLF)}${CRLF}`, 'latin1');
    case 'quoted-printable':
      return Buffer.from(quotedPrintable(bytes), 'latin1');
    case '7bit':
      if (bytes.some((byte) => byte >= 0x80)) throw new Error('7bit body with 8-bit bytes');
      return bytes;
    case '8bit':
      return bytes;
  }
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (let at = 0; at < text.length; at += width) lines.push(text.slice(at, at + width));
  return lines;
}

/** RFC 2045 §6.7: hard line breaks kept, soft breaks (`=` CRLF) keep lines within 76. */
function quotedPrintable(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  const lines = text.split(CRLF);
  const out = lines.map((line) => {
    const tokens: string[] = [];
    for (let i = 0; i < line.length; i++) {
      const code = line.charCodeAt(i);
      const last = i === line.length - 1;
      const literal =
        (code >= 33 && code <= 126 && code !== 61) || ((code === 32 || code === 9) && !last);
      tokens.push(literal ? line[i]! : `=${code.toString(16).toUpperCase().padStart(2, '0')}`);
    }
    const wrapped: string[] = [];
    let current = '';
    for (const token of tokens) {
      if (current.length + token.length > 75) {
        wrapped.push(`${current}=`);
        current = '';
      }
      current += token;
    }
    wrapped.push(current);
    return wrapped.join(CRLF);
  });
  return out.join(CRLF);
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

/** Options of a text part. */
export interface TextPartOptions {
  readonly text: string;
  readonly subtype?: 'plain' | 'html';
  readonly charset: string;
  /** The charset name written in Content-Type when it differs from the encoding used. */
  readonly charsetLabel?: string;
  readonly transferEncoding: TransferEncoding;
  /** Write `format=flowed` (RFC 3676), with `delsp=yes` for text without spaces to break at. */
  readonly flowed?: { readonly delSp: boolean; readonly width: number };
}

/** A text/plain or text/html part. */
export function textPart(options: TextPartOptions): Entity {
  const label = options.charsetLabel ?? options.charset;
  const text = options.flowed ? flow(options.text, options.flowed) : options.text;
  let params = `charset="${label}"`;
  if (options.flowed) params += `; format=flowed${options.flowed.delSp ? '; delsp=yes' : ''}`;
  return {
    headers: [
      { name: 'Content-Type', value: `text/${options.subtype ?? 'plain'}; ${params}` },
      { name: 'Content-Transfer-Encoding', value: options.transferEncoding },
    ],
    body: encodeTransfer(encodeText(text, options.charset), options.transferEncoding),
  };
}

/**
 * Format=flowed (RFC 3676 §4): long unquoted lines broken with a trailing space, at a space,
 * or anywhere with DelSp (the space added then is deleted on reading). Quoted lines and the
 * signature separator are left as they are.
 */
function flow(text: string, options: { readonly delSp: boolean; readonly width: number }): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '-- ' || line.startsWith('>')) {
      out.push(line);
      continue;
    }
    const stuffed = line.startsWith(' ') || line.startsWith('From ') ? ` ${line}` : line;
    let rest = stuffed.replace(/ +$/, '');
    while ([...rest].length > options.width) {
      const chars = [...rest];
      if (options.delSp) {
        out.push(`${chars.slice(0, options.width).join('')} `);
        rest = chars.slice(options.width).join('');
        continue;
      }
      const cut = rest.lastIndexOf(' ', options.width);
      if (cut <= 0) break;
      out.push(rest.slice(0, cut + 1));
      rest = rest.slice(cut + 1);
    }
    out.push(rest);
  }
  return out.join('\n');
}

/** How an attachment's file name is written. */
export type FilenameStyle =
  /** `filename="…"`, ASCII only. */
  | 'plain'
  /** RFC 2231 `filename*=UTF-8''…` (Thunderbird, Apple Mail). */
  | 'rfc2231'
  /** RFC 2231 continuations `filename*0*=…; filename*1*=…`. */
  | 'rfc2231-continued'
  /** Encoded words inside the quoted string (Outlook, Gmail, Japanese mailers). */
  | 'encoded-word'
  /** The name's raw bytes in the quoted string (8-bit). */
  | 'raw';

/** Options of an attachment part. */
export interface AttachmentOptions {
  readonly filename: string;
  readonly contentType: string;
  readonly content: Buffer;
  readonly style: FilenameStyle;
  /** The charset of the name for rfc2231, encoded-word and raw; UTF-8 unless given. */
  readonly charset?: string;
  /** Whether Content-Type carries `name=` too, as most mailers write. */
  readonly nameParam?: boolean;
}

/** An attachment, base64, with Content-Disposition: attachment (RFC 2183). */
export function attachmentPart(options: AttachmentOptions): Entity {
  const charset = options.charset ?? 'UTF-8';
  const param = filenameParam(options.filename, options.style, charset);
  if (Buffer.isBuffer(param)) {
    return {
      headers: [
        { name: 'Content-Type', value: options.contentType },
        {
          name: 'Content-Disposition',
          value: Buffer.concat([Buffer.from('attachment; filename="'), param, Buffer.from('"')]),
        },
        { name: 'Content-Transfer-Encoding', value: 'base64' },
      ],
      body: encodeTransfer(options.content, 'base64'),
    };
  }
  const type = options.nameParam
    ? `${options.contentType};${CRLF} ${param.replace(/(^|; )filename/gm, '$1name')}`
    : options.contentType;
  return {
    headers: [
      { name: 'Content-Type', value: type },
      { name: 'Content-Disposition', value: `attachment;${CRLF} ${param}` },
      { name: 'Content-Transfer-Encoding', value: 'base64' },
    ],
    body: encodeTransfer(options.content, 'base64'),
  };
}

function filenameParam(filename: string, style: FilenameStyle, charset: string): string | Buffer {
  switch (style) {
    case 'plain':
      if (/[^\x20-\x7e"\\]/.test(filename)) throw new Error(`not a plain file name: ${filename}`);
      return `filename="${filename}"`;
    case 'rfc2231':
      return `filename*=${charset}''${percentEncode(encodeText(filename, charset))}`;
    case 'rfc2231-continued': {
      const pieces = wrap(percentEncode(encodeText(filename, charset)), 30)
        // never cut a %XX triple
        .reduce<string[]>((acc, piece) => {
          const last = acc.at(-1);
          const carry = last !== undefined ? /%[0-9A-F]?$/.exec(last)?.[0] : undefined;
          if (last !== undefined && carry) acc[acc.length - 1] = last.slice(0, -carry.length);
          acc.push((carry ?? '') + piece);
          return acc;
        }, []);
      return pieces
        .map((piece, i) => `filename*${i}*=${i === 0 ? `${charset}''` : ''}${piece}`)
        .join(`;${CRLF} `);
    }
    case 'encoded-word':
      return `filename="${encodedWords(filename, charset, 'B').join(' ')}"`;
    case 'raw':
      return encodeText(filename, charset);
  }
}

/** RFC 2231 §4 / RFC 5987 attr-char: everything else as %XX. */
function percentEncode(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9!#$&+\-.^_`|~]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Options of a multipart entity. */
export interface MultipartOptions {
  readonly boundary: string;
  /** More Content-Type parameters, e.g. `report-type=delivery-status`. */
  readonly params?: string;
  readonly preamble?: string;
  /** Leave out the close delimiter `--boundary--` (broken, yet readable). */
  readonly unterminated?: boolean;
}

/** A multipart entity (RFC 2046 §5.1): the parts between boundary delimiters. */
export function multipart(
  subtype: string,
  parts: readonly Entity[],
  options: MultipartOptions,
): Entity {
  const chunks: Buffer[] = [];
  if (options.preamble !== undefined) chunks.push(Buffer.from(`${options.preamble}${CRLF}`));
  for (const part of parts) {
    chunks.push(
      Buffer.from(`--${options.boundary}${CRLF}`),
      serializeEntity(part),
      Buffer.from(CRLF),
    );
  }
  if (!options.unterminated) chunks.push(Buffer.from(`--${options.boundary}--${CRLF}`));
  const params = options.params ? `; ${options.params}` : '';
  return {
    headers: [
      {
        name: 'Content-Type',
        value: `multipart/${subtype};${CRLF} boundary="${options.boundary}"${params}`,
      },
    ],
    body: Buffer.concat(chunks),
  };
}

/** A message/rfc822 part carrying a whole message (RFC 2046 §5.2.1). */
export function messagePart(raw: Buffer, filename?: string): Entity {
  const headers: HeaderField[] = [{ name: 'Content-Type', value: 'message/rfc822' }];
  if (filename !== undefined) {
    headers.push({ name: 'Content-Disposition', value: `attachment; filename="${filename}"` });
  }
  return { headers, body: raw };
}

/** Any part from its header fields and its body text, 7bit. */
export function rawPart(headers: readonly HeaderField[], body: string): Entity {
  return { headers, body: Buffer.from(body.replace(/\r?\n/g, CRLF), 'latin1') };
}

/** An entity's header fields, an empty line, and its body. */
export function serializeEntity(entity: Entity): Buffer {
  return Buffer.concat([...entity.headers.map(serializeHeader), Buffer.from(CRLF), entity.body]);
}

/** A whole message: the message's own header fields, then the entity's, then its body. */
export function buildMessage(headers: readonly HeaderField[], entity: Entity): Buffer {
  return serializeEntity({ headers: [...headers, ...entity.headers], body: entity.body });
}

function serializeHeader(field: HeaderField): Buffer {
  const value = Buffer.isBuffer(field.value) ? field.value : Buffer.from(field.value, 'latin1');
  if (!Buffer.isBuffer(field.value) && /[^\p{ASCII}]/u.test(field.value)) {
    throw new Error(`header ${field.name} has non-ASCII text; pass raw bytes as a Buffer`);
  }
  return Buffer.concat([Buffer.from(`${field.name}: `), value, Buffer.from(CRLF)]);
}
