/**
 * Logging in: the RFC 5034 §4 AUTH exchange for XOAUTH2 and OAUTHBEARER, and how a refused
 * USER/PASS or AUTH becomes a `Pop3Error` (RFC 3206 response codes).
 */

import {
  decodeErrorChallenge,
  type ErrorChallengeResult,
  errorChallengeReply,
  initialResponse,
  type SaslMechanism,
} from '../sasl.js';
import { Pop3Error, Pop3ErrorCodes } from './error.js';
import {
  type AuthResponseLine,
  authCommand,
  isTemporaryLoginFailure,
  type StatusLine,
} from './protocol.js';
import { type Pop3Settings, readAuthResponse, type Wire } from './wire.js';

/**
 * One RFC 5034 §4 AUTH exchange for a client-first mechanism:
 * `AUTH <mech> [ir]` → (`+ ` → ir) → `+OK`, or `-ERR`, or an error challenge `+ <b64 json>`
 * answered as the mechanism requires (RFC 7628 §3.2.3) and then `-ERR`.
 */
export class AuthExchange {
  readonly #wire: Wire;
  readonly #mechanism: SaslMechanism;

  constructor(wire: Wire, mechanism: SaslMechanism) {
    this.#wire = wire;
    this.#mechanism = mechanism;
  }

  async run(response: string, useInitialResponse: boolean): Promise<void> {
    const command = authCommand(this.#mechanism, response, useInitialResponse);
    this.#wire.write(command.line);
    let status = await this.#read();
    if (command.pendingResponse !== undefined) {
      if (status.kind === 'ok') this.#unexpected('+OK before the client response was sent');
      if (status.kind === 'continuation') {
        this.#wire.write(`${command.pendingResponse}\r\n`);
        status = await this.#read();
      }
    }
    if (status.kind === 'ok') return;
    if (status.kind === 'err') throw this.#failure(status, undefined);
    const challenge = decodeErrorChallenge(status.data);
    this.#wire.write(`${errorChallengeReply(this.#mechanism)}\r\n`);
    const final = await this.#read();
    if (final.kind === 'err') throw this.#failure(final, challenge);
    this.#unexpected(
      final.kind === 'ok'
        ? '+OK after an error challenge (RFC 7628 §3.2.3 says the server fails the exchange)'
        : 'a second challenge after the error challenge',
    );
  }

  #read(): Promise<AuthResponseLine> {
    return readAuthResponse(this.#wire);
  }

  #failure(
    status: StatusLine & { kind: 'err' },
    challenge: ErrorChallengeResult | undefined,
  ): Pop3Error {
    const temporary = isTemporaryLoginFailure(status.code);
    return new Pop3Error(
      temporary ? Pop3ErrorCodes.AUTH_TEMPORARY : Pop3ErrorCodes.AUTH_FAILED,
      `${this.#mechanism} authentication ${temporary ? 'failed temporarily' : 'failed'}: ${status.code ? `[${status.code}] ` : ''}${status.text}`,
      {
        command: 'AUTH',
        serverText: status.text,
        responseCode: status.code,
        mechanism: this.#mechanism,
        ...(challenge?.ok ? { challenge: challenge.challenge } : {}),
        ...(challenge && !challenge.ok ? { challengeError: challenge.error } : {}),
      },
    );
  }

  #unexpected(what: string): never {
    const error = new Pop3Error(
      Pop3ErrorCodes.PROTOCOL_ERROR,
      `unexpected answer to AUTH ${this.#mechanism}: ${what}`,
      { command: 'AUTH', mechanism: this.#mechanism },
    );
    throw this.#wire.fail(error);
  }
}

/** The initial client response; an argument that cannot be sent is `invalid_argument`. */
export function saslResponse(
  mechanism: SaslMechanism,
  credentials: { readonly user: string; readonly accessToken: string },
  settings: Pop3Settings,
): string {
  try {
    return initialResponse(
      mechanism,
      { user: credentials.user, accessToken: credentials.accessToken },
      { host: settings.servername ?? settings.host, port: settings.port },
    );
  } catch (error) {
    throw new Pop3Error(Pop3ErrorCodes.INVALID_ARGUMENT, (error as Error).message, {
      command: 'AUTH',
      cause: error,
    });
  }
}

/** A refused USER or PASS: `auth_temporary` for RFC 3206 §5 codes, else `auth_failed`. */
export function loginFailure(verb: string, status: StatusLine): Pop3Error {
  const { code, text } = status;
  const temporary = isTemporaryLoginFailure(code);
  return new Pop3Error(
    temporary ? Pop3ErrorCodes.AUTH_TEMPORARY : Pop3ErrorCodes.AUTH_FAILED,
    `${verb} refused${temporary ? ' (temporary)' : ''}: ${code ? `[${code}] ` : ''}${text}`,
    { command: verb, serverText: text, responseCode: code },
  );
}
