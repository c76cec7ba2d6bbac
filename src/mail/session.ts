/**
 * What the IMAP, POP3 and SMTP adapters share: the credentials of one login, the observer a
 * connection test listens with, and reading a server's error challenge that a library already
 * decoded.
 */
import type { MailSecurity } from './endpoint.js';
import type { MailErrorDetails } from './mail-error.js';
import {
  decodeErrorChallenge,
  SASL_MECHANISMS,
  type SaslErrorChallenge,
  type SaslMechanism,
} from './sasl.js';
import type { SocketObserver } from './socket.js';

/** An access token (XOAUTH2 / OAUTHBEARER) or a password, for servers that still take one. */
export type MailSecret =
  | { readonly kind: 'token'; readonly accessToken: string }
  | { readonly kind: 'password'; readonly password: string };

/** One login: the mailbox, its secret and the administrator's mechanism override. */
export interface MailLogin {
  readonly user: string;
  readonly secret: MailSecret;
  /** Force XOAUTH2 or OAUTHBEARER; default: OAUTHBEARER when offered, else XOAUTH2. */
  readonly mechanism?: SaslMechanism | undefined;
}

/** What a server said before authentication. */
export interface GreetingInfo {
  /** The greeting's text (IMAP `* OK …`, POP3 `+OK …`, SMTP `220 …`). */
  readonly greeting: string;
  /** The capabilities as read after TLS (IMAP CAPABILITY, POP3 CAPA, SMTP EHLO keywords). */
  readonly capabilities: readonly string[];
  /** The SASL mechanisms offered, upper case. */
  readonly mechanisms: readonly string[];
  /** Whether the connection is protected by TLS (implicit or upgraded). */
  readonly secure: boolean;
}

/** A connection test's ears: each phase as it completes (all optional). */
export interface SessionObserver extends SocketObserver {
  greeted?(info: GreetingInfo): void;
}

/** The security mode's phases that completed, for telling which step a failure belongs to. */
export interface Progress {
  connected: boolean;
  secured: boolean;
  greeted: boolean;
}

/**
 * The step a failure belongs to, from how far the connection got: TCP, then implicit TLS, then
 * the greeting, then STARTTLS, then authentication.
 */
export function stepOf(
  security: MailSecurity,
  progress: Progress,
): 'connect' | 'tls' | 'greeting' | 'authentication' {
  if (!progress.connected) return 'connect';
  if (security === 'tls' && !progress.secured) return 'tls';
  if (!progress.greeted) return 'greeting';
  if (security === 'starttls' && !progress.secured) return 'tls';
  return 'authentication';
}

/**
 * An error challenge some library already parsed from JSON (imapflow's `oauthError`), checked
 * the way `decodeErrorChallenge` checks the wire form, so every protocol reports the same shape.
 */
export function challengeDetails(
  value: unknown,
): Pick<MailErrorDetails, 'challenge' | 'challengeError'> {
  if (value === undefined || value === null || value === false) return {};
  const decoded = decodeErrorChallenge(
    Buffer.from(JSON.stringify(value), 'utf8').toString('base64'),
  );
  return decoded.ok ? { challenge: decoded.challenge } : { challengeError: decoded.error };
}

/** The SASL mechanisms Outlink speaks among those a server offers, upper case. */
export function oauthMechanisms(offered: readonly string[]): SaslMechanism[] {
  const names = new Set(offered.map((m) => m.toUpperCase()));
  return SASL_MECHANISMS.filter((m) => names.has(m));
}

export type { SaslErrorChallenge, SaslMechanism };
