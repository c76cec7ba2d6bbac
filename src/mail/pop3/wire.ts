/**
 * The POP3 client's sockets: TCP connect and TLS with timeouts, and a line reader with bounded
 * memory and a timeout on every wait. The only file of the POP3 client that touches the network.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import type { AddressGuard } from '../../net/address-guard.js';
import { Pop3Error, Pop3ErrorCodes } from './error.js';
import {
  type AuthResponseLine,
  type Capabilities,
  formatCommand,
  LineSplitter,
  MultilineCollector,
  parseAuthResponseLine,
  parseCapabilities,
  parseStatusLine,
  type StatusLine,
} from './protocol.js';

/**
 * Above this many octets of received, unread lines the socket is paused until the reader
 * catches up: a server sending faster than the client reads cannot fill memory.
 */
const HIGH_WATER_MARK = 1024 * 1024;

/**
 * How the connection is protected: `tls` is implicit TLS from the first byte (port 995,
 * RFC 8314 §3.3); `starttls` upgrades with STLS (RFC 2595 §4) and fails if the server cannot;
 * `none` is plain text, for an administrator's explicit choice only.
 */
export type Pop3Security = 'tls' | 'starttls' | 'none';

/** Options with every default filled in. */
export interface Pop3Settings {
  readonly host: string;
  readonly port: number;
  readonly security: Pop3Security;
  readonly servername: string | undefined;
  readonly ca: string | readonly string[] | undefined;
  readonly connectTimeoutMs: number;
  readonly tlsTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly maxLineLength: number;
  readonly maxResponseBytes: number;
}

/**
 * Opens a TCP connection through `guard` (a refused address literal or resolved address fails
 * before connecting); `connect_failed` or `timeout`.
 */
export function openTcp(
  host: string,
  port: number,
  timeoutMs: number,
  guard: AddressGuard,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    try {
      guard.assertHost(host);
    } catch (error) {
      reject(
        new Pop3Error(
          Pop3ErrorCodes.CONNECT_FAILED,
          `cannot connect to ${host}:${port}: ${(error as Error).message}`,
          { cause: error },
        ),
      );
      return;
    }
    const socket = connectTcp({ host, port, lookup: guard.lookup });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Pop3Error(
          Pop3ErrorCodes.TIMEOUT,
          `connecting to ${host}:${port} took longer than ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new Pop3Error(
          Pop3ErrorCodes.CONNECT_FAILED,
          `cannot connect to ${host}:${port}: ${error.message}`,
          { cause: error },
        ),
      );
    });
  });
}

/**
 * Runs a TLS handshake over a connected socket (implicit TLS, or after STLS), verifying the
 * certificate against `ca` or Node's roots and the host name; `tls_failed` or `timeout`.
 */
export function startTls(socket: Socket, settings: Pop3Settings): Promise<TLSSocket> {
  const { host, port, tlsTimeoutMs } = settings;
  return new Promise((resolve, reject) => {
    const tls = connectTls({
      socket,
      host,
      ...(settings.servername ? { servername: settings.servername } : {}),
      ...(settings.ca
        ? { ca: typeof settings.ca === 'string' ? settings.ca : [...settings.ca] }
        : {}),
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
    });
    const timer = setTimeout(() => {
      tls.destroy();
      reject(
        new Pop3Error(
          Pop3ErrorCodes.TIMEOUT,
          `the TLS handshake with ${host}:${port} took longer than ${tlsTimeoutMs} ms`,
        ),
      );
    }, tlsTimeoutMs);
    tls.once('secureConnect', () => {
      clearTimeout(timer);
      tls.removeAllListeners('error');
      resolve(tls);
    });
    tls.once('error', (error) => {
      clearTimeout(timer);
      tls.destroy();
      reject(
        new Pop3Error(
          Pop3ErrorCodes.TLS_FAILED,
          `TLS with ${host}:${port} failed: ${tlsReason(error)}`,
          { cause: error },
        ),
      );
    });
  });
}

/**
 * OpenSSL's short reason (`wrong version number`) instead of its full error string (library,
 * source file and line); certificate errors keep Node's message.
 */
function tlsReason(error: Error): string {
  const { code, reason } = error as Error & { code?: unknown; reason?: unknown };
  const fromOpenSsl = typeof code === 'string' && code.startsWith('ERR_SSL_');
  return fromOpenSsl && typeof reason === 'string' && reason.length > 0 ? reason : error.message;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Pop3Error) => void;
}

/**
 * One connection's line reader and writer. The first failure (server closed, socket error,
 * timeout, oversized line, or a protocol error reported with `fail`) breaks the wire for good:
 * the socket is destroyed and every later read gets that error.
 */
export class Wire {
  readonly settings: Pop3Settings;
  readonly #socket: Socket;
  readonly #splitter: LineSplitter;
  #waiter: Waiter | undefined;
  #failure: Pop3Error | undefined;
  #paused = false;
  #detached = false;
  #onBroken: (() => void) | undefined;

  constructor(socket: Socket, settings: Pop3Settings) {
    this.settings = settings;
    this.#socket = socket;
    this.#splitter = new LineSplitter(settings.maxLineLength);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
  }

  /** Whether TLS protects this connection. */
  get secure(): boolean {
    return 'encrypted' in this.#socket && this.#socket.encrypted === true;
  }

  get broken(): boolean {
    return this.#failure !== undefined;
  }

  /** The failure that broke the wire, if any. */
  get brokenBy(): Pop3Error | undefined {
    return this.#failure;
  }

  /** Called once when the wire breaks. */
  onBroken(listener: () => void): void {
    this.#onBroken = listener;
  }

  /**
   * The next line (without CRLF). Waits at most `commandTimeoutMs` for data to arrive; a
   * silent server is a `timeout`, after which the connection is closed.
   */
  async readLine(command: string): Promise<Buffer> {
    for (;;) {
      const line = this.#splitter.shift();
      if (line) {
        if (this.#paused && this.#splitter.queuedBytes < HIGH_WATER_MARK / 2) {
          this.#paused = false;
          this.#socket.resume();
        }
        return line;
      }
      if (this.#failure) throw this.#failure;
      await this.#wait(command);
    }
  }

  write(text: string): void {
    if (this.#failure) throw this.#failure;
    this.#socket.write(text);
  }

  /**
   * Hands the socket over for a TLS upgrade (RFC 2595 §4). Anything the server sent after its
   * `+OK` to STLS arrived in plain text and could have been injected by an attacker: refused.
   */
  detach(): Socket {
    if (this.#splitter.bufferedBytes > 0) {
      throw this.fail(
        new Pop3Error(
          Pop3ErrorCodes.PROTOCOL_ERROR,
          'the server sent data after its +OK to STLS, before TLS started',
          { command: 'STLS' },
        ),
      );
    }
    this.#detached = true;
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    this.#socket.off('error', this.#onError);
    // From here on the TLS socket that wraps this one reports its errors.
    this.#socket.on('error', () => undefined);
    return this.#socket;
  }

  /** Breaks the wire with `error` (wrapped as a protocol error if it is no Pop3Error). */
  fail(error: unknown): Pop3Error {
    const failure =
      error instanceof Pop3Error
        ? error
        : new Pop3Error(Pop3ErrorCodes.PROTOCOL_ERROR, String(error), { cause: error });
    if (!this.#failure) {
      this.#failure = failure;
      this.#socket.destroy();
      this.#onBroken?.();
    }
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#failure);
    return failure;
  }

  /** Closes the connection; later reads fail with `connection_closed`. */
  destroy(): void {
    this.fail(new Pop3Error(Pop3ErrorCodes.CONNECTION_CLOSED, 'the session was closed'));
  }

  #wait(command: string): Promise<void> {
    const timeoutMs = this.settings.commandTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          new Pop3Error(Pop3ErrorCodes.TIMEOUT, `no answer to ${command} within ${timeoutMs} ms`, {
            command,
          }),
        );
      }, timeoutMs);
      this.#waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  readonly #onData = (chunk: Buffer): void => {
    try {
      this.#splitter.push(chunk);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (!this.#paused && this.#splitter.queuedBytes > HIGH_WATER_MARK) {
      this.#paused = true;
      this.#socket.pause();
    }
    // Only a complete line restarts the command timeout: a server trickling the octets of
    // one endless line is as stuck as a silent one.
    if (!this.#splitter.hasLine) return;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve();
  };

  readonly #onEnd = (): void => {
    if (this.#detached) return;
    this.fail(new Pop3Error(Pop3ErrorCodes.CONNECTION_CLOSED, 'the server closed the connection'));
  };

  readonly #onError = (error: Error): void => {
    this.fail(
      new Pop3Error(Pop3ErrorCodes.CONNECTION_CLOSED, `connection lost: ${error.message}`, {
        cause: error,
      }),
    );
  };
}

/** The next status line (RFC 1939 §3); a malformed one breaks the wire. */
export async function readStatus(wire: Wire, command: string): Promise<StatusLine> {
  return parseWith(wire, command, parseStatusLine);
}

/** The next line of an AUTH exchange (RFC 5034 §4). */
export async function readAuthResponse(wire: Wire): Promise<AuthResponseLine> {
  return parseWith(wire, 'AUTH', parseAuthResponseLine);
}

async function parseWith<T>(wire: Wire, command: string, parse: (line: string) => T): Promise<T> {
  const line = await wire.readLine(command);
  try {
    return parse(line.toString('utf8'));
  } catch (error) {
    // The stream is out of step with the commands: nothing after this can be trusted.
    throw wire.fail(error);
  }
}

/** The rest of a multi-line answer, up to its terminating `.` (RFC 1939 §3). */
export async function readMultiline(wire: Wire, command: string): Promise<MultilineCollector> {
  const body = new MultilineCollector(wire.settings.maxResponseBytes);
  for (;;) {
    const line = await wire.readLine(command);
    try {
      if (body.push(line)) return body;
    } catch (error) {
      throw wire.fail(error);
    }
  }
}

/** RFC 2449 §5: CAPA, or undefined when the server answers `-ERR` (an RFC 1939-only server). */
export async function readCapabilities(wire: Wire): Promise<Capabilities | undefined> {
  wire.write(formatCommand('CAPA'));
  const status = await readStatus(wire, 'CAPA');
  if (status.kind !== 'ok') return undefined;
  const body = await readMultiline(wire, 'CAPA');
  try {
    return parseCapabilities(body.lines().map((line) => line.toString('latin1')));
  } catch (error) {
    throw wire.fail(error);
  }
}
