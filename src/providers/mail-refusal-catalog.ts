/**
 * The mail servers' half of the error catalog (DESIGN §7, issue 13 item 2): how Gmail,
 * Exchange Online and standard RFC 7628 servers such as Dovecot say "no" to a SASL XOAUTH2 or
 * OAUTHBEARER login, each answer mapped to a cause (`mail.refusals.<id>` in the i18n catalogs)
 * and a remedy (`mail.remedies.<remedy>`). Pure data and one lookup; `docs/troubleshooting*.md`
 * is generated from this list, so the guide and the product never disagree.
 * @see https://datatracker.ietf.org/doc/html/rfc7628#section-3.2.2
 * @see https://developers.google.com/gmail/imap/xoauth2-protocol#error_response
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
 */
import type { MailProtocol } from '../domain/mail-server.js';
import type { MailPresetId } from './mail-preset.js';
import { presetOfHost } from './mail-registry.js';

/** Whose answers an entry reads: a preset's servers, or any server (Dovecot's wording). */
export type RefusalServer = MailPresetId | 'standard';

/** What a server said when it refused a login: the words the catalog is matched against. */
export interface RefusalWords {
  /** IMAP response code, POP3 RFC 2449 code, or SMTP reply code with enhanced status. */
  readonly responseCode?: string | undefined;
  /** The server's own words. */
  readonly serverText?: string | undefined;
  /** The decoded RFC 7628 §3.2.2 error challenge, when the server sent a readable one. */
  readonly challenge?: { readonly status: string; readonly scope?: string | undefined } | undefined;
}

/** A server's answer as the guide shows it and the catalog's tests classify it. */
export interface RefusalExample {
  readonly protocol: MailProtocol;
  /** The decoded error challenge the server sent before its final answer. */
  readonly challenge?: {
    readonly status: string;
    readonly schemes?: string;
    readonly scope?: string;
  };
  /** The server's final answer, as it arrives (tag or reply code included). */
  readonly answer: string;
  /** The same answer as Outlink reads it: the response code and the words. */
  readonly responseCode?: string;
  readonly serverText: string;
}

export interface MailRefusalEntry {
  readonly id: string;
  readonly server: RefusalServer;
  readonly protocols: readonly MailProtocol[];
  /** Tested against the response code and the server's words together. */
  readonly text?: RegExp;
  /** Tested against the decoded challenge's `status`. */
  readonly challengeStatus?: RegExp;
  /** The remedy, `mail.remedies.<remedy>` with `{username}`, `{protocol}`, `{account}`. */
  readonly remedy: string;
  /**
   * True when the answer alone says what to do. Otherwise Outlink's own reading of the mailbox
   * (a password, another account's token, a scope not granted) comes first, and this entry's
   * remedy only when that finds nothing.
   */
  readonly definitive: boolean;
  /** True for "cannot check now" answers: no refresh is tried, the connection is not marked. */
  readonly temporary?: boolean;
  readonly example: RefusalExample;
}

const ALL: readonly MailProtocol[] = Object.freeze(['imap', 'pop3', 'smtp']);

/** Most specific first: a preset's own answers, then the standard ones. */
export const mailRefusalCatalog: readonly MailRefusalEntry[] = Object.freeze([
  // Gmail: IMAP or POP turned off in the mailbox's settings, said in so many words.
  {
    id: 'gmail_protocol_not_enabled',
    server: 'gmail',
    protocols: ['imap', 'pop3'],
    text: /not enabled for (IMAP|POP)/i,
    remedy: 'gmail_protocol_disabled',
    definitive: true,
    example: {
      protocol: 'imap',
      answer:
        'a1 NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)',
      responseCode: 'ALERT',
      serverText:
        'Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)',
    },
  },
  // Gmail's challenge with status 400: the request, not the token, is wrong.
  {
    id: 'gmail_bad_request',
    server: 'gmail',
    protocols: ALL,
    challengeStatus: /^400$/,
    remedy: 'gmail_bad_request',
    definitive: true,
    example: {
      protocol: 'imap',
      challenge: { status: '400', schemes: 'Bearer', scope: 'https://mail.google.com/' },
      answer: 'a1 NO SASL authentication failed',
      serverText: 'SASL authentication failed',
    },
  },
  {
    id: 'gmail_token_rejected',
    server: 'gmail',
    protocols: ALL,
    challengeStatus: /^401$/,
    text: /SASL authentication failed|5\.7\.8|not accepted|Invalid credentials/i,
    remedy: 'gmail_protocol_disabled',
    definitive: false,
    example: {
      protocol: 'smtp',
      challenge: { status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' },
      answer: '535-5.7.8 Username and Password not accepted.',
      responseCode: '535 5.7.8',
      serverText: 'Username and Password not accepted.',
    },
  },
  // Exchange Online: SMTP AUTH turned off for the mailbox or the tenant.
  {
    id: 'exchange_smtp_auth_disabled',
    server: 'exchange_online',
    protocols: ['smtp'],
    text: /\b5\.7\.139\b/,
    remedy: 'exchange_smtp_auth_disabled',
    definitive: true,
    example: {
      protocol: 'smtp',
      answer:
        '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.',
      responseCode: '535 5.7.139',
      serverText:
        'Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.',
    },
  },
  // The token was accepted, but it opens no mailbox: an app-only token without mailbox
  // permission, or a mailbox the token's account may not open.
  {
    id: 'exchange_not_connected',
    server: 'exchange_online',
    protocols: ['imap', 'pop3'],
    text: /authenticated but not connected/i,
    remedy: 'exchange_not_connected',
    definitive: true,
    example: {
      protocol: 'imap',
      answer: 'a1 NO User is authenticated but not connected.',
      serverText: 'User is authenticated but not connected.',
    },
  },
  {
    id: 'exchange_auth_failed',
    server: 'exchange_online',
    protocols: ALL,
    text: /AUTHENTICATE failed|Authentication unsuccessful|Authentication failure|\b5\.7\.3\b/i,
    remedy: 'exchange_protocol_disabled',
    definitive: false,
    example: {
      protocol: 'imap',
      answer: 'a1 NO AUTHENTICATE failed.',
      serverText: 'AUTHENTICATE failed.',
    },
  },
  // Standard servers (Dovecot's oauth2 passdb): "cannot check now" is not "no".
  {
    id: 'server_temporary',
    server: 'standard',
    protocols: ALL,
    text: /\[UNAVAILABLE\]|^UNAVAILABLE\b|SYS\/TEMP|^454\b|\b4\.7\.0\b|Temporary authentication failure/i,
    remedy: 'server_temporary',
    definitive: true,
    temporary: true,
    example: {
      protocol: 'imap',
      answer: 'a1 NO [UNAVAILABLE] Temporary authentication failure.',
      responseCode: 'UNAVAILABLE',
      serverText: 'Temporary authentication failure.',
    },
  },
  {
    id: 'server_token_rejected',
    server: 'standard',
    protocols: ALL,
    challengeStatus: /^(401|invalid_token)$/,
    text: /AUTHENTICATIONFAILED|^AUTH\b|\[AUTH\]|\b5\.7\.8\b|Authentication failed/i,
    remedy: 'token_refused',
    definitive: false,
    example: {
      protocol: 'imap',
      challenge: { status: '401', schemes: 'bearer', scope: 'mail' },
      answer: 'a1 NO [AUTHENTICATIONFAILED] Authentication failed.',
      responseCode: 'AUTHENTICATIONFAILED',
      serverText: 'Authentication failed.',
    },
  },
] as const satisfies readonly MailRefusalEntry[]);

/**
 * The catalog entry for a server's refusal: the entries of the host's preset first (Gmail,
 * Exchange Online, by host name), then the standard ones; an entry matches when its protocol
 * does and every test it has (words, challenge status) does.
 */
export function classifyRefusal(
  words: RefusalWords,
  host: string,
  protocol: MailProtocol,
): MailRefusalEntry | undefined {
  const preset = presetOfHost(host)?.id;
  const said = [words.responseCode, words.serverText].filter(Boolean).join(' ');
  const status = words.challenge?.status;
  const matches = (e: MailRefusalEntry) => {
    if (!e.protocols.includes(protocol)) return false;
    const byText = e.text?.test(said);
    const byStatus = status !== undefined && e.challengeStatus?.test(status);
    // A rule with both tests matches on either: a server may omit the challenge (SMTP after
    // a cancelled exchange) or send it with words Outlink does not know.
    return Boolean(byText || byStatus);
  };
  return (
    mailRefusalCatalog.find((e) => e.server === preset && matches(e)) ??
    mailRefusalCatalog.find((e) => e.server === 'standard' && matches(e))
  );
}
