import type { SaslChallengeError, SaslErrorChallenge, SaslMechanism } from '../sasl.js';

/**
 * Why a POP3 session failed, one constant per code. The mail layer maps these to the catalog
 * (`src/domain/errors.ts`) and to the step of a connection test that broke.
 */
export const Pop3ErrorCodes = {
  /** TCP connect refused, unreachable, DNS failure, or a `-ERR` greeting (RFC 1939 §4). */
  CONNECT_FAILED: 'connect_failed',
  /** The TLS handshake failed (certificate not trusted, wrong host, protocol). */
  TLS_FAILED: 'tls_failed',
  /** `security: 'starttls'` but the server does not offer STLS or refused it (RFC 2595 §4). */
  STARTTLS_UNAVAILABLE: 'starttls_unavailable',
  /** The server offers none of the SASL mechanisms asked for (RFC 2449 §6.3 `SASL`). */
  MECHANISM_UNAVAILABLE: 'mechanism_unavailable',
  /** Credentials refused: `-ERR [AUTH]` (RFC 3206 §4) or a plain `-ERR` to AUTH/USER/PASS. */
  AUTH_FAILED: 'auth_failed',
  /** `-ERR [SYS/TEMP]`, `[IN-USE]` or `[LOGIN-DELAY]` to a login (RFC 3206 §5, RFC 2449 §8.1). */
  AUTH_TEMPORARY: 'auth_temporary',
  /** The server answered `-ERR` to a command after login (no such message, …). */
  COMMAND_FAILED: 'command_failed',
  /** The server's answer does not follow RFC 1939 / RFC 2449 / RFC 5034. */
  PROTOCOL_ERROR: 'protocol_error',
  /** No answer within the connect, TLS or command timeout. */
  TIMEOUT: 'timeout',
  /** A line or a multi-line answer over the configured limit. */
  RESPONSE_TOO_LARGE: 'response_too_large',
  /** The server closed the connection, or the session was closed or broken before. */
  CONNECTION_CLOSED: 'connection_closed',
  /** A command that the session's state does not allow (RFC 1939 §3). */
  INVALID_STATE: 'invalid_state',
  /** A caller's argument that cannot be sent (a CR or LF in a user name, a bad number…). */
  INVALID_ARGUMENT: 'invalid_argument',
} as const;

export type Pop3ErrorCode = (typeof Pop3ErrorCodes)[keyof typeof Pop3ErrorCodes];

/** Detail carried by a `Pop3Error`; never a password or token. */
export interface Pop3ErrorDetails {
  /** The command verb that failed (`AUTH`, `RETR`, …), never its arguments. */
  readonly command?: string;
  /** The server's human-readable text after `-ERR` (without the response code). */
  readonly serverText?: string;
  /** The RFC 2449 §8 response code, e.g. `AUTH`, `SYS/TEMP`, `IN-USE`. */
  readonly responseCode?: string;
  /** The SASL mechanism used when authentication failed. */
  readonly mechanism?: SaslMechanism;
  /** The decoded RFC 7628 §3.2.2 error challenge, when the server sent a readable one. */
  readonly challenge?: SaslErrorChallenge;
  /** Why the server's error challenge could not be read, when it was malformed. */
  readonly challengeError?: SaslChallengeError;
  readonly cause?: unknown;
}

/** A POP3 failure with a stable `code` and what the server said. */
export class Pop3Error extends Error {
  readonly code: Pop3ErrorCode;
  readonly command: string | undefined;
  readonly serverText: string | undefined;
  readonly responseCode: string | undefined;
  readonly mechanism: SaslMechanism | undefined;
  readonly challenge: SaslErrorChallenge | undefined;
  readonly challengeError: SaslChallengeError | undefined;

  constructor(code: Pop3ErrorCode, message: string, details: Pop3ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'Pop3Error';
    this.code = code;
    this.command = details.command;
    this.serverText = details.serverText;
    this.responseCode = details.responseCode;
    this.mechanism = details.mechanism;
    this.challenge = details.challenge;
    this.challengeError = details.challengeError;
  }
}
