import { OutlinkError } from '../domain/errors.js';
import type { MailStep } from '../domain/mail-server.js';
import type { Remedy } from '../providers/mail-refusals.js';
import type { MailProtocol } from './endpoint.js';
import type { SaslChallengeError, SaslErrorChallenge, SaslMechanism } from './sasl.js';

/**
 * Why a mail session failed, one constant per code; user-facing texts live under
 * `mail.errors.<code>` in the catalogs.
 */
export const MailErrorCodes = {
  /** DNS failure, refused or unreachable (RFC 9293 connect). */
  CONNECT_FAILED: 'connect_failed',
  /**
   * The host is, or resolves to, an address Outlink refuses (link-local, cloud metadata,
   * multicast; `domain/address-policy.ts`): no connection was attempted.
   */
  ADDRESS_REFUSED: 'address_refused',
  /** The TLS handshake failed: certificate not trusted, wrong host name, protocol. */
  TLS_FAILED: 'tls_failed',
  /** `security: starttls` and the server does not offer STARTTLS / STLS or refused it. */
  STARTTLS_UNAVAILABLE: 'starttls_unavailable',
  /** The server's greeting was a refusal or not the protocol expected. */
  GREETING_FAILED: 'greeting_failed',
  /** The server offers neither XOAUTH2 nor OAUTHBEARER (or not the mechanism required). */
  MECHANISM_UNAVAILABLE: 'mechanism_unavailable',
  /** The server refused the credentials (IMAP `NO`, POP3 `-ERR [AUTH]`, SMTP `535`). */
  AUTH_FAILED: 'auth_failed',
  /** The server could not check the credentials now (IMAP `[UNAVAILABLE]`, SMTP `454`). */
  AUTH_TEMPORARY: 'auth_temporary',
  /** The folder (mailbox) could not be opened. */
  FOLDER_FAILED: 'folder_failed',
  /** The server refused the sender, the recipients or the message. */
  SEND_FAILED: 'send_failed',
  /** No answer within the step's timeout. */
  TIMEOUT: 'timeout',
  /** The server closed the connection. */
  CONNECTION_CLOSED: 'connection_closed',
  /** An answer that does not follow the protocol. */
  PROTOCOL_ERROR: 'protocol_error',
} as const;
export type MailErrorCode = (typeof MailErrorCodes)[keyof typeof MailErrorCodes];

/** What a `MailError` carries besides its code and step; never a password or token. */
export interface MailErrorDetails {
  /** The server's own words (a response line without the tag), for the administrator. */
  readonly serverText?: string;
  /** IMAP response code, POP3 RFC 2449 code, or SMTP reply code with enhanced status. */
  readonly responseCode?: string;
  /** The SASL mechanism used when authentication failed. */
  readonly mechanism?: SaslMechanism;
  /** The decoded RFC 7628 §3.2.2 error challenge, when the server sent a readable one. */
  readonly challenge?: SaslErrorChallenge;
  /** Why the server's error challenge could not be read. */
  readonly challengeError?: SaslChallengeError;
  /** What to do about it, once known (a refusal after the forced refresh). */
  readonly remedy?: Remedy;
  readonly cause?: unknown;
}

/** A mail session failure with a stable code, the step it broke in and what the server said. */
export class MailError extends Error {
  readonly code: MailErrorCode;
  readonly step: MailStep;
  readonly protocol: MailProtocol;
  readonly serverText: string | undefined;
  readonly responseCode: string | undefined;
  readonly mechanism: SaslMechanism | undefined;
  readonly challenge: SaslErrorChallenge | undefined;
  readonly challengeError: SaslChallengeError | undefined;
  readonly remedy: Remedy | undefined;

  constructor(
    code: MailErrorCode,
    step: MailStep,
    protocol: MailProtocol,
    message: string,
    details: MailErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MailError';
    this.code = code;
    this.step = step;
    this.protocol = protocol;
    this.serverText = details.serverText;
    this.responseCode = details.responseCode;
    this.mechanism = details.mechanism;
    this.challenge = details.challenge;
    this.challengeError = details.challengeError;
    this.remedy = details.remedy;
  }

  /** The same failure with a remedy attached. */
  withRemedy(remedy: Remedy): MailError {
    return new MailError(this.code, this.step, this.protocol, this.message, {
      ...this.details(),
      remedy,
      cause: this.cause,
    });
  }

  /** The server's words and the challenge, for copying into another error. */
  details(): MailErrorDetails {
    return {
      ...(this.serverText !== undefined ? { serverText: this.serverText } : {}),
      ...(this.responseCode !== undefined ? { responseCode: this.responseCode } : {}),
      ...(this.mechanism ? { mechanism: this.mechanism } : {}),
      ...(this.challenge ? { challenge: this.challenge } : {}),
      ...(this.challengeError ? { challengeError: this.challengeError } : {}),
      ...(this.remedy ? { remedy: this.remedy } : {}),
    };
  }
}

/** True for a refusal of the credentials themselves: the case that earns one token refresh. */
export function isCredentialRejection(error: unknown): error is MailError {
  return error instanceof MailError && error.code === MailErrorCodes.AUTH_FAILED;
}

/** Failures that say "try later" rather than "something is wrong" (HTTP 503, not 502). */
const TEMPORARY: ReadonlySet<MailErrorCode> = new Set([
  MailErrorCodes.AUTH_TEMPORARY,
  MailErrorCodes.TIMEOUT,
  MailErrorCodes.CONNECTION_CLOSED,
]);

/**
 * A mail session's failure as a catalog error for an API answer or the CLI (the mail handler's
 * poll, say): `mail_server_unavailable` (503) when it may pass, `mail_server_failed` (502)
 * otherwise, naming the server, the step and what broke. Anything else is returned as is.
 */
export function asOutlinkError(error: unknown, serverName: string): unknown {
  if (!(error instanceof MailError)) return error;
  return new OutlinkError(
    TEMPORARY.has(error.code) ? 'mail_server_unavailable' : 'mail_server_failed',
    { name: serverName, step: error.step, code: error.code, detail: error.message },
    { cause: error, details: { step: error.step, mailCode: error.code } },
  );
}
