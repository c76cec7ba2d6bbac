/**
 * Outlink's POP3 client: RFC 1939 with CAPA (RFC 2449), STLS (RFC 2595), implicit TLS and SASL
 * AUTH (RFC 5034) for XOAUTH2 and OAUTHBEARER — no Node POP3 client speaks those. A thin I/O
 * shell around `protocol.ts` (wire format) and `../sasl.ts` (mechanisms).
 *
 * ```ts
 * const session = await connect({ host: 'pop.gmail.com', port: 995, security: 'tls' });
 * await session.authenticate({ user, accessToken });
 * const { count } = await session.stat();
 * const message = await session.retr(1);
 * await session.quit();
 * ```
 *
 * @see https://www.rfc-editor.org/rfc/rfc1939 RFC 1939
 */

import { isIP, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type AddressGuard, DEFAULT_ADDRESS_GUARD } from '../../net/address-guard.js';
import type { SaslMechanism } from '../sasl.js';
import { Pop3Error, Pop3ErrorCodes } from './error.js';
import {
  type Capabilities,
  DEFAULT_POP3_LIMITS,
  type DropListing,
  formatCommand,
  type Pop3State,
  type ScanListing,
  type UniqueIdListing,
} from './protocol.js';
import { Session } from './session.js';
import {
  openTcp,
  type Pop3Security,
  type Pop3Settings,
  readCapabilities,
  readStatus,
  startTls,
  Wire,
} from './wire.js';

export { Pop3Error, type Pop3ErrorCode, Pop3ErrorCodes } from './error.js';
export {
  type Capabilities,
  type DropListing,
  Pop3State,
  type ScanListing,
  type UniqueIdListing,
} from './protocol.js';
export type { Pop3Security, Pop3Settings } from './wire.js';

/** Where and how to connect; only `host`, `port` and `security` are required. */
export interface Pop3ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly security: Pop3Security;
  /** TLS server name (SNI and certificate check); default `host` unless it is an IP address. */
  readonly servername?: string;
  /** Trusted CA certificates (PEM) instead of Node's roots: for tests and private CAs. */
  readonly ca?: string | readonly string[];
  /** TCP connect timeout (default 10 s). */
  readonly connectTimeoutMs?: number;
  /**
   * The addresses that may be reached (issue 11): a refused literal or resolved address fails
   * with `connect_failed` before any connection; nothing re-allowed when absent.
   */
  readonly guard?: AddressGuard;
  /** TLS handshake timeout (default 10 s). */
  readonly tlsTimeoutMs?: number;
  /** Longest silence while an answer is awaited, for every command (default 30 s). */
  readonly commandTimeoutMs?: number;
  /** Longest line accepted (default 64 KiB). */
  readonly maxLineLength?: number;
  /** Largest multi-line answer accepted (default 64 MiB). */
  readonly maxResponseBytes?: number;
  /** Told as each phase completes, so a connection test can say where a connection broke. */
  readonly observer?: Pop3Observer;
}

/** Callbacks for the phases of `connect()`; every member is optional. */
export interface Pop3Observer {
  /** TCP is connected. */
  connected?(info: { readonly address: string; readonly port: number }): void;
  /** TLS is set up (implicit, or after STLS) and the certificate verified. */
  secured?(info: { readonly protocol: string; readonly cipher: string }): void;
  /** The `+OK` greeting arrived. */
  greeted?(greeting: string): void;
}

/** `authenticate()` options: the mailbox, its access token and the mechanism choice. */
export interface Pop3AuthenticateOptions {
  readonly user: string;
  readonly accessToken: string;
  /** Force a mechanism (it must be advertised); default: OAUTHBEARER if offered, else XOAUTH2. */
  readonly mechanism?: SaslMechanism;
  /**
   * `auto` (default) sends the initial response on the AUTH line when it fits 255 octets;
   * `never` always waits for the server's empty challenge first (RFC 5034 §4).
   */
  readonly initialResponse?: 'auto' | 'never';
}

/** How `retrAll()` and `deleAll()` pipeline their commands. */
export interface Pop3PipelineOptions {
  /**
   * Most commands in flight when the server advertises PIPELINING (default 32); 1 sends one
   * command at a time. Ignored (always 1) when the server does not advertise it.
   */
  readonly window?: number;
}

/** A connected POP3 session. Commands run one at a time, in call order. */
export interface Pop3Session {
  /** RFC 1939 §3 state; `closed` after `quit()`, `close()` or a broken connection. */
  readonly state: Pop3State;
  /** The greeting's text after `+OK`. */
  readonly greeting: string;
  /** The last CAPA answer (re-read after STLS), or undefined if the server has no CAPA. */
  readonly capabilities: Capabilities | undefined;
  /** Whether the connection is protected by TLS (implicit or STLS). */
  readonly secure: boolean;
  /** Whether the server advertises RFC 2449 §6.6 PIPELINING in its last CAPA answer. */
  readonly pipelining: boolean;
  /** RFC 2449 §5 CAPA, re-read. */
  capa(): Promise<Capabilities | undefined>;
  /** RFC 1939 §7 USER and PASS, for servers that still take passwords. */
  login(user: string, password: string): Promise<void>;
  /** RFC 5034 AUTH with XOAUTH2 or OAUTHBEARER; returns the mechanism used. */
  authenticate(options: Pop3AuthenticateOptions): Promise<{ mechanism: SaslMechanism }>;
  /** RFC 1939 §5 STAT. */
  stat(): Promise<DropListing>;
  /** RFC 1939 §5 LIST: every message, or one. */
  list(): Promise<ScanListing[]>;
  list(message: number): Promise<ScanListing>;
  /** RFC 1939 §7 UIDL: every message, or one. */
  uidl(): Promise<UniqueIdListing[]>;
  uidl(message: number): Promise<UniqueIdListing>;
  /** RFC 1939 §5 RETR: the message's octets, unstuffed, lines ending in CRLF. */
  retr(message: number): Promise<Buffer>;
  /**
   * RETR of each message, in order: pipelined (RFC 2449 §6.6) when the server advertises
   * PIPELINING, else one at a time. A `-ERR` is `command_failed` after the answers already
   * asked for are read (the session stays usable); a broken connection loses nothing.
   */
  retrAll(messages: readonly number[], options?: Pop3PipelineOptions): Promise<Buffer[]>;
  /** RFC 1939 §7 TOP: the header, the blank line and `lines` lines of the body. */
  top(message: number, lines: number): Promise<Buffer>;
  /** RFC 1939 §5 DELE: marks a message deleted; removed at `quit()`. */
  dele(message: number): Promise<void>;
  /** DELE of each message, pipelined like `retrAll()`; removed at `quit()`. */
  deleAll(messages: readonly number[], options?: Pop3PipelineOptions): Promise<void>;
  noop(): Promise<void>;
  /** RFC 1939 §5 RSET: unmarks deleted messages. */
  rset(): Promise<void>;
  /** RFC 1939 §6 QUIT: ends the session; from the transaction state, deletions take effect. */
  quit(): Promise<void>;
  /** Drops the connection without QUIT: messages marked deleted stay (RFC 1939 §6). */
  close(): void;
}

/**
 * Connects, reads the greeting and the capabilities, and sets up TLS as `security` says. The
 * session is then in the authorization state. Certificates are verified (`ca` for tests).
 */
export async function connect(options: Pop3ConnectOptions): Promise<Pop3Session> {
  const settings = resolveSettings(options);
  const observer = options.observer ?? {};
  let socket = await openTcp(
    settings.host,
    settings.port,
    settings.connectTimeoutMs,
    options.guard ?? DEFAULT_ADDRESS_GUARD,
  );
  observer.connected?.({ address: socket.remoteAddress ?? settings.host, port: settings.port });
  let wire: Wire | undefined;
  try {
    if (settings.security === 'tls') {
      socket = await startTls(socket, settings);
      observer.secured?.(cipherOf(socket as TLSSocket));
    }
    wire = new Wire(socket, settings);
    const greeting = await readStatus(wire, 'greeting');
    if (greeting.kind !== 'ok') {
      throw new Pop3Error(
        Pop3ErrorCodes.CONNECT_FAILED,
        `the server refused the connection: ${greeting.text}`,
        { serverText: greeting.text, responseCode: greeting.code },
      );
    }
    observer.greeted?.(greeting.text);
    let capabilities = await readCapabilities(wire);
    if (settings.security === 'starttls') {
      wire = await stls(wire, capabilities, settings, observer);
      // RFC 2595 §4: what the server said before TLS is forgotten and asked again.
      capabilities = await readCapabilities(wire);
    }
    return new Session(wire, greeting.text, capabilities);
  } catch (error) {
    if (wire) wire.destroy();
    else socket.destroy();
    throw error;
  }
}

function resolveSettings(options: Pop3ConnectOptions): Pop3Settings {
  if (typeof options.host !== 'string' || options.host.length === 0) {
    invalid('"host" must be a non-empty string');
  }
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    invalid('"port" must be an integer from 1 to 65535');
  }
  if (!['tls', 'starttls', 'none'].includes(options.security)) {
    invalid('"security" must be "tls", "starttls" or "none"');
  }
  const positive = (value: number | undefined, name: string, fallback: number) => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value <= 0) invalid(`"${name}" must be a positive number`);
    return value;
  };
  return {
    host: options.host,
    port: options.port,
    security: options.security,
    servername: options.servername ?? (isIP(options.host) ? undefined : options.host),
    ca: options.ca,
    connectTimeoutMs: positive(options.connectTimeoutMs, 'connectTimeoutMs', 10_000),
    tlsTimeoutMs: positive(options.tlsTimeoutMs, 'tlsTimeoutMs', 10_000),
    commandTimeoutMs: positive(options.commandTimeoutMs, 'commandTimeoutMs', 30_000),
    maxLineLength: positive(
      options.maxLineLength,
      'maxLineLength',
      DEFAULT_POP3_LIMITS.maxLineLength,
    ),
    maxResponseBytes: positive(
      options.maxResponseBytes,
      'maxResponseBytes',
      DEFAULT_POP3_LIMITS.maxResponseBytes,
    ),
  };
}

function invalid(message: string): never {
  throw new Pop3Error(Pop3ErrorCodes.INVALID_ARGUMENT, message);
}

/** The negotiated TLS protocol and cipher, for the observer. */
function cipherOf(socket: TLSSocket): { protocol: string; cipher: string } {
  const cipher = socket.getCipher();
  return {
    protocol: socket.getProtocol() ?? 'TLS',
    cipher: cipher?.standardName ?? cipher?.name ?? '',
  };
}

/**
 * RFC 2595 §4 STLS, never skipped: not offered, refused or failed is an error. If CAPA was
 * not answered, STLS is tried anyway (the server may still have it).
 */
async function stls(
  wire: Wire,
  capabilities: Capabilities | undefined,
  settings: Pop3Settings,
  observer: Pop3Observer,
): Promise<Wire> {
  if (capabilities && !capabilities.has('STLS')) {
    throw new Pop3Error(
      Pop3ErrorCodes.STARTTLS_UNAVAILABLE,
      `${settings.host}:${settings.port} does not offer STLS (RFC 2595); TLS is required`,
      { command: 'STLS' },
    );
  }
  wire.write(formatCommand('STLS'));
  const status = await readStatus(wire, 'STLS');
  if (status.kind !== 'ok') {
    throw new Pop3Error(
      Pop3ErrorCodes.STARTTLS_UNAVAILABLE,
      `${settings.host}:${settings.port} refused STLS: ${status.text}`,
      { command: 'STLS', serverText: status.text, responseCode: status.code },
    );
  }
  const socket: Socket = wire.detach();
  const secure = await startTls(socket, settings);
  observer.secured?.(cipherOf(secure));
  return new Wire(secure, settings);
}
