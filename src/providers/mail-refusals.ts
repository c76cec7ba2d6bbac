/**
 * What to tell the administrator when a mail server refuses a token even after one forced
 * refresh (issue 5 item 3): the wrong account authorized, a missing scope, the protocol turned
 * off for the mailbox, and so on. Pure: from the server's refusal (its decoded challenge and
 * words), the preset of its host, and what Outlink knows about the mail server and its
 * connection. Texts are `mail.remedies.<id>` in the catalogs.
 */
import type { MailServerRuntime } from '../domain/mail-server.js';
import { presetOfHost } from './mail-registry.js';

/** A remedy id with the values its text needs. */
export interface Remedy {
  readonly id: string;
  readonly params: Readonly<Record<string, string>>;
}

/** What a server said when it refused the credentials (a mail session's failure). */
export interface Refusal {
  /** IMAP response code, POP3 RFC 2449 code, or SMTP reply code with enhanced status. */
  readonly responseCode?: string | undefined;
  /** The server's own words. */
  readonly serverText?: string | undefined;
  /** The decoded RFC 7628 §3.2.2 error challenge, when the server sent a readable one. */
  readonly challenge?: { readonly status: string; readonly scope?: string | undefined } | undefined;
}

/**
 * The remedy for a refusal of the credentials, most specific first: a preset's own refusal
 * text (Exchange's `5.7.139`), a password login, a token of another account than the mailbox
 * (a delegate without full access, or the wrong account signed in), a scope the challenge asks
 * for or the preset needs that the connection was not granted, the protocol turned off at a
 * known provider, and otherwise the general advice.
 */
export function remedyForRefusal(error: Refusal, server: MailServerRuntime): Remedy {
  const protocol = server.protocol.toUpperCase();
  const preset = presetOfHost(server.host);
  const said = [error.responseCode, error.serverText].filter(Boolean).join(' ');
  const refusal = preset?.refusals.find(
    (r) => r.protocol === server.protocol && r.pattern.test(said),
  );
  if (refusal) return { id: refusal.remedy, params: { username: server.username, protocol } };
  const { credentials } = server;
  if (credentials.method === 'password') {
    return { id: 'password_rejected', params: { username: server.username, protocol } };
  }
  const { account } = credentials;
  if (account.toLowerCase() !== server.username.toLowerCase()) {
    return { id: 'wrong_account', params: { account, username: server.username } };
  }
  const missing = missingScope(error, credentials.grantedScopes, credentials.neededScopes);
  if (missing) return { id: 'missing_scope', params: { scope: missing, account } };
  if (preset) {
    return { id: preset.protocolDisabledRemedy, params: { username: server.username, protocol } };
  }
  return { id: 'token_refused', params: { account, username: server.username, protocol } };
}

/**
 * The scope the token lacks: the one the server's challenge names (RFC 7628 §3.2.2), when the
 * connection was not granted it, else the first the provider's preset needs for this protocol.
 */
export function missingScope(
  error: Pick<Refusal, 'challenge'>,
  granted: readonly string[],
  needed: readonly string[],
): string | undefined {
  const has = new Set(granted);
  const asked = error.challenge?.scope?.split(/\s+/).filter(Boolean) ?? [];
  return asked.find((s) => !has.has(s)) ?? needed.find((s) => !has.has(s));
}
