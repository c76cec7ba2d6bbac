import { isIP } from 'node:net';
import type { MailProtocol } from '../providers/types.js';

export type { MailProtocol } from '../providers/types.js';

/**
 * How a connection to a mail server is protected: `tls` is implicit TLS from the first byte
 * (RFC 8314 §3.3: 993, 995, 465); `starttls` upgrades after the greeting (IMAP STARTTLS,
 * POP3 STLS, SMTP STARTTLS) and fails when the server cannot; `none` is plain text, only ever
 * an administrator's explicit choice.
 */
export const MailSecurities = ['tls', 'starttls', 'none'] as const;
export type MailSecurity = (typeof MailSecurities)[number];

export const MailProtocols = ['imap', 'pop3', 'smtp'] as const satisfies readonly MailProtocol[];

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

/** The default port of a protocol under a security mode (RFC 8314 §3.3, RFC 6409). */
export function defaultPort(protocol: MailProtocol, security: MailSecurity): number {
  const ports: Record<MailProtocol, Record<MailSecurity, number>> = {
    imap: { tls: 993, starttls: 143, none: 143 },
    pop3: { tls: 995, starttls: 110, none: 110 },
    smtp: { tls: 465, starttls: 587, none: 587 },
  };
  return ports[protocol][security];
}

/**
 * The security a port implies when the administrator gave a port but no security: the
 * STARTTLS ports (143, 110, 587, 25) upgrade, anything else is implicit TLS. Never `none`:
 * a plain connection is only ever chosen explicitly.
 */
export function impliedSecurity(port: number | undefined): MailSecurity {
  return port !== undefined && [143, 110, 587, 25].includes(port) ? 'starttls' : 'tls';
}

/** The TLS server name (SNI and certificate check): the host, unless it is an IP literal. */
export function serverNameOf(host: string): string | undefined {
  return isIP(host) ? undefined : host;
}
