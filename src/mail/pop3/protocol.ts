/**
 * The POP3 wire format without the wire: states, response lines, multi-line answers with
 * dot-unstuffing, the listings of STAT/LIST/UIDL/CAPA and the AUTH command line. Pure code
 * (plus two small stateful buffers) used by the I/O shell in `client.ts` and by its tests.
 *
 * @see https://www.rfc-editor.org/rfc/rfc1939 RFC 1939 (POP3)
 * @see https://www.rfc-editor.org/rfc/rfc2449 RFC 2449 (CAPA, response codes)
 * @see https://www.rfc-editor.org/rfc/rfc5034 RFC 5034 (SASL AUTH)
 */
import { Pop3Error, Pop3ErrorCodes } from './error.js';

/**
 * The session states of RFC 1939 §3, plus `closed` once the connection is gone. Every command
 * names the states it may be sent in and is refused in any other.
 */
export const Pop3State = {
  /** After the greeting, until USER/PASS or AUTH succeeds (RFC 1939 §4). */
  Authorization: 'authorization',
  /** Logged in: STAT, LIST, UIDL, TOP, RETR, DELE, NOOP, RSET (RFC 1939 §5). */
  Transaction: 'transaction',
  /** QUIT sent from the transaction state; the server removes deleted messages (§6). */
  Update: 'update',
  Closed: 'closed',
} as const;

export type Pop3State = (typeof Pop3State)[keyof typeof Pop3State];

/** Bounds on what a server may make the client hold in memory. */
export interface Pop3Limits {
  /** The longest line accepted, in octets without its CRLF. */
  readonly maxLineLength: number;
  /** The largest multi-line answer (a RETR'd message, a LIST), in octets after unstuffing. */
  readonly maxResponseBytes: number;
}

/**
 * Defaults: RFC 1939 §3 limits response lines to 512 octets and RFC 5322 message lines to
 * 1000, but real mail carries longer lines; 64 KiB accepts them and still bounds a hostile
 * server. 64 MiB covers the largest messages Gmail and Exchange Online store.
 */
export const DEFAULT_POP3_LIMITS: Pop3Limits = Object.freeze({
  maxLineLength: 64 * 1024,
  maxResponseBytes: 64 * 1024 * 1024,
});

/** A status line (RFC 1939 §3), with its RFC 2449 §8 response code when there is one. */
export type StatusLine =
  | { readonly kind: 'ok'; readonly code: string | undefined; readonly text: string }
  | { readonly kind: 'err'; readonly code: string | undefined; readonly text: string };

/** What may answer a line of an AUTH exchange: a status, or RFC 5034 §4 `+ [base64]`. */
export type AuthResponseLine =
  | StatusLine
  | { readonly kind: 'continuation'; readonly data: string };

/** RFC 1939 §5 STAT: the maildrop's message count and size in octets. */
export interface DropListing {
  readonly count: number;
  readonly size: number;
}

/** RFC 1939 §5 LIST: one message's number and size in octets. */
export interface ScanListing {
  readonly message: number;
  readonly size: number;
}

/** RFC 1939 §7 UIDL: one message's number and unique-id. */
export interface UniqueIdListing {
  readonly message: number;
  readonly uid: string;
}

/** RFC 2449 §5 CAPA: capability tag (upper case) → its parameters. */
export type Capabilities = ReadonlyMap<string, readonly string[]>;

/**
 * Reads one status line (without CRLF): `+OK` or `-ERR` in upper case (RFC 1939 §3), maybe
 * with an RFC 2449 §8 response code in brackets.
 */
export function parseStatusLine(line: string): StatusLine {
  if (line === '+OK' || line.startsWith('+OK ')) {
    return { kind: 'ok', ...splitCode(line.slice(4)) };
  }
  if (line === '-ERR' || line.startsWith('-ERR ')) {
    return { kind: 'err', ...splitCode(line.slice(5)) };
  }
  throw new Pop3Error(
    Pop3ErrorCodes.PROTOCOL_ERROR,
    `the server's answer is not a POP3 status line: ${quote(line)}`,
  );
}

/**
 * Reads one line of an AUTH exchange: a status line, or a server challenge `+ [base64]`
 * (RFC 5034 §4 `continue-req`; a lone `+` is taken as an empty challenge).
 */
export function parseAuthResponseLine(line: string): AuthResponseLine {
  if (line === '+' || line.startsWith('+ ')) {
    return { kind: 'continuation', data: line.slice(2).trim() };
  }
  return parseStatusLine(line);
}

/** RFC 2449 §8 `resp-level`: printable ASCII except `/` and `]`. */
const RESP_CODE = /^[\x21-\x2e\x30-\x5c\x5e-\x7e]+(?:\/[\x21-\x2e\x30-\x5c\x5e-\x7e]+)*$/;

function splitCode(rest: string): { code: string | undefined; text: string } {
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    const code = end > 0 ? rest.slice(1, end) : '';
    if (RESP_CODE.test(code)) {
      return { code: code.toUpperCase(), text: rest.slice(end + 1).trim() };
    }
  }
  return { code: undefined, text: rest.trim() };
}

/**
 * Whether a refused login is temporary: RFC 3206 §5 `SYS/TEMP`, RFC 2449 §8.1.1 `IN-USE` and
 * §8.1.2 `LOGIN-DELAY`. Anything else (`AUTH`, `SYS/PERM`, no code) is a refusal.
 */
export function isTemporaryLoginFailure(code: string | undefined): boolean {
  return code === 'SYS/TEMP' || code === 'IN-USE' || code === 'LOGIN-DELAY';
}

/**
 * Splits a byte stream into lines. Lines end in CRLF (RFC 1939 §3); a bare LF is accepted as
 * well and the CR dropped. A line over `maxLineLength` fails at once, before it is complete,
 * so a server that never sends LF cannot grow the buffer.
 */
export class LineSplitter {
  readonly #maxLineLength: number;
  #partial: Buffer[] = [];
  #partialLength = 0;
  #lines: Buffer[] = [];
  #head = 0;
  #queuedBytes = 0;

  constructor(maxLineLength: number) {
    this.#maxLineLength = maxLineLength;
  }

  /** Complete lines waiting to be read, in octets as received (line endings counted as 2). */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Whether a complete line is waiting. */
  get hasLine(): boolean {
    return this.#head < this.#lines.length;
  }

  /** Octets received but not returned by `shift()` (complete lines and a partial one). */
  get bufferedBytes(): number {
    return this.#queuedBytes + this.#partialLength;
  }

  /** Adds received octets; throws `response_too_large` when a line is over the limit. */
  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(0x0a, start);
      if (lf === -1) break;
      this.#complete(chunk.subarray(start, lf));
      start = lf + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.#partial.push(rest);
      this.#partialLength += rest.length;
      // +1: the CR of a CRLF that has not arrived whole yet.
      if (this.#partialLength > this.#maxLineLength + 1) this.#tooLong();
    }
  }

  /** The next complete line without its line ending, or undefined. */
  shift(): Buffer | undefined {
    if (this.#head >= this.#lines.length) return undefined;
    const line = this.#lines[this.#head]!;
    this.#head += 1;
    this.#queuedBytes -= line.length + 2;
    if (this.#head === this.#lines.length) {
      this.#lines = [];
      this.#head = 0;
    }
    return line;
  }

  #complete(tail: Buffer): void {
    let line = tail;
    if (this.#partial.length > 0) {
      this.#partial.push(tail);
      line = Buffer.concat(this.#partial, this.#partialLength + tail.length);
      this.#partial = [];
      this.#partialLength = 0;
    }
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
    if (line.length > this.#maxLineLength) this.#tooLong();
    this.#lines.push(line);
    this.#queuedBytes += line.length + 2;
  }

  #tooLong(): never {
    throw new Pop3Error(
      Pop3ErrorCodes.RESPONSE_TOO_LARGE,
      `the server sent a line longer than ${this.#maxLineLength} octets`,
    );
  }
}

/**
 * Collects the lines of a multi-line answer (RFC 1939 §3): a line of a single `.` ends it, a
 * line starting with `.` loses that first octet ("byte-stuffing"). The lines are copied into
 * one growing buffer, CRLF after each, so memory is the answer's size (bounded by
 * `maxResponseBytes`) and not one object per line: a flood of empty lines costs 2 octets each.
 */
export class MultilineCollector {
  readonly #maxBytes: number;
  #buffer: Buffer = Buffer.alloc(0);
  #bytes = 0;
  #done = false;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Adds one received line (without CRLF); returns true when it was the terminating `.`. */
  push(line: Buffer): boolean {
    if (this.#done) {
      throw new Pop3Error(Pop3ErrorCodes.PROTOCOL_ERROR, 'a line after the terminating "."');
    }
    const unstuffed = unstuffLine(line);
    if (unstuffed === undefined) {
      this.#done = true;
      return true;
    }
    const end = this.#bytes + unstuffed.length + 2;
    if (end > this.#maxBytes) {
      throw new Pop3Error(
        Pop3ErrorCodes.RESPONSE_TOO_LARGE,
        `the server's multi-line answer is larger than ${this.#maxBytes} octets`,
      );
    }
    if (end > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(
        Math.min(this.#maxBytes, Math.max(end, this.#buffer.length * 2, 4096)),
      );
      this.#buffer.copy(grown, 0, 0, this.#bytes);
      this.#buffer = grown;
    }
    unstuffed.copy(this.#buffer, this.#bytes);
    this.#buffer[end - 2] = 0x0d;
    this.#buffer[end - 1] = 0x0a;
    this.#bytes = end;
    return false;
  }

  /** The lines received, unstuffed, without their CRLF (lines hold no LF, so CRLF splits). */
  lines(): Buffer[] {
    const lines: Buffer[] = [];
    const all = this.toBuffer();
    for (let start = 0; start < all.length; ) {
      const lf = all.indexOf(0x0a, start);
      lines.push(all.subarray(start, lf - 1));
      start = lf + 1;
    }
    return lines;
  }

  /** The answer as octets, every line ending in CRLF: a message exactly as the server holds it. */
  toBuffer(): Buffer {
    return Buffer.from(this.#buffer.subarray(0, this.#bytes));
  }
}

/**
 * RFC 1939 §3 byte-stuffing undone for one line: undefined for the terminating `.`, the line
 * without its first octet when that is `.`, else the line itself.
 */
export function unstuffLine(line: Buffer): Buffer | undefined {
  if (line.length === 0 || line[0] !== 0x2e) return line;
  if (line.length === 1) return undefined;
  return line.subarray(1);
}

/** RFC 1939 §5 STAT answer text: `nn mm` (more text may follow after a space). */
export function parseDropListing(text: string): DropListing {
  const match = /^(\d+) (\d+)(?: .*)?$/.exec(text);
  if (!match) throw malformed('STAT', text);
  return { count: toNumber(match[1]!, 'STAT', text), size: toNumber(match[2]!, 'STAT', text) };
}

/** RFC 1939 §5 scan listing: `msg size` (more text may follow after a space). */
export function parseScanListing(line: string): ScanListing {
  const match = /^(\d+) (\d+)(?: .*)?$/.exec(line);
  if (!match) throw malformed('LIST', line);
  return {
    message: toMessageNumber(match[1]!, 'LIST', line),
    size: toNumber(match[2]!, 'LIST', line),
  };
}

/** RFC 1939 §7 unique-id listing: `msg uid`, the uid 1 to 70 characters from 0x21 to 0x7E. */
export function parseUniqueIdListing(line: string): UniqueIdListing {
  const match = /^(\d+) ([\x21-\x7e]{1,70})$/.exec(line);
  if (!match) throw malformed('UIDL', line);
  return { message: toMessageNumber(match[1]!, 'UIDL', line), uid: match[2]! };
}

/** RFC 2449 §5 CAPA lines: `tag *(SP param)`; tags are case-insensitive, kept upper case. */
export function parseCapabilities(lines: readonly string[]): Capabilities {
  const capabilities = new Map<string, readonly string[]>();
  for (const line of lines) {
    const [tag, ...params] = line.split(' ').filter((word) => word.length > 0);
    if (!tag || !/^[\x21-\x7e]+$/.test(tag)) throw malformed('CAPA', line);
    capabilities.set(tag.toUpperCase(), Object.freeze(params));
  }
  return capabilities;
}

/** The longest command line, CRLF included (RFC 2449 §4). */
export const MAX_COMMAND_LENGTH = 255;

/**
 * One command line with its CRLF. Arguments may not contain CR, LF or NUL (they would start
 * another command), and the line may not exceed 255 octets (RFC 2449 §4).
 */
export function formatCommand(verb: string, ...args: readonly string[]): string {
  for (const arg of args) {
    if (/[\r\n\0]/.test(arg)) {
      throw new Pop3Error(
        Pop3ErrorCodes.INVALID_ARGUMENT,
        `an argument of ${verb} contains CR, LF or NUL`,
        { command: verb },
      );
    }
  }
  const line = `${[verb, ...args].join(' ')}\r\n`;
  if (Buffer.byteLength(line) > MAX_COMMAND_LENGTH) {
    throw new Pop3Error(
      Pop3ErrorCodes.INVALID_ARGUMENT,
      `the ${verb} command would be longer than ${MAX_COMMAND_LENGTH} octets (RFC 2449 §4)`,
      { command: verb },
    );
  }
  return line;
}

/**
 * The AUTH command (RFC 5034 §4) for a client-first mechanism: with the initial response on
 * the command line when the line fits 255 octets, else without it — the response then goes
 * after the server's empty `+ ` challenge (`pendingResponse`). An empty response is sent as
 * `=`. Access tokens are often over 1,000 characters (Microsoft's), so the second form is the
 * usual one with real providers.
 */
export function authCommand(
  mechanism: string,
  response: string,
  useInitialResponse = true,
): { readonly line: string; readonly pendingResponse: string | undefined } {
  const encoded = response === '' ? '=' : response;
  const withResponse = `AUTH ${mechanism} ${encoded}\r\n`;
  if (useInitialResponse && withResponse.length <= MAX_COMMAND_LENGTH) {
    return { line: withResponse, pendingResponse: undefined };
  }
  return { line: `AUTH ${mechanism}\r\n`, pendingResponse: response };
}

function toNumber(digits: string, command: string, line: string): number {
  const value = Number(digits);
  if (!Number.isSafeInteger(value)) throw malformed(command, line);
  return value;
}

function toMessageNumber(digits: string, command: string, line: string): number {
  const value = toNumber(digits, command, line);
  if (value < 1) throw malformed(command, line);
  return value;
}

function malformed(command: string, line: string): Pop3Error {
  return new Pop3Error(
    Pop3ErrorCodes.PROTOCOL_ERROR,
    `malformed ${command} answer from the server: ${quote(line)}`,
    { command },
  );
}

/** A server's line quoted for an error message: bounded, control characters escaped. */
export function quote(line: string): string {
  const shown = line.length > 120 ? `${line.slice(0, 120)}…` : line;
  return JSON.stringify(shown);
}
