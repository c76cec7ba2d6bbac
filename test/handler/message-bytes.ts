/**
 * Builds raw test messages byte for byte, in the charsets real clients use. iconv-lite
 * encodes the single- and double-byte charsets; ISO-2022-JP (which iconv-lite cannot
 * encode) is made from EUC-JP, whose two-byte JIS X 0208 codes are the ISO-2022-JP codes
 * with the high bit set (RFC 1468).
 */
import iconv from 'iconv-lite';

/** `text` in `charset` (any name iconv-lite knows, plus `iso-2022-jp`). */
export function encode(text: string, charset: string): Buffer {
  if (charset.toLowerCase() === 'iso-2022-jp') return iso2022jp(text);
  return iconv.encode(text, charset);
}

/** ISO-2022-JP bytes: JIS X 0208 runs between `ESC $ B` and `ESC ( B`, ASCII elsewhere. */
export function iso2022jp(text: string): Buffer {
  const euc = iconv.encode(text, 'euc-jp');
  const out: number[] = [];
  let twoByte = false;
  for (let i = 0; i < euc.length; i++) {
    const byte = euc[i] ?? 0;
    if (byte < 0x80) {
      if (twoByte) out.push(0x1b, 0x28, 0x42);
      twoByte = false;
      out.push(byte);
      continue;
    }
    if (byte === 0x8e || byte === 0x8f) throw new Error('no half-width kana or JIS X 0212 here');
    if (!twoByte) out.push(0x1b, 0x24, 0x42);
    twoByte = true;
    out.push(byte - 0x80, (euc[i + 1] ?? 0) - 0x80);
    i++;
  }
  if (twoByte) out.push(0x1b, 0x28, 0x42);
  return Buffer.from(out);
}

/** An RFC 2047 B-encoded word of `text` in `charset`. */
export function bWord(text: string, charset: string): string {
  return `=?${charset}?B?${encode(text, charset).toString('base64')}?=`;
}

/** An RFC 2047 B-encoded word of raw bytes (to split a character across two words). */
export function bWordOfBytes(bytes: Buffer, charset: string): string {
  return `=?${charset}?B?${bytes.toString('base64')}?=`;
}

/**
 * A message from header lines and a body: strings are ASCII (or UTF-8 when they are not),
 * Buffers go in as they are, so raw 8-bit header bytes can be placed exactly. Lines end
 * in CRLF, as on the wire.
 */
export function message(headers: readonly (string | Buffer)[], body: string | Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const line of headers) {
    parts.push(typeof line === 'string' ? Buffer.from(line, 'utf8') : line, CRLF);
  }
  parts.push(CRLF, typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return Buffer.concat(parts);
}

/** A header line whose value is raw bytes: `Name: <bytes>`. */
export function rawHeader(name: string, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${name}: `, 'ascii'), value]);
}

/** Text with LF line ends as CRLF, for bodies written as template strings. */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

const CRLF = Buffer.from('\r\n', 'ascii');
