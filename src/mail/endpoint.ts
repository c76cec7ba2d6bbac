import { isIP } from 'node:net';
import type { MailProtocol, MailSecurity } from '../domain/mail-server.js';

export type { MailProtocol, MailSecurity } from '../domain/mail-server.js';

/** Where a mail server listens. */
export interface MailEndpoint {
  readonly protocol: MailProtocol;
  readonly host: string;
  readonly port: number;
  readonly security: MailSecurity;
}

/**
 * TLS trust for mail servers (a composition-root dependency): `ca` replaces Node's roots, for
 * tests and private CAs. Production deployments add roots the Node way
 * (`NODE_EXTRA_CA_CERTS`, DESIGN §3). Certificates are always verified.
 */
export interface MailTlsOptions {
  readonly ca?: string | readonly string[];
}

/** Timeouts of every network step (DESIGN issue 5: no hang on a silent server). */
export interface MailTimeouts {
  /** DNS lookup and TCP connect. */
  readonly connectMs: number;
  /** A TLS handshake (implicit or after STARTTLS). */
  readonly tlsMs: number;
  /** Waiting for the server's greeting. */
  readonly greetingMs: number;
  /** The longest silence while an answer to a command is awaited. */
  readonly commandMs: number;
}

export const DEFAULT_MAIL_TIMEOUTS: MailTimeouts = Object.freeze({
  connectMs: 10_000,
  tlsMs: 10_000,
  greetingMs: 15_000,
  commandMs: 30_000,
});

/** The TLS server name (SNI and certificate check): the host, unless it is an IP literal. */
export function serverNameOf(host: string): string | undefined {
  return isIP(host) ? undefined : host;
}
