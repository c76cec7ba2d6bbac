/**
 * Builders for raw RFC 5322 / MIME messages with exact control of every byte, for the mail
 * handler's test corpus. Everything is CRLF; nothing is normalised behind the caller's back,
 * so a test can write a broken message as deliberately as a correct one.
 *
 * Charsets and encoded words live in `mime-charset.ts` and are re-exported here, so that
 * this is the one module to build messages from.
 */
import { Buffer } from 'node:buffer';
import { encodedWords, encodeText } from './mime-charset.js';

export {
  encodedWord,
  encodedWords,
  encodeText,
  type HeaderTextStyle,
  headerText,
  mailboxAddress,
  type NameStyle,
  splitEncodedWords,
  type WordEncoding,
} from './mime-charset.js';

/** A Content-Transfer-Encoding (RFC 2045 §6.1). */
export type TransferEncoding = '7bit' | '8bit' | 'base64' | 'quoted-printable';

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
