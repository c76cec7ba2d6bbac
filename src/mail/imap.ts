/**
 * IMAP through imapflow (DESIGN §1), over Outlink's own sockets (`socket.ts`) so that every
 * phase has a timeout, the certificate is always verified with the configured CA, and a
 * connection test knows where a connection broke.
 *
 * **The mechanism override and imapflow.** imapflow's `auth: {user, accessToken}` picks the
 * mechanism itself: OAUTHBEARER whenever the server advertises `AUTH=OAUTHBEARER`, else
 * XOAUTH2; it has no option to choose, and the capabilities are read and used inside its
 * `connect()`. So with imapflow the override can only *require*, never *steer*:
 * - `OAUTHBEARER` is enforced: a server that does not offer it fails with
 *   `mechanism_unavailable` (checked before any token is sent by the connection test's probe,
 *   and after the login for a plain session, which is then closed);
 * - `XOAUTH2` takes effect only on servers that offer XOAUTH2 alone; on a server offering both,
 *   imapflow logs in with OAUTHBEARER — the mail server service warns about this when the
 *   override is saved, and the connection test says which mechanism was used.
 * POP3 (Outlink's own client) and SMTP (Outlink's SASL handlers in nodemailer) honour the
 * override fully.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9051 RFC 9051 (IMAP4rev2)
 * @see https://www.rfc-editor.org/rfc/rfc7628 RFC 7628 (OAUTHBEARER)
 */

import type { Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import {
  AuthenticationFailure,
  ImapFlow,
  type ImapFlowOptions,
  type ImapTransport,
} from 'imapflow';
import { serverNameOf } from './endpoint.js';
import { MailError, MailErrorCodes } from './mail-error.js';
import type { SaslMechanism } from './sasl.js';
import {
  challengeDetails,
  type GreetingInfo,
  type MailLogin,
  oauthMechanisms,
  type Progress,
  type SessionObserver,
  stepOf,
} from './session.js';
import { cipherOf, type SocketTarget, startSocket, tlsOptions, tlsReason } from './socket.js';

/** An authenticated IMAP session: the imapflow client and how it logged in. */
export interface ImapSession {
  readonly client: ImapFlow;
  /** The SASL mechanism imapflow used; undefined for a password login. */
  readonly mechanism: SaslMechanism | undefined;
  readonly greeting: GreetingInfo;
}

/**
 * Connects, sets up TLS, reads the greeting and capabilities, and logs in. Throws a
 * `MailError` naming the step that failed; the session is closed on failure.
 */
export async function openImap(
  target: SocketTarget,
  login: MailLogin,
  observer: SessionObserver = {},
  options: ImapOpenOptions = {},
): Promise<ImapSession> {
  const progress: ImapProgress = { connected: false, secured: false, greeted: false };
  const client = new ImapFlow({
    ...clientOptions(target, progress, observer, login),
    ...(options.watch ? watchOptions(target) : {}),
  });
  try {
    await client.connect();
  } catch (error) {
    client.close();
    throw imapFailure(target, client, progress, error, mechanismOf(client, login));
  }
  const greeting = greetingOf(client);
  observer.greeted?.(greeting);
  const mechanism = mechanismOf(client, login);
  if (login.mechanism === 'OAUTHBEARER' && mechanism !== 'OAUTHBEARER') {
    await client.logout().catch(() => client.close());
    throw mechanismUnavailable(target, greeting.mechanisms, login.mechanism);
  }
  return { client, mechanism, greeting };
}

/** How a session is used. */
export interface ImapOpenOptions {
  /**
   * The session waits for new mail (RFC 2177 IDLE) on the folder it opens: imapflow idles
   * by itself whenever no command runs, and `exists` events tell of new messages.
   */
  readonly watch?: boolean;
}

/**
 * A watching session idles, and re-issues IDLE well within the socket timeout, so an idle
 * connection is never mistaken for a dead one (servers also end IDLE after 30 minutes, RFC
 * 2177 §3).
 */
function watchOptions(target: SocketTarget): Partial<ImapFlowOptions> {
  return {
    disableAutoIdle: false,
    maxIdleTime: Math.max(1_000, Math.floor(target.timeouts.commandMs / 2)),
  };
}

/**
 * Connects, sets up TLS, and reads the greeting and capabilities without logging in (imapflow
 * stops where it would authenticate), then closes. The connection test's first steps.
 */
export async function probeImap(
  target: SocketTarget,
  observer: SessionObserver = {},
): Promise<GreetingInfo> {
  const progress: ImapProgress = { connected: false, secured: false, greeted: false };
  const client = new ImapFlow(clientOptions(target, progress, observer, undefined));
  try {
    await client.connect();
    // A PREAUTH greeting: the server logged the connection in by itself.
    await client.logout().catch(() => client.close());
  } catch (error) {
    client.close();
    // Without `auth`, imapflow's session setup ends in its own AuthenticationFailure exactly
    // where it would authenticate: everything before that (greeting, CAPABILITY, STARTTLS)
    // went well.
    if (!(error instanceof AuthenticationFailure) || !sawGreeting(client, progress)) {
      throw imapFailure(target, client, progress, error, undefined);
    }
  }
  const greeting = greetingOf(client);
  observer.greeted?.(greeting);
  return greeting;
}

/**
 * Opens a folder read-only (EXAMINE, RFC 9051 §6.3.3) and returns its message count; a
 * refusal is `folder_failed`.
 */
export async function examineFolder(session: ImapSession, folder: string): Promise<number> {
  try {
    const mailbox = await session.client.mailboxOpen(folder, { readOnly: true });
    return mailbox.exists;
  } catch (error) {
    const e = error as { responseText?: string; serverResponseCode?: string; message?: string };
    throw new MailError(
      MailErrorCodes.FOLDER_FAILED,
      'folder',
      'imap',
      `the folder ${JSON.stringify(folder)} cannot be opened: ${e.responseText ?? e.message ?? String(error)}`,
      {
        ...(e.responseText ? { serverText: e.responseText } : {}),
        ...(e.serverResponseCode ? { responseCode: e.serverResponseCode } : {}),
        cause: error,
      },
    );
  }
}

/** How far a connection got, and the transport's own failure (which imapflow only sees as a
 * socket error). */
interface ImapProgress extends Progress {
  failure?: MailError;
}

function clientOptions(
  target: SocketTarget,
  progress: ImapProgress,
  observer: SessionObserver,
  login: MailLogin | undefined,
): ImapFlowOptions {
  const { endpoint, timeouts } = target;
  const servername = serverNameOf(endpoint.host);
  const client: ImapFlowOptions = {
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.security === 'tls',
    // STARTTLS is never skipped when asked for, and never tried on a plain connection the
    // administrator chose: imapflow's default is to upgrade only when offered.
    doSTARTTLS: endpoint.security === 'starttls',
    ...(servername ? { servername } : {}),
    ...(login ? { auth: authOf(login) } : {}),
    logger: false,
    disableAutoIdle: true,
    clientInfo: { name: 'Outlink' },
    transport: transport(target, progress, observer),
    // The transport's own timers fire first, naming the phase; these are imapflow's backstops.
    connectionTimeout: timeouts.connectMs + timeouts.tlsMs + 1_000,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.commandMs,
  };
  return client;
}

function authOf(login: MailLogin): NonNullable<ImapFlowOptions['auth']> {
  return login.secret.kind === 'token'
    ? { user: login.user, accessToken: login.secret.accessToken }
    : { user: login.user, pass: login.secret.password };
}

/**
 * imapflow's transport (its `transport` option) over `startSocket`: TCP and implicit TLS with
 * phase timeouts, and the STARTTLS upgrade with the same TLS options and a timeout of its own.
 * Reaching the greeting is seen when imapflow asks for the upgrade or hands over the session.
 */
function transport(
  target: SocketTarget,
  progress: ImapProgress,
  observer: SessionObserver,
): ImapTransport {
  const { endpoint, timeouts } = target;
  return {
    connect(_options, onConnect) {
      const started = startSocket(target, {
        connected(info) {
          progress.connected = true;
          observer.connected?.(info);
        },
        secured(info) {
          progress.secured = true;
          observer.secured?.(info);
        },
      });
      started.ready.then(onConnect, (error: MailError) => {
        progress.failure = error;
      });
      return started.socket;
    },
    upgrade(socket, _options, onSecure) {
      const secure = connectTls(tlsOptions(target, socket as Socket)) as TLSSocket;
      const timer = setTimeout(() => {
        progress.failure = new MailError(
          MailErrorCodes.TIMEOUT,
          'tls',
          'imap',
          `the STARTTLS handshake with ${endpoint.host}:${endpoint.port} took longer than ${timeouts.tlsMs} ms`,
        );
        secure.destroy(progress.failure);
      }, timeouts.tlsMs);
      secure.once('error', () => clearTimeout(timer));
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        progress.secured = true;
        observer.secured?.(cipherOf(secure));
        onSecure();
      });
      return secure;
    },
    prepareUpgrade() {
      // Only called once the greeting and CAPABILITY came: the server offered STARTTLS.
      progress.greeted = true;
    },
  };
}

/**
 * What the server said before authentication, from imapflow's state. After a login the
 * server's new CAPABILITY has no `AUTH=` entries; imapflow keeps the earlier ones in its
 * (untyped) `authCapabilities` map.
 */
function greetingOf(client: ImapFlow): GreetingInfo {
  const capabilities = [...client.capabilities.keys()];
  const auth = authCapabilitiesOf(client);
  const offered = auth && auth.size > 0 ? [...auth.keys()] : capabilities;
  return {
    greeting: client.greeting ?? '',
    capabilities,
    mechanisms: offered
      .filter((c) => c.toUpperCase().startsWith('AUTH='))
      .map((c) => c.slice(5).toUpperCase()),
    secure: client.secureConnection,
  };
}

function authCapabilitiesOf(client: ImapFlow): Map<string, boolean> | undefined {
  return (client as unknown as { authCapabilities?: Map<string, boolean> }).authCapabilities;
}

/**
 * The mechanism imapflow used (see the file's note): the one it marked in its (untyped)
 * `authCapabilities` map, which keeps the pre-login `AUTH=` list after the server's
 * post-login CAPABILITY dropped it; else its rule from the capabilities.
 */
function mechanismOf(client: ImapFlow, login: MailLogin | undefined): SaslMechanism | undefined {
  if (login?.secret.kind !== 'token') return undefined;
  const auth = authCapabilitiesOf(client);
  const offered = auth && auth.size > 0 ? auth : client.capabilities;
  if (auth?.get('AUTH=XOAUTH2') === true) return 'XOAUTH2';
  return offered.has('AUTH=OAUTHBEARER') ? 'OAUTHBEARER' : 'XOAUTH2';
}

/** The override is checked against the offered mechanisms before anything is sent. */
export function imapMechanismCheck(
  target: SocketTarget,
  greeting: GreetingInfo,
  required: SaslMechanism | undefined,
): SaslMechanism {
  const offered = oauthMechanisms(greeting.mechanisms);
  const used: SaslMechanism | undefined = offered.includes('OAUTHBEARER')
    ? 'OAUTHBEARER'
    : offered[0];
  if (!used || (required === 'OAUTHBEARER' && used !== 'OAUTHBEARER')) {
    throw mechanismUnavailable(target, greeting.mechanisms, required);
  }
  return used;
}

function mechanismUnavailable(
  target: SocketTarget,
  offered: readonly string[],
  required: SaslMechanism | undefined,
): MailError {
  const { host, port } = target.endpoint;
  return new MailError(
    MailErrorCodes.MECHANISM_UNAVAILABLE,
    'authentication',
    'imap',
    `${host}:${port} offers AUTH=${offered.join(' AUTH=') || '(nothing)'}, not ${required ?? 'OAUTHBEARER or XOAUTH2'}`,
    { serverText: offered.join(' ') },
  );
}

/** Whether imapflow got the greeting and the capabilities (recorded for `stepOf`). */
function sawGreeting(client: ImapFlow, progress: Progress): boolean {
  if (client.greeting !== undefined && client.capabilities.size > 0) progress.greeted = true;
  return progress.greeted;
}

/** imapflow's error (or the transport's MailError) as a MailError of the step it broke in. */
function imapFailure(
  target: SocketTarget,
  client: ImapFlow,
  progress: ImapProgress,
  error: unknown,
  mechanism: SaslMechanism | undefined,
): MailError {
  if (error instanceof MailError) return error;
  if (progress.failure) return progress.failure;
  sawGreeting(client, progress);
  const { host, port, security } = target.endpoint;
  const e = error as {
    message?: string;
    code?: string;
    authenticationFailed?: boolean;
    tlsFailed?: boolean;
    serverResponseCode?: string;
    response?: unknown;
    responseText?: string;
    oauthError?: unknown;
  };
  const text = e.responseText ?? (typeof e.response === 'string' ? e.response : undefined);
  const server = {
    ...(text ? { serverText: text } : {}),
    ...(e.serverResponseCode ? { responseCode: e.serverResponseCode } : {}),
    cause: error,
  };
  if (e.authenticationFailed && progress.greeted) {
    // RFC 5530: UNAVAILABLE is the server's "try later" (Dovecot's failed introspection).
    const temporary = e.serverResponseCode === 'UNAVAILABLE';
    return new MailError(
      temporary ? MailErrorCodes.AUTH_TEMPORARY : MailErrorCodes.AUTH_FAILED,
      'authentication',
      'imap',
      `${mechanism ?? 'password'} authentication ${temporary ? 'failed temporarily' : 'failed'}: ${e.serverResponseCode ? `[${e.serverResponseCode}] ` : ''}${text ?? e.message ?? ''}`,
      { ...server, ...(mechanism ? { mechanism } : {}), ...challengeDetails(e.oauthError) },
    );
  }
  const step = stepOf(security, progress);
  if (e.tlsFailed) {
    const refused = /STARTTLS/i.test(e.message ?? '') && !progress.secured;
    return new MailError(
      refused ? MailErrorCodes.STARTTLS_UNAVAILABLE : MailErrorCodes.TLS_FAILED,
      'tls',
      'imap',
      refused
        ? `${host}:${port} does not offer STARTTLS (RFC 9051 §6.2.1); TLS is required`
        : `TLS with ${host}:${port} failed: ${tlsReason(error as Error)}`,
      server,
    );
  }
  if (e.code === 'GREETING_TIMEOUT' || e.code === 'ETIMEOUT' || e.code === 'CONNECT_TIMEOUT') {
    return new MailError(
      MailErrorCodes.TIMEOUT,
      step,
      'imap',
      `${host}:${port} did not answer in time (${step}): ${e.message ?? e.code}`,
      server,
    );
  }
  if (e.code === 'NoConnection' || e.code === 'EConnectionClosed' || /closed/i.test(e.code ?? '')) {
    return new MailError(
      MailErrorCodes.CONNECTION_CLOSED,
      step,
      'imap',
      `${host}:${port} closed the connection (${step})${client.byeReason ? `: ${client.byeReason}` : ''}`,
      { ...server, ...(client.byeReason ? { serverText: client.byeReason } : {}) },
    );
  }
  return new MailError(
    step === 'greeting' ? MailErrorCodes.GREETING_FAILED : MailErrorCodes.PROTOCOL_ERROR,
    step,
    'imap',
    `${host}:${port} (${step}): ${e.message ?? String(error)}`,
    server,
  );
}
