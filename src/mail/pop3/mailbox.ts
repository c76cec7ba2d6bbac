/**
 * A mail server's POP3 mailbox through Outlink's own POP3 client (`client.ts`): connecting with
 * the server's TLS settings and timeouts, logging in, and the client's `Pop3Error` codes as the
 * `MailError` of the step that broke.
 */
import type { MailStep } from '../../domain/mail-server.js';
import { MailError, type MailErrorCode, MailErrorCodes } from '../mail-error.js';
import type { SaslMechanism } from '../sasl.js';
import {
  type GreetingInfo,
  type MailLogin,
  type Progress,
  type SessionObserver,
  stepOf,
} from '../session.js';
import { connectFailure, type SocketTarget } from '../socket.js';
import {
  connect,
  Pop3Error,
  type Pop3ErrorCode,
  Pop3ErrorCodes,
  type Pop3Session,
} from './client.js';

/** A connected POP3 session in the authorization state, with what the server said. */
export interface Pop3Connection {
  readonly session: Pop3Session;
  readonly greeting: GreetingInfo;
}

/** Connects, sets up TLS, reads the greeting and CAPA; throws a `MailError` of its step. */
export async function connectPop3(
  target: SocketTarget,
  observer: SessionObserver = {},
): Promise<Pop3Connection> {
  const { endpoint, tls, timeouts } = target;
  const progress: Progress = { connected: false, secured: false, greeted: false };
  let greetingText = '';
  let session: Pop3Session;
  try {
    session = await connect({
      host: endpoint.host,
      port: endpoint.port,
      security: endpoint.security,
      ...(tls.ca ? { ca: tls.ca } : {}),
      connectTimeoutMs: timeouts.connectMs,
      ...(target.guard ? { guard: target.guard } : {}),
      tlsTimeoutMs: timeouts.tlsMs,
      commandTimeoutMs: Math.max(timeouts.greetingMs, timeouts.commandMs),
      observer: {
        connected(info) {
          progress.connected = true;
          observer.connected?.(info);
        },
        secured(info) {
          progress.secured = true;
          observer.secured?.(info);
        },
        greeted(text) {
          progress.greeted = true;
          greetingText = text;
        },
      },
    });
  } catch (error) {
    const step = stepOf(endpoint.security, progress);
    // The same words as the IMAP and SMTP sockets for a refused or unresolvable host.
    const cause = error instanceof Pop3Error ? error.cause : undefined;
    if (step === 'connect' && cause instanceof Error && error instanceof Pop3Error) {
      if (error.code === Pop3ErrorCodes.CONNECT_FAILED) throw connectFailure(target, cause);
    }
    throw pop3Failure(error, step);
  }
  const capabilities = session.capabilities;
  const greeting: GreetingInfo = {
    greeting: greetingText || session.greeting,
    capabilities: capabilities
      ? [...capabilities].map(([name, args]) => [name, ...args].join(' '))
      : [],
    mechanisms: (capabilities?.get('SASL') ?? []).map((m) => m.toUpperCase()),
    secure: session.secure,
  };
  observer.greeted?.(greeting);
  return { session, greeting };
}

/** RFC 5034 AUTH with a token, or USER/PASS with a password; the mechanism used. */
export async function loginPop3(
  session: Pop3Session,
  login: MailLogin,
): Promise<SaslMechanism | 'PASSWORD'> {
  try {
    if (login.secret.kind === 'password') {
      await session.login(login.user, login.secret.password);
      return 'PASSWORD';
    }
    const { mechanism } = await session.authenticate({
      user: login.user,
      accessToken: login.secret.accessToken,
      ...(login.mechanism ? { mechanism: login.mechanism } : {}),
    });
    return mechanism;
  } catch (error) {
    throw pop3Failure(error, 'authentication');
  }
}

/** Connects and logs in: an authenticated POP3 session (the mail handler's). */
export async function openPop3(
  target: SocketTarget,
  login: MailLogin,
  observer: SessionObserver = {},
): Promise<Pop3Connection & { readonly mechanism: SaslMechanism | 'PASSWORD' }> {
  const connection = await connectPop3(target, observer);
  try {
    return { ...connection, mechanism: await loginPop3(connection.session, login) };
  } catch (error) {
    connection.session.close();
    throw error;
  }
}

const CODES: Readonly<Record<Pop3ErrorCode, MailErrorCode>> = {
  [Pop3ErrorCodes.CONNECT_FAILED]: MailErrorCodes.CONNECT_FAILED,
  [Pop3ErrorCodes.TLS_FAILED]: MailErrorCodes.TLS_FAILED,
  [Pop3ErrorCodes.STARTTLS_UNAVAILABLE]: MailErrorCodes.STARTTLS_UNAVAILABLE,
  [Pop3ErrorCodes.MECHANISM_UNAVAILABLE]: MailErrorCodes.MECHANISM_UNAVAILABLE,
  [Pop3ErrorCodes.AUTH_FAILED]: MailErrorCodes.AUTH_FAILED,
  [Pop3ErrorCodes.AUTH_TEMPORARY]: MailErrorCodes.AUTH_TEMPORARY,
  [Pop3ErrorCodes.COMMAND_FAILED]: MailErrorCodes.PROTOCOL_ERROR,
  [Pop3ErrorCodes.PROTOCOL_ERROR]: MailErrorCodes.PROTOCOL_ERROR,
  [Pop3ErrorCodes.TIMEOUT]: MailErrorCodes.TIMEOUT,
  [Pop3ErrorCodes.RESPONSE_TOO_LARGE]: MailErrorCodes.PROTOCOL_ERROR,
  [Pop3ErrorCodes.CONNECTION_CLOSED]: MailErrorCodes.CONNECTION_CLOSED,
  [Pop3ErrorCodes.INVALID_STATE]: MailErrorCodes.PROTOCOL_ERROR,
  [Pop3ErrorCodes.INVALID_ARGUMENT]: MailErrorCodes.PROTOCOL_ERROR,
};

/** A `Pop3Error` as a `MailError`; a `-ERR` greeting is `greeting_failed`. */
function pop3Failure(error: unknown, step: MailStep): MailError {
  if (!(error instanceof Pop3Error)) {
    return new MailError(MailErrorCodes.PROTOCOL_ERROR, step, 'pop3', String(error), {
      cause: error,
    });
  }
  const refusedGreeting = error.code === Pop3ErrorCodes.CONNECT_FAILED && step === 'greeting';
  const code = refusedGreeting ? MailErrorCodes.GREETING_FAILED : CODES[error.code];
  const tlsStep =
    code === MailErrorCodes.TLS_FAILED || code === MailErrorCodes.STARTTLS_UNAVAILABLE;
  return new MailError(code, tlsStep ? 'tls' : step, 'pop3', error.message, {
    ...(error.serverText !== undefined ? { serverText: error.serverText } : {}),
    ...(error.responseCode !== undefined ? { responseCode: error.responseCode } : {}),
    ...(error.mechanism ? { mechanism: error.mechanism } : {}),
    ...(error.challenge ? { challenge: error.challenge } : {}),
    ...(error.challengeError ? { challengeError: error.challengeError } : {}),
    cause: error,
  });
}
