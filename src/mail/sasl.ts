/**
 * SASL for OAuth 2.0 bearer tokens, shared by the IMAP, POP3 and SMTP clients: the XOAUTH2
 * (Google's, also Microsoft's) and OAUTHBEARER (RFC 7628) initial client responses, the choice
 * between them from a server's capabilities, and the error challenge a server sends when it
 * refuses a token. Pure functions: no sockets, no clock.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7628 RFC 7628 (OAUTHBEARER)
 * @see https://developers.google.com/gmail/imap/xoauth2-protocol XOAUTH2
 */

import { SASL_MECHANISMS, type SaslMechanism } from '../domain/mail-server.js';

/** The mechanisms Outlink speaks, most preferred first: a mail server's setting names them. */
export { SASL_MECHANISMS, type SaslMechanism };

/** What a client presents: the mailbox user and an OAuth 2.0 access token. */
export interface BearerCredentials {
  /** The mailbox (SASL authorization identity), e.g. `support@example.com`. */
  readonly user: string;
  /** The access token (RFC 6750 §2.1 `b64token`). */
  readonly accessToken: string;
}

/** OAUTHBEARER's optional `host` and `port` key/value pairs (RFC 7628 §3.1). */
export interface OAuthBearerTarget {
  readonly host?: string;
  readonly port?: number;
}

/**
 * The decoded error challenge (RFC 7628 §3.2.2; Google's XOAUTH2 sends the same JSON), e.g.
 * `{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`.
 */
export interface SaslErrorChallenge {
  /** REQUIRED: an HTTP-like code (`"401"`) or an RFC 6750 §3.1 error (`"invalid_token"`). */
  readonly status: string;
  /** The scope the token needs (RFC 7628 §3.2.2), when the server says. */
  readonly scope?: string;
  /** The authentication schemes the server accepts (`"bearer"`), when the server says. */
  readonly schemes?: string;
  /** RFC 7628 §3.2.2 `openid-configuration`: where the server's OpenID metadata lives. */
  readonly openidConfiguration?: string;
}

/** Why an error challenge could not be read; codes are stable, messages are for logs. */
export type SaslChallengeErrorCode =
  | 'challenge_too_large'
  | 'challenge_not_base64'
  | 'challenge_not_utf8'
  | 'challenge_not_json'
  | 'challenge_not_object'
  | 'challenge_status_missing'
  | 'challenge_member_invalid';

/** A server's error challenge that is not what RFC 7628 §3.2.2 describes. */
export class SaslChallengeError extends Error {
  readonly code: SaslChallengeErrorCode;

  constructor(code: SaslChallengeErrorCode, message: string) {
    super(message);
    this.name = 'SaslChallengeError';
    this.code = code;
  }
}

/** The outcome of `decodeErrorChallenge`: never throws, whatever the server sent. */
export type ErrorChallengeResult =
  | { readonly ok: true; readonly challenge: SaslErrorChallenge }
  | { readonly ok: false; readonly error: SaslChallengeError };

/**
 * The longest base64 error challenge accepted, in characters. Real ones are under 300 (Gmail's
 * is about 100); the bound keeps a hostile server from making the client decode megabytes.
 */
export const MAX_ERROR_CHALLENGE_LENGTH = 8192;

/** The outcome of `chooseMechanism`. */
export type MechanismChoice =
  | { readonly ok: true; readonly mechanism: SaslMechanism }
  | { readonly ok: false; readonly reason: 'not_offered'; readonly offered: readonly string[] };

/**
 * The XOAUTH2 initial client response, base64: `user=<user>^Aauth=Bearer <token>^A^A`.
 *
 * @see https://developers.google.com/gmail/imap/xoauth2-protocol#the_sasl_xoauth2_mechanism
 */
export function xoauth2InitialResponse(credentials: BearerCredentials): string {
  assertCredentials(credentials);
  const { user, accessToken } = credentials;
  return toBase64(`user=${user}\x01auth=Bearer ${accessToken}\x01\x01`);
}

/**
 * The OAUTHBEARER initial client response (RFC 7628 §3.1), base64:
 * `n,a=<saslname>,^Ahost=<host>^Aport=<port>^Aauth=Bearer <token>^A^A`. The user goes into the
 * GS2 header's authzid with `,` and `=` escaped (RFC 5801 §4); `host` and `port` are sent
 * when given.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7628#section-3.1
 */
export function oauthBearerInitialResponse(
  credentials: BearerCredentials,
  target: OAuthBearerTarget = {},
): string {
  assertCredentials(credentials);
  const pairs: string[] = [];
  if (target.host !== undefined) {
    assertHost(target.host);
    pairs.push(`host=${target.host}`);
  }
  if (target.port !== undefined) {
    assertPort(target.port);
    pairs.push(`port=${target.port}`);
  }
  pairs.push(`auth=Bearer ${credentials.accessToken}`);
  const gs2Header = `n,a=${saslName(credentials.user)},`;
  return toBase64(`${gs2Header}\x01${pairs.join('\x01')}\x01\x01`);
}

/** The initial client response of `mechanism` (see the two functions above). */
export function initialResponse(
  mechanism: SaslMechanism,
  credentials: BearerCredentials,
  target: OAuthBearerTarget = {},
): string {
  return mechanism === 'OAUTHBEARER'
    ? oauthBearerInitialResponse(credentials, target)
    : xoauth2InitialResponse(credentials);
}

/**
 * Picks the mechanism from what the server advertises (IMAP `AUTH=`, POP3 CAPA `SASL`, SMTP
 * EHLO `AUTH`; names compared without regard to case). OAUTHBEARER, the standard, wins when
 * offered; XOAUTH2 otherwise. An `override` (the administrator's choice per mail server) is
 * used only when offered. When the server did not advertise anything (`offered` undefined: no
 * CAPA, say), the override or else XOAUTH2, which every OAuth mail server speaks, is tried.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7628#section-3 RFC 7628 §3
 */
export function chooseMechanism(
  offered: readonly string[] | undefined,
  override?: SaslMechanism,
): MechanismChoice {
  if (offered === undefined) return { ok: true, mechanism: override ?? 'XOAUTH2' };
  const names = new Set(offered.map((m) => m.toUpperCase()));
  const candidates = override ? [override] : SASL_MECHANISMS;
  const mechanism = candidates.find((m) => names.has(m));
  return mechanism ? { ok: true, mechanism } : { ok: false, reason: 'not_offered', offered };
}

/**
 * Decodes a server's error challenge: the base64 text after IMAP `+ `, POP3 `+ ` or SMTP
 * `334 `, holding a JSON object (RFC 7628 §3.2.2). Members other than the four known ones are
 * ignored. Strict base64 (RFC 4648 §4, padded, no whitespace) and UTF-8 JSON (RFC 8259 §8.1).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7628#section-3.2.2
 */
export function decodeErrorChallenge(data: string): ErrorChallengeResult {
  if (data.length > MAX_ERROR_CHALLENGE_LENGTH) {
    return failure(
      'challenge_too_large',
      `the error challenge is ${data.length} characters long; at most ${MAX_ERROR_CHALLENGE_LENGTH} are accepted`,
    );
  }
  if (data.length === 0 || data.length % 4 !== 0 || !BASE64.test(data)) {
    return failure(
      'challenge_not_base64',
      data.length === 0
        ? 'the error challenge is empty'
        : data.length % 4 !== 0 && BASE64_UNPADDED.test(data)
          ? 'the error challenge is truncated base64 (its length is not a multiple of 4)'
          : 'the error challenge is not base64 (RFC 4648 §4)',
    );
  }
  let text: string;
  try {
    text = UTF8.decode(Buffer.from(data, 'base64'));
  } catch {
    return failure('challenge_not_utf8', 'the error challenge is not UTF-8 text');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return failure('challenge_not_json', 'the error challenge is not JSON (truncated or garbled)');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return failure('challenge_not_object', 'the error challenge is not a JSON object');
  }
  return readChallenge(json as Record<string, unknown>);
}

/**
 * The client's answer to an error challenge, as one line of base64 (possibly empty):
 * XOAUTH2 expects an empty response; OAUTHBEARER a single `%x01` (`AQ==`, RFC 7628 §3.2.3).
 * The server then fails the exchange (IMAP `NO`, POP3 `-ERR`, SMTP `535`).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7628#section-3.2.3
 */
export function errorChallengeReply(mechanism: SaslMechanism): '' | 'AQ==' {
  return mechanism === 'OAUTHBEARER' ? 'AQ==' : '';
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_UNPADDED = /^[A-Za-z0-9+/]+$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 7628 §3.1 `value` excludes %x01; SASL user names carry no control characters either. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

const MEMBERS = [
  ['status', 'status'],
  ['scope', 'scope'],
  ['schemes', 'schemes'],
  ['openid-configuration', 'openidConfiguration'],
] as const;

function readChallenge(json: Record<string, unknown>): ErrorChallengeResult {
  const read: { -readonly [K in keyof SaslErrorChallenge]?: string } = {};
  for (const [member, field] of MEMBERS) {
    const value = json[member];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      return failure(
        'challenge_member_invalid',
        `the error challenge's "${member}" member is not a string`,
      );
    }
    read[field] = value;
  }
  const { status } = read;
  if (status === undefined) {
    return failure('challenge_status_missing', 'the error challenge has no "status" member');
  }
  return { ok: true, challenge: { ...read, status } };
}

function failure(code: SaslChallengeErrorCode, message: string): ErrorChallengeResult {
  return { ok: false, error: new SaslChallengeError(code, message) };
}

function toBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** RFC 5801 §4 `saslname`: `=` and `,` escaped as `=3D` and `=2C`. */
function saslName(user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function assertCredentials(credentials: BearerCredentials): void {
  if (typeof credentials.user !== 'string' || credentials.user.length === 0) {
    throw new TypeError('"user" must be a non-empty string');
  }
  if (hasControlCharacter(credentials.user)) {
    throw new TypeError('"user" must not contain control characters');
  }
  if (typeof credentials.accessToken !== 'string' || !B64TOKEN.test(credentials.accessToken)) {
    throw new TypeError('"accessToken" must be a bearer token (RFC 6750 §2.1 b64token)');
  }
}

function assertHost(host: string): void {
  if (host.length === 0 || hasControlCharacter(host) || /\s/.test(host)) {
    throw new TypeError('"host" must be a host name without spaces or control characters');
  }
}

function assertPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError('"port" must be an integer from 1 to 65535');
  }
}
