/**
 * SMTP submission through nodemailer's `SMTPConnection` (DESIGN §1), over Outlink's own socket
 * (`socket.ts`: TCP and implicit TLS with phase timeouts), with STARTTLS required when asked
 * for (`requireTLS`: never silently skipped).
 *
 * **Why Outlink's own SASL handlers.** nodemailer's built-in XOAUTH2 answers a server's error
 * challenge blind and then asks its `XOAuth2` object for a new token (`getToken(true)`): its
 * own refresher, which drops rotated refresh tokens (DESIGN §1), and the challenge is lost. It
 * also speaks no OAUTHBEARER. So Outlink registers XOAUTH2 and OAUTHBEARER as nodemailer
 * `customAuth` handlers built on `sasl.ts`: the token comes from the token service
 * (`auth: {type: 'OAuth2', user, accessToken}`), the challenge is decoded, and a refusal is
 * reported to the caller, who decides about a refresh.
 *
 * @see https://www.rfc-editor.org/rfc/rfc4954 RFC 4954 (SMTP AUTH)
 * @see https://www.rfc-editor.org/rfc/rfc3207 RFC 3207 (STARTTLS)
 */
import { TLSSocket } from 'node:tls';
import MailComposer from 'nodemailer/lib/mail-composer';
import SMTPConnection, {
  type SMTPConnectionCustomAuthContext,
  type SMTPConnectionOptions,
} from 'nodemailer/lib/smtp-connection';
import { serverNameOf } from './endpoint.js';
import { MailError, MailErrorCodes } from './mail-error.js';
import {
  chooseMechanism,
  decodeErrorChallenge,
  errorChallengeReply,
  initialResponse,
  SASL_MECHANISMS,
  type SaslMechanism,
} from './sasl.js';
import type { GreetingInfo, MailLogin, SessionObserver } from './session.js';
import { authFailure, greetingFailure, operationFailure } from './smtp-failures.js';
import { cipherOf, openSocket, type SocketTarget } from './socket.js';

/** A message to submit; the envelope sender is the mail server's username. */
export interface OutgoingMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  /** Extra header fields, e.g. `Auto-Submitted`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What the server said on accepting a message. */
export interface SentInfo {
  readonly accepted: readonly string[];
  readonly rejected: readonly string[];
  /** The server's final reply, e.g. `250 2.0.0 Ok: queued as …`. */
  readonly response: string;
  readonly messageId: string;
}

/**
 * A connected SMTP session, greeted (EHLO done, STARTTLS done when required), ready for
 * `login` and then `send`.
 */
export class SmtpSession {
  readonly greeting: GreetingInfo;
  readonly #connection: SMTPConnection;
  readonly #target: SocketTarget;
  /** Where the SASL handlers leave their failure (nodemailer rewrites errors it is given). */
  readonly #sasl: SaslOutcome;
  /** The first error the connection emitted since the current operation began. */
  #lastError: Error | undefined;

  private constructor(
    connection: SMTPConnection,
    target: SocketTarget,
    greeting: GreetingInfo,
    sasl: SaslOutcome,
  ) {
    this.#connection = connection;
    this.#target = target;
    this.greeting = greeting;
    this.#sasl = sasl;
    connection.on('error', (error: Error) => {
      this.#lastError ??= error;
    });
  }

  /** Connects, sets up TLS and reads the EHLO answer; throws a `MailError` of its step. */
  static async open(target: SocketTarget, observer: SessionObserver = {}): Promise<SmtpSession> {
    const { endpoint, timeouts } = target;
    const { socket } = await openSocket(target, observer);
    const servername = serverNameOf(endpoint.host);
    const { ca } = target.tls;
    const sasl: SaslOutcome = { failure: undefined };
    const options: SMTPConnectionOptions = {
      host: endpoint.host,
      port: endpoint.port,
      connection: socket,
      secure: endpoint.security === 'tls',
      secured: endpoint.security === 'tls',
      requireTLS: endpoint.security === 'starttls',
      // A plain connection the administrator chose stays plain.
      ignoreTLS: endpoint.security === 'none',
      ...(servername ? { servername } : {}),
      tls: {
        ...(ca ? { ca: typeof ca === 'string' ? ca : [...ca] } : {}),
        minVersion: 'TLSv1.2',
        rejectUnauthorized: true,
      },
      name: 'outlink.localhost',
      logger: false,
      greetingTimeout: timeouts.greetingMs,
      socketTimeout: timeouts.commandMs,
      connectionTimeout: timeouts.greetingMs + timeouts.tlsMs + timeouts.commandMs,
      socketCloseTimeout: 0,
      customAuth: Object.fromEntries(
        SASL_MECHANISMS.map((m) => [HANDLER_NAMES[m], saslHandler(target, sasl, m)]),
      ),
    };
    const connection = new SMTPConnection(options);
    try {
      await new Promise<void>((resolve, reject) => {
        connection.once('error', reject);
        connection.once('end', () =>
          reject(new Error(`${endpoint.host}:${endpoint.port} closed the connection`)),
        );
        connection.connect(() => {
          connection.removeAllListeners('error');
          connection.removeAllListeners('end');
          resolve();
        });
      });
    } catch (error) {
      // nodemailer reports a failed STARTTLS handshake as a socket error of the upgrade.
      const upgrading = connection.upgrading === true;
      connection.close();
      socket.destroy();
      throw greetingFailure(target, error, upgrading);
    }
    if (endpoint.security === 'starttls' && connection._socket instanceof TLSSocket) {
      observer.secured?.(cipherOf(connection._socket));
    }
    const greeting = ehloInfo(connection);
    observer.greeted?.(greeting);
    return new SmtpSession(connection, target, greeting, sasl);
  }

  /**
   * RFC 4954 AUTH: XOAUTH2 or OAUTHBEARER with a token (the override, else OAUTHBEARER when
   * offered), or the server's PLAIN/LOGIN with a password. Returns the mechanism used.
   */
  async login(login: MailLogin): Promise<string> {
    const { host, port } = this.#target.endpoint;
    if (login.secret.kind === 'password') {
      await this.#run('authentication', (done) =>
        this.#connection.login(
          { user: login.user, pass: login.secret.kind === 'password' ? login.secret.password : '' },
          done,
        ),
      );
      return 'PASSWORD';
    }
    const choice = chooseMechanism(this.greeting.mechanisms, login.mechanism);
    if (!choice.ok) {
      throw new MailError(
        MailErrorCodes.MECHANISM_UNAVAILABLE,
        'authentication',
        'smtp',
        `${host}:${port} offers AUTH ${this.greeting.mechanisms.join(' ') || '(nothing)'}, not ${login.mechanism ?? 'OAUTHBEARER or XOAUTH2'}`,
        { serverText: this.greeting.mechanisms.join(' ') },
      );
    }
    const auth = {
      type: 'OAuth2',
      method: HANDLER_NAMES[choice.mechanism],
      user: login.user,
      accessToken: login.secret.accessToken,
    };
    await this.#run('authentication', (done) => this.#connection.login(auth, done));
    return choice.mechanism;
  }

  /** Submits one message (MAIL FROM the `from` address, RCPT TO each of `to`). */
  async send(message: OutgoingMessage): Promise<SentInfo> {
    const mail = new MailComposer({
      from: message.from,
      to: [...message.to],
      subject: message.subject,
      text: message.text,
      ...(message.headers ? { headers: { ...message.headers } } : {}),
    }).compile();
    const raw = await mail.build();
    const messageId = mail.messageId();
    const info = await this.#run<SMTPConnection.SentMessageInfo>('send', (done) =>
      this.#connection.send({ from: message.from, to: [...message.to] }, raw, done),
    );
    return {
      accepted: info.accepted,
      rejected: info.rejected,
      response: info.response,
      messageId,
    };
  }

  /** QUIT and close; never throws. */
  quit(): void {
    this.#connection.quit();
  }

  /** Runs one nodemailer operation; its error, or the connection's, as a `MailError`. */
  #run<T>(
    step: 'authentication' | 'send',
    operation: (done: (error: Error | null, result?: T) => void) => void,
  ): Promise<T> {
    this.#lastError = undefined;
    this.#sasl.failure = undefined;
    return new Promise<T>((resolve, reject) => {
      const onEnd = () =>
        reject(operationFailure(this.#target, step, this.#lastError ?? new Error('closed')));
      this.#connection.once('end', onEnd);
      operation((error, result) => {
        this.#connection.off('end', onEnd);
        if (error) return reject(this.#sasl.failure ?? operationFailure(this.#target, step, error));
        resolve(result as T);
      });
    });
  }
}

/**
 * The names Outlink's SASL handlers are registered under. Not the mechanisms' own: nodemailer
 * replaces a requested `XOAUTH2` by the first mechanism the server lists (PLAIN, say) unless
 * the login carries its own `XOAuth2` token generator, which Outlink never gives it. The
 * handlers send the real mechanism names on the wire.
 */
const HANDLER_NAMES: Readonly<Record<SaslMechanism, string>> = Object.freeze({
  XOAUTH2: 'OUTLINK-XOAUTH2',
  OAUTHBEARER: 'OUTLINK-OAUTHBEARER',
});

/** The last SASL refusal, kept aside: nodemailer overwrites `code` on errors handed to it. */
interface SaslOutcome {
  failure: MailError | undefined;
}

/**
 * One SASL handler for XOAUTH2 and OAUTHBEARER: `AUTH <mech> <initial response>` (RFC 4954 §4),
 * `235` on success; on `334 <challenge>` decode the challenge, answer it as the mechanism says
 * (RFC 7628 §3.2.3) and fail with what the server said.
 */
function saslHandler(target: SocketTarget, outcome: SaslOutcome, mechanism: SaslMechanism) {
  const { host, port } = target.endpoint;
  const fail = (failure: MailError): never => {
    outcome.failure = failure;
    throw new Error(failure.message);
  };
  return async (ctx: SMTPConnectionCustomAuthContext): Promise<void> => {
    const accessToken = String(ctx.auth.accessToken ?? '');
    const response = initialResponse(
      mechanism,
      { user: ctx.auth.user ?? '', accessToken },
      { host: serverNameOf(host) ?? host, port },
    );
    const first = await ctx.sendCommand(`AUTH ${mechanism} ${response}`);
    if (first.status === 235) return;
    if (first.status !== 334) fail(authFailure(target, mechanism, first, undefined));
    const challenge = decodeErrorChallenge(first.text.trim());
    const final = await ctx.sendCommand(errorChallengeReply(mechanism));
    fail(authFailure(target, mechanism, final, challenge));
  };
}

/** The EHLO answer: its first line (the server's name and greeting text) and its keywords. */
function ehloInfo(connection: SMTPConnection): GreetingInfo {
  const lines = String(connection.lastServerResponse || '')
    .split(/\r?\n/)
    .map((line) => line.replace(/^\d{3}[ -]/, '').trim())
    .filter(Boolean);
  const [greeting = '', ...capabilities] = lines;
  const auth = capabilities.find((c) => /^AUTH[ =]/i.test(c));
  return {
    greeting,
    capabilities,
    mechanisms: auth
      ? auth
          .slice(5)
          .split(/\s+/)
          .filter(Boolean)
          .map((m) => m.toUpperCase())
      : [],
    secure: connection.secure,
  };
}
