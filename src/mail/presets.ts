/**
 * Mail server presets of the providers whose links Outlink ships presets for (DESIGN §5, issue
 * 5 item 5), with the protocol quirks of each in one place: the servers, how each refuses a
 * token, and what to tell the administrator when it does.
 *
 * @see https://developers.google.com/gmail/imap/imap-smtp Gmail IMAP, POP and SMTP
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
 */
import type { MailProtocol, ProviderId } from '../providers/types.js';
import type { MailSecurity } from './endpoint.js';

export const MailPresetIds = ['gmail', 'exchange_online'] as const;
export type MailPresetId = (typeof MailPresetIds)[number];

/** One server of a preset: where it listens and how the connection is protected. */
export interface PresetServer {
  readonly host: string;
  readonly port: number;
  readonly security: MailSecurity;
}

/**
 * How a preset's servers say "no" beyond a plain refusal, as patterns of the server's own text
 * mapped to a remedy id (`mail.remedies.<id>` in the catalogs).
 */
export interface PresetRefusal {
  readonly protocol: MailProtocol;
  readonly pattern: RegExp;
  readonly remedy: string;
}

export interface MailServerPreset {
  readonly id: MailPresetId;
  /** The link provider whose tokens these servers accept. */
  readonly provider: ProviderId;
  readonly name: string;
  /** The servers per protocol, the recommended one first. */
  readonly servers: Readonly<Record<MailProtocol, readonly PresetServer[]>>;
  /**
   * The remedy when a fresh token of the right account with the right scope is still refused:
   * the protocol is turned off for the mailbox or the organisation.
   */
  readonly protocolDisabledRemedy: string;
  readonly refusals: readonly PresetRefusal[];
}

/**
 * Gmail: one scope (`https://mail.google.com/`) for every protocol. On a refused token Gmail
 * sends the RFC 7628 error challenge `{"status":"401","schemes":"bearer","scope":
 * "https://mail.google.com/"}` (also for XOAUTH2), then IMAP `NO SASL authentication failed`
 * or SMTP `535-5.7.8 Username and Password not accepted` (PEERS.md). Workspace administrators
 * can turn IMAP and POP off for their users; POP is off until turned on in Gmail's settings.
 */
const server = (host: string, port: number, security: MailSecurity): PresetServer =>
  Object.freeze({ host, port, security });

const gmail: MailServerPreset = Object.freeze({
  id: 'gmail',
  provider: 'google',
  name: 'Gmail',
  servers: Object.freeze({
    imap: Object.freeze([server('imap.gmail.com', 993, 'tls')]),
    pop3: Object.freeze([server('pop.gmail.com', 995, 'tls')]),
    smtp: Object.freeze([
      server('smtp.gmail.com', 465, 'tls'),
      server('smtp.gmail.com', 587, 'starttls'),
    ]),
  }),
  protocolDisabledRemedy: 'gmail_protocol_disabled',
  refusals: Object.freeze([]),
});

/**
 * Exchange Online: one scope per protocol (`IMAP.AccessAsUser.All`, `POP.AccessAsUser.All`,
 * `SMTP.Send`). It sends no error challenge: IMAP answers `NO AUTHENTICATE failed.`, SMTP
 * `535 5.7.3 Authentication unsuccessful`, and `535 5.7.139` when SMTP AUTH is disabled for
 * the tenant or the mailbox. IMAP, POP and authenticated SMTP are per-mailbox switches
 * (`Set-CASMailbox -ImapEnabled/-PopEnabled/-SmtpClientAuthenticationDisabled`); a shared
 * mailbox is reached with a delegate's token that has FullAccess (username = the shared
 * mailbox, token = the delegate's).
 */
const exchangeOnline: MailServerPreset = Object.freeze({
  id: 'exchange_online',
  provider: 'microsoft',
  name: 'Exchange Online',
  servers: Object.freeze({
    imap: Object.freeze([server('outlook.office365.com', 993, 'tls')]),
    pop3: Object.freeze([server('outlook.office365.com', 995, 'tls')]),
    smtp: Object.freeze([server('smtp.office365.com', 587, 'starttls')]),
  }),
  protocolDisabledRemedy: 'exchange_protocol_disabled',
  refusals: Object.freeze([
    Object.freeze({
      protocol: 'smtp',
      pattern: /\b5\.7\.139\b/,
      remedy: 'exchange_smtp_auth_disabled',
    } as const),
  ]),
});

export const mailPresets: Readonly<Record<MailPresetId, MailServerPreset>> = Object.freeze({
  gmail,
  exchange_online: exchangeOnline,
});

/** The presets whose servers accept the tokens of a provider's links. */
export function presetsForProvider(provider: ProviderId): MailServerPreset[] {
  return Object.values(mailPresets).filter((p) => p.provider === provider);
}

/** The preset a host belongs to (names compared without regard to case), if any. */
export function presetOfHost(host: string): MailServerPreset | undefined {
  const name = host.toLowerCase().replace(/\.$/, '');
  return Object.values(mailPresets).find((p) =>
    Object.values(p.servers).some((servers) => servers.some((s) => s.host === name)),
  );
}
