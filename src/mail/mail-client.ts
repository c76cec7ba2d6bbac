/**
 * Authenticated mail sessions for configured mail servers: the IMAP, POP3 and SMTP adapters
 * with the server's TLS trust and timeouts, and the rule for a refused token (DESIGN §7, issue
 * 5 item 3): on "authentication failed", force one refresh (`getAccessToken` with
 * `rejectedToken`) and retry once; a second refusal is reported with the server's decoded
 * challenge and a remedy.
 */
import type { MailServerRuntime } from '../domain/mail-server.js';
import type { AddressGuard } from '../net/address-guard.js';
import { remedyForRefusal } from '../providers/mail-refusals.js';
import type { MailTimeouts, MailTlsOptions } from './endpoint.js';
import { type ImapOpenOptions, type ImapSession, openImap } from './imap.js';
import { isCredentialRejection } from './mail-error.js';
import { openPop3, type Pop3Connection } from './pop3/mailbox.js';
import type { SaslMechanism } from './sasl.js';
import type { MailLogin, MailSecret, SessionObserver } from './session.js';
import { SmtpSession } from './smtp.js';
import type { SocketTarget } from './socket.js';

/** A connection's access token, as the mail code uses it. */
export interface MailAccessToken {
  readonly accessToken: string;
  /** The account that authorized the connection. */
  readonly account: string;
  readonly expiresAt: string | null;
}

/**
 * Where the mail code gets a connection's access token: the token service, wired in
 * `main/compose.ts`. `rejectedToken`: a server refused this token; refresh unless a newer one
 * is already stored (DESIGN §7).
 */
export interface AccessTokenSource {
  getAccessToken(
    connectionId: string,
    options?: { rejectedToken?: string },
  ): Promise<MailAccessToken>;
}

export interface MailClientDeps {
  readonly tokens: AccessTokenSource;
  readonly tls: MailTlsOptions;
  readonly timeouts: MailTimeouts;
  /** The addresses mail servers may be reached at (issue 11). */
  readonly guard?: AddressGuard;
}

/** How a login went: with the first token, or after the server refused it once. */
export interface LoginOutcome<T> {
  readonly value: T;
  /** The server refused the first token and the retry used a newly refreshed one. */
  readonly refreshed: boolean;
}

export interface AuthenticateOptions {
  /** The token already fetched (the connection test's token step); fetched here otherwise. */
  readonly firstToken?: MailAccessToken;
  /** Told when the first token was refused and a refresh is forced. */
  onRejected?(): void;
}

export interface MailClient {
  /** Where and how to connect to a mail server (its endpoint, TLS trust and timeouts). */
  target(server: MailServerRuntime): SocketTarget;
  /**
   * Runs `attempt` (connect and log in) with the server's secret, and once more with a freshly
   * refreshed token when the server refused the first: the rejected-token rule.
   */
  authenticate<T>(
    server: MailServerRuntime,
    attempt: (login: MailLogin) => Promise<T>,
    options?: AuthenticateOptions,
  ): Promise<LoginOutcome<T>>;
  /** An authenticated imapflow session (the caller logs out). */
  imap(
    server: MailServerRuntime,
    observer?: SessionObserver,
    options?: ImapOpenOptions,
  ): Promise<LoginOutcome<ImapSession>>;
  /** An authenticated POP3 session (the caller quits). */
  pop3(
    server: MailServerRuntime,
    observer?: SessionObserver,
  ): Promise<LoginOutcome<Pop3Connection & { readonly mechanism: SaslMechanism | 'PASSWORD' }>>;
  /** An authenticated SMTP session (the caller quits). */
  smtp(
    server: MailServerRuntime,
    observer?: SessionObserver,
  ): Promise<LoginOutcome<{ readonly session: SmtpSession; readonly mechanism: string }>>;
}

export function createMailClient(deps: MailClientDeps): MailClient {
  const { tokens } = deps;

  const target = (server: MailServerRuntime): SocketTarget => ({
    endpoint: {
      protocol: server.protocol,
      host: server.host,
      port: server.port,
      security: server.security,
    },
    tls: deps.tls,
    timeouts: deps.timeouts,
    ...(deps.guard ? { guard: deps.guard } : {}),
  });

  const loginWith = (server: MailServerRuntime, secret: MailSecret): MailLogin => ({
    user: server.username,
    secret,
    ...(server.saslMechanism ? { mechanism: server.saslMechanism } : {}),
  });

  const client: MailClient = {
    target,
    async authenticate(server, attempt, options = {}) {
      const { credentials } = server;
      if (credentials.method === 'password') {
        try {
          const value = await attempt(
            loginWith(server, { kind: 'password', password: credentials.password }),
          );
          return { value, refreshed: false };
        } catch (error) {
          if (!isCredentialRejection(error)) throw error;
          throw error.withRemedy(remedyForRefusal(error, server));
        }
      }
      const first = options.firstToken ?? (await tokens.getAccessToken(credentials.connectionId));
      try {
        const value = await attempt(
          loginWith(server, { kind: 'token', accessToken: first.accessToken }),
        );
        return { value, refreshed: false };
      } catch (error) {
        if (!isCredentialRejection(error)) throw error;
      }
      options.onRejected?.();
      // The server refused a token Outlink thought valid (revoked, or not accepted): one
      // forced refresh, unless another caller already stored a newer token.
      const second = await tokens.getAccessToken(credentials.connectionId, {
        rejectedToken: first.accessToken,
      });
      try {
        const value = await attempt(
          loginWith(server, { kind: 'token', accessToken: second.accessToken }),
        );
        return { value, refreshed: true };
      } catch (error) {
        if (!isCredentialRejection(error)) throw error;
        throw error.withRemedy(remedyForRefusal(error, server));
      }
    },
    imap(server, observer, options) {
      return client.authenticate(server, (login) =>
        openImap(target(server), login, observer, options),
      );
    },
    pop3(server, observer) {
      return client.authenticate(server, (login) => openPop3(target(server), login, observer));
    },
    smtp(server, observer) {
      return client.authenticate(server, async (login) => {
        const session = await SmtpSession.open(target(server), observer);
        try {
          return { session, mechanism: await session.login(login) };
        } catch (error) {
          session.quit();
          throw error;
        }
      });
    },
  };
  return client;
}
