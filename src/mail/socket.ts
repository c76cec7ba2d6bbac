/**
 * The sockets of the IMAP and SMTP clients: TCP connect and implicit TLS with a timeout on each
 * phase and certificate verification always on, reporting each phase as it completes so that a
 * connection test can say where a connection broke. STARTTLS upgrades go through `upgradeTls`.
 * (The POP3 client has its own, `pop3/wire.ts`.)
 */
import { connect as connectTcp, Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import {
  type AddressGuard,
  AddressRefusedError,
  DEFAULT_ADDRESS_GUARD,
} from '../net/address-guard.js';
import type { MailEndpoint, MailTimeouts, MailTlsOptions } from './endpoint.js';
import { serverNameOf } from './endpoint.js';
import { MailError, MailErrorCodes } from './mail-error.js';

/** Told as each phase completes; every member is optional. */
export interface SocketObserver {
  /** TCP is connected (the host name was resolved to `address`). */
  connected?(info: { readonly address: string; readonly port: number }): void;
  /** The TLS handshake completed and the certificate was verified. */
  secured?(info: { readonly protocol: string; readonly cipher: string }): void;
}

/** What `startSocket` knows about its connection; `failure` once it failed before `ready`. */
export interface SocketState {
  connected: boolean;
  secured: boolean;
  failure: MailError | undefined;
}

/** A socket being opened: usable for I/O once `ready` resolves. */
export interface StartedSocket {
  /** The socket callers read and write: the TLS socket for implicit TLS, else the TCP one. */
  readonly socket: Socket;
  readonly state: SocketState;
  /** Resolves once connected (and secured, for implicit TLS); rejects with a `MailError`. */
  readonly ready: Promise<void>;
}

/** Everything `startSocket` needs. */
export interface SocketTarget {
  readonly endpoint: MailEndpoint;
  readonly tls: MailTlsOptions;
  readonly timeouts: MailTimeouts;
  /** The addresses that may be reached (issue 11); nothing re-allowed when absent. */
  readonly guard?: AddressGuard;
}

/**
 * Starts a TCP connection and, for `security: tls`, the TLS handshake over it. Returns at once
 * (imapflow's transport contract wants the socket synchronously); `ready` settles later. A
 * phase that outlives its timeout destroys the socket with a `timeout` MailError, which is also
 * what the socket's `error` event then carries.
 */
export function startSocket(target: SocketTarget, observer: SocketObserver = {}): StartedSocket {
  const { endpoint, timeouts } = target;
  const { protocol, host, port } = endpoint;
  const state: SocketState = { connected: false, secured: false, failure: undefined };
  const raw = guardedConnect(target);
  // Errors of the TCP socket also reach the TLS socket that wraps it, where they are handled.
  raw.on('error', () => undefined);
  const implicit = endpoint.security === 'tls';
  const socket: Socket = implicit ? connectTls(tlsOptions(target, raw)) : raw;
  // The consumer (imapflow, nodemailer) attaches its own error listener once it has the socket;
  // an error after a failure or between the two must not become an uncaught exception.
  if (implicit) socket.on('error', () => undefined);

  const ready = new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (error?: MailError) => {
      clearTimeout(timer);
      socket.off('error', onError);
      if (!error) return resolve();
      state.failure = error;
      reject(error);
    };
    const arm = (ms: number, make: () => MailError) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const error = make();
        done(error);
        socket.destroy(error);
      }, ms);
    };
    const onError = (error: Error) => {
      if (error instanceof MailError) return done(error);
      done(
        state.connected
          ? new MailError(
              MailErrorCodes.TLS_FAILED,
              'tls',
              protocol,
              `TLS with ${host}:${port} failed: ${tlsReason(error)}`,
              { cause: error },
            )
          : connectFailure(target, error),
      );
    };
    socket.on('error', onError);
    arm(
      timeouts.connectMs,
      () =>
        new MailError(
          MailErrorCodes.TIMEOUT,
          'connect',
          protocol,
          `connecting to ${host}:${port} took longer than ${timeouts.connectMs} ms`,
        ),
    );
    raw.once('connect', () => {
      state.connected = true;
      observer.connected?.({ address: raw.remoteAddress ?? host, port });
      if (!implicit) return done();
      arm(
        timeouts.tlsMs,
        () =>
          new MailError(
            MailErrorCodes.TIMEOUT,
            'tls',
            protocol,
            `the TLS handshake with ${host}:${port} took longer than ${timeouts.tlsMs} ms`,
          ),
      );
    });
    if (implicit) {
      socket.once('secureConnect', () => {
        state.secured = true;
        observer.secured?.(cipherOf(socket as TLSSocket));
        done();
      });
    }
  });
  // Callers that only watch the socket's events must not see an unhandled rejection.
  ready.catch(() => undefined);
  return { socket, state, ready };
}

/** `startSocket` for callers that need the open socket: resolves once `ready`. */
export async function openSocket(
  target: SocketTarget,
  observer: SocketObserver = {},
): Promise<{ socket: Socket; state: SocketState }> {
  const started = startSocket(target, observer);
  try {
    await started.ready;
  } catch (error) {
    started.socket.destroy();
    throw error;
  }
  return { socket: started.socket, state: started.state };
}

/**
 * A TCP connection through the target's address guard: a refused literal fails without a
 * connection (Node skips `lookup` for literals), a name is judged on what it resolves to.
 */
function guardedConnect(target: SocketTarget): Socket {
  const { host, port } = target.endpoint;
  const guard = target.guard ?? DEFAULT_ADDRESS_GUARD;
  try {
    guard.assertHost(host);
  } catch (error) {
    const socket = new Socket();
    process.nextTick(() => socket.destroy(error as Error));
    return socket;
  }
  return connectTcp({ host, port, lookup: guard.lookup });
}

/**
 * The options of a TLS client connection over `socket`: verification always on, TLS 1.2 at
 * least, `ca` when given, SNI unless the host is an IP literal (then the certificate is
 * checked against the IP address, RFC 6125 §1.7.2 aside).
 */
export function tlsOptions(target: SocketTarget, socket: Socket) {
  const { host } = target.endpoint;
  const servername = serverNameOf(host);
  const { ca } = target.tls;
  return {
    socket,
    host,
    ...(servername ? { servername } : {}),
    ...(ca ? { ca: typeof ca === 'string' ? ca : [...ca] } : {}),
    minVersion: 'TLSv1.2' as const,
    rejectUnauthorized: true,
  };
}

/** The negotiated protocol and cipher of a connected TLS socket. */
export function cipherOf(socket: TLSSocket): { protocol: string; cipher: string } {
  const cipher = socket.getCipher();
  return {
    protocol: socket.getProtocol() ?? 'TLS',
    cipher: cipher?.standardName ?? cipher?.name ?? '',
  };
}

/**
 * OpenSSL's short reason (`wrong version number`) instead of its full error string (library,
 * source file and line); certificate errors keep Node's message.
 */
export function tlsReason(error: Error): string {
  const { code, reason } = error as Error & { code?: unknown; reason?: unknown };
  const fromOpenSsl = typeof code === 'string' && code.startsWith('ERR_SSL_');
  return fromOpenSsl && typeof reason === 'string' && reason.length > 0 ? reason : error.message;
}

/** Node's TCP/DNS failure as a `connect_failed` MailError. */
export function connectFailure(target: SocketTarget, error: Error): MailError {
  const { protocol, host, port } = target.endpoint;
  if (error instanceof AddressRefusedError) {
    return new MailError(
      MailErrorCodes.ADDRESS_REFUSED,
      'connect',
      protocol,
      `${error.message}; no connection to ${host}:${port} was attempted`,
      { cause: error },
    );
  }
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? `the host name ${host} does not resolve (${code})`
      : (code ?? error.message);
  return new MailError(
    MailErrorCodes.CONNECT_FAILED,
    'connect',
    protocol,
    `cannot connect to ${host}:${port}: ${reason}`,
    { cause: error },
  );
}
