/**
 * The connection test of a mail server (DESIGN §8 `POST /api/v1/mail-servers/:id/test`, issue
 * 5 item 4): resolve and connect, TLS, greeting and capabilities, the access token,
 * authentication, then opening the folder (incoming) or sending a test message (outgoing).
 * Each step's outcome is recorded as it completes; the first failing step ends the run and
 * says where it broke. Texts are catalog keys with their values (`mail.details.<key>`), put
 * into words by the caller in the reader's language.
 */
import { isOutlinkError } from '../domain/errors.js';
import type { MailServerRuntime, MailStep } from '../domain/mail-server.js';
import { classifyRefusal, type MailRefusalEntry } from '../providers/mail-refusal-catalog.js';
import { type Remedy, remedyParams } from '../providers/mail-refusals.js';
import {
  examineFolder,
  type ImapSession,
  imapMechanismCheck,
  openImap,
  probeImap,
} from './imap.js';
import type { AccessTokenSource, MailAccessToken, MailClient } from './mail-client.js';
import { MailError, MailErrorCodes } from './mail-error.js';
import { connectPop3, loginPop3, type Pop3Connection } from './pop3/mailbox.js';
import type { SaslErrorChallenge } from './sasl.js';
import type { GreetingInfo, SessionObserver } from './session.js';
import { type OutgoingMessage, SmtpSession } from './smtp.js';

/** The most characters of a server's words a test result echoes (issue 11). */
export const ECHO_LIMIT = 200;

/**
 * A server's words as a test result echoes them (issue 11): control characters (terminal
 * escapes, CR/LF that would forge lines) become spaces, runs of spaces one, and the text is
 * cut to `ECHO_LIMIT` characters with an ellipsis. A hostile or broken server can neither
 * flood the result nor paint the administrator's terminal.
 */
export function echoText(text: string, limit = ECHO_LIMIT): string {
  const clean = text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
  const chars = [...clean];
  return chars.length <= limit ? clean : `${chars.slice(0, limit - 1).join('')}…`;
}

/** A text to show: a catalog key under `mail.details` and its values. */
export interface StepText {
  readonly key: string;
  readonly params: Readonly<Record<string, string | number>>;
}

export interface TestStep {
  readonly name: MailStep;
  readonly ok: boolean;
  readonly detail: StepText;
}

/** Where and why the run stopped. */
export interface TestFailure {
  readonly step: MailStep;
  /** A `MailError` code (`mail.errors.<code>`) or a catalog code (`errors.<code>`). */
  readonly code: string;
  readonly catalog: 'mail' | 'errors';
  readonly params: Readonly<Record<string, string | number>>;
  readonly remedy?: Remedy;
  /** The server's own words, when it said something. */
  readonly serverResponse?: string;
  /** Its IMAP response code, POP3 RFC 2449 code, or SMTP reply code. */
  readonly serverCode?: string;
  /** The refusal catalog's entry for the server's answer (`mail.refusals.<id>`). */
  readonly refusal?: string;
  /** The decoded RFC 7628 §3.2.2 error challenge. */
  readonly challenge?: SaslErrorChallenge;
}

export interface TestResult {
  readonly ok: boolean;
  readonly steps: readonly TestStep[];
  readonly error?: TestFailure;
}

export interface ConnectionTestDeps {
  readonly mail: MailClient;
  readonly tokens: AccessTokenSource;
}

export interface ConnectionTestOptions {
  /** Outgoing servers: the test message to send. */
  readonly message?: OutgoingMessage;
}

/** The words of an outgoing server's test message, in the reader's language (the caller's). */
export interface TestMessageText {
  readonly subject: string;
  readonly text: string;
}

/**
 * The test message of an outgoing server, to `to` or else the mailbox itself, in the words
 * the caller chose. `Auto-Submitted` (RFC 3834 §5): nobody, and no mail handler, answers it.
 */
export function testMessage(
  server: MailServerRuntime,
  to: string | undefined,
  words: TestMessageText,
): OutgoingMessage {
  return {
    from: server.username,
    to: [to ?? server.username],
    subject: words.subject,
    text: words.text,
    headers: { 'Auto-Submitted': 'auto-generated' },
  };
}

/** Runs the connection test of one mail server; never throws for a server's failure. */
export async function runConnectionTest(
  deps: ConnectionTestDeps,
  server: MailServerRuntime,
  options: ConnectionTestOptions = {},
): Promise<TestResult> {
  const steps: TestStep[] = [];
  const pass = (name: MailStep, key: string, params: StepText['params']) =>
    steps.push({ name, ok: true, detail: { key, params } });
  const { host, port, security } = server;
  const observer: SessionObserver = {
    connected(info) {
      pass('connect', 'connected', { host, address: info.address, port });
      if (security === 'none') pass('tls', 'plain', { host });
    },
    secured(info) {
      pass('tls', security === 'tls' ? 'tls' : 'starttls', {
        host,
        protocol: info.protocol,
        cipher: info.cipher,
      });
    },
    greeted(info) {
      pass('greeting', 'greeting', {
        greeting: echoText(info.greeting),
        capabilities: echoText(info.capabilities.join(' ')),
        mechanisms: echoText(info.mechanisms.join(' ')) || '-',
      });
    },
  };
  // The failed step's words are the error's, put into words by the caller.
  const stop = (failure: TestFailure): TestResult => {
    steps.push({ name: failure.step, ok: false, detail: { key: 'failed', params: {} } });
    return { ok: false, steps, error: failure };
  };
  const run = new TestRun(deps, server, options, pass);
  try {
    await run.preamble(observer);
  } catch (error) {
    run.close();
    return stop(failureOf(error, 'connect', steps, server));
  }
  let token: MailAccessToken | undefined;
  try {
    token = await run.token();
  } catch (error) {
    run.close();
    return stop(failureOf(error, 'token', steps, server));
  }
  try {
    await run.authenticate(token);
  } catch (error) {
    run.close();
    return stop(failureOf(error, 'authentication', steps, server));
  }
  try {
    await run.finish();
  } catch (error) {
    return stop(failureOf(error, server.protocol === 'smtp' ? 'send' : 'folder', steps, server));
  } finally {
    run.close();
  }
  return { ok: true, steps };
}

/** The protocol-specific parts of one test run, and the sessions it holds. */
class TestRun {
  readonly #deps: ConnectionTestDeps;
  readonly #server: MailServerRuntime;
  readonly #options: ConnectionTestOptions;
  readonly #pass: (name: MailStep, key: string, params: StepText['params']) => void;
  #greeting: GreetingInfo | undefined;
  #pop3: Pop3Connection | undefined;
  #smtp: SmtpSession | undefined;
  #imap: ImapSession | undefined;

  constructor(
    deps: ConnectionTestDeps,
    server: MailServerRuntime,
    options: ConnectionTestOptions,
    pass: (name: MailStep, key: string, params: StepText['params']) => void,
  ) {
    this.#deps = deps;
    this.#server = server;
    this.#options = options;
    this.#pass = pass;
  }

  /** Connect, TLS, greeting and capabilities: everything before a secret is sent. */
  async preamble(observer: SessionObserver): Promise<void> {
    const target = this.#deps.mail.target(this.#server);
    switch (this.#server.protocol) {
      case 'imap':
        // imapflow cannot stop before authenticating and go on later: the probe is a
        // connection of its own, and authentication opens another.
        this.#greeting = await probeImap(target, observer);
        if (this.#server.credentials.method === 'oauth2') {
          imapMechanismCheck(target, this.#greeting, this.#server.saslMechanism ?? undefined);
        }
        return;
      case 'pop3':
        this.#pop3 = await connectPop3(target, observer);
        this.#greeting = this.#pop3.greeting;
        return;
      case 'smtp':
        this.#smtp = await SmtpSession.open(target, observer);
        this.#greeting = this.#smtp.greeting;
        return;
    }
  }

  async token(): Promise<MailAccessToken | undefined> {
    const { credentials, username } = this.#server;
    if (credentials.method === 'password') {
      this.#pass('token', 'password', { username });
      return undefined;
    }
    const token = await this.#deps.tokens.getAccessToken(credentials.connectionId);
    const delegated = token.account.toLowerCase() !== username.toLowerCase();
    this.#pass('token', delegated ? 'token_delegated' : 'token', {
      account: token.account,
      username,
      expiresAt: token.expiresAt ?? '-',
    });
    return token;
  }

  async authenticate(token: MailAccessToken | undefined): Promise<void> {
    const server = this.#server;
    const target = this.#deps.mail.target(server);
    let attempts = 0;
    const { value: mechanism, refreshed } = await this.#deps.mail.authenticate(
      server,
      async (login) => {
        attempts += 1;
        // The first attempt logs in on the connection the preamble opened (POP3 and SMTP
        // stay in their authorization state); a retry needs a connection of its own.
        switch (server.protocol) {
          case 'imap': {
            this.#imap?.client.close();
            this.#imap = await openImap(target, login);
            return this.#imap.mechanism ?? 'PASSWORD';
          }
          case 'pop3': {
            if (attempts > 1 || !this.#pop3) {
              this.#pop3?.session.close();
              this.#pop3 = await connectPop3(target);
            }
            return loginPop3(this.#pop3.session, login);
          }
          case 'smtp': {
            if (attempts > 1 || !this.#smtp) {
              this.#smtp?.quit();
              this.#smtp = await SmtpSession.open(target);
            }
            return this.#smtp.login(login);
          }
        }
      },
      token ? { firstToken: token } : {},
    );
    this.#pass('authentication', refreshed ? 'authenticated_after_refresh' : 'authenticated', {
      username: server.username,
      mechanism,
    });
  }

  /** Open the folder (IMAP EXAMINE, POP3 STAT) or send the test message (SMTP). */
  async finish(): Promise<void> {
    const server = this.#server;
    if (this.#imap) {
      const folder = server.folder ?? 'INBOX';
      const count = await examineFolder(this.#imap, folder);
      this.#pass('folder', 'folder', { folder, count });
      await this.#imap.client.logout().catch(() => undefined);
      this.#imap = undefined;
      return;
    }
    if (this.#pop3) {
      const { count, size } = await this.#pop3.session.stat().catch((error: unknown) => {
        throw new MailError('folder_failed', 'folder', 'pop3', (error as Error).message, {
          cause: error,
        });
      });
      this.#pass('folder', 'mailbox', { count, size });
      await this.#pop3.session.quit().catch(() => undefined);
      this.#pop3 = undefined;
      return;
    }
    const message = this.#options.message;
    if (!this.#smtp || !message) return;
    const sent = await this.#smtp.send(message);
    this.#pass('send', 'sent', { to: message.to.join(', '), response: echoText(sent.response) });
  }

  close(): void {
    this.#imap?.client.close();
    this.#pop3?.session.close();
    this.#smtp?.quit();
    this.#imap = undefined;
    this.#pop3 = undefined;
    this.#smtp = undefined;
  }
}

/** A thrown error as the run's failure; `fallback` is the step when the error names none. */
function failureOf(
  error: unknown,
  fallback: MailStep,
  steps: readonly TestStep[],
  server: MailServerRuntime,
): TestFailure {
  if (error instanceof MailError) {
    // A step that already passed (a retry's new connection failing) is reported as the step
    // being run.
    const step = steps.some((s) => s.name === error.step && s.ok) ? fallback : error.step;
    const refusal = refusalOf(error, server);
    const remedy =
      error.remedy ??
      (refusal?.definitive ? { id: refusal.remedy, params: remedyParams(server) } : undefined);
    return {
      step,
      code: error.code,
      catalog: 'mail',
      params: { detail: echoText(error.message, 2 * ECHO_LIMIT) },
      ...(remedy ? { remedy } : {}),
      ...(refusal ? { refusal: refusal.id } : {}),
      ...(error.serverText ? { serverResponse: echoText(error.serverText) } : {}),
      ...(error.responseCode ? { serverCode: echoText(error.responseCode) } : {}),
      ...(error.challenge ? { challenge: echoChallenge(error.challenge) } : {}),
    };
  }
  if (isOutlinkError(error)) {
    return {
      step: fallback,
      code: error.code,
      catalog: 'errors',
      params: { ...error.params },
    };
  }
  return {
    step: fallback,
    code: 'protocol_error',
    catalog: 'mail',
    params: {
      detail: echoText(error instanceof Error ? error.message : String(error), 2 * ECHO_LIMIT),
    },
  };
}

/**
 * The refusal catalog's reading of a failed login (issue 13 item 2): only an answer to a
 * token (refused, or "cannot check now") is a refusal; a folder, a send or a password is not.
 */
export function refusalOf(
  error: MailError,
  server: MailServerRuntime,
): MailRefusalEntry | undefined {
  const login =
    error.code === MailErrorCodes.AUTH_FAILED || error.code === MailErrorCodes.AUTH_TEMPORARY;
  if (!login || server.credentials.method === 'password') return undefined;
  return classifyRefusal(error, server.host, server.protocol);
}

/** The server's decoded challenge, each of its words echoed like any server text. */
function echoChallenge(challenge: SaslErrorChallenge): SaslErrorChallenge {
  return Object.fromEntries(
    Object.entries(challenge).map(([key, value]) => [key, echoText(String(value))]),
  ) as unknown as SaslErrorChallenge;
}
