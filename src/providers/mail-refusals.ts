/**
 * What to tell the administrator when a mail server refuses a token even after one forced
 * refresh (issue 5 item 3): the wrong account authorized, a missing scope, the protocol turned
 * off for the mailbox, and so on. Pure: from the server's refusal (its decoded challenge and
 * words), the preset of its host, and what Outlink knows about the mail server and its
 * connection. Texts are `mail.remedies.<id>` in the catalogs.
 */
import type { MailServerRuntime } from '../domain/mail-server.js';
import { classifyRefusal, type RefusalWords } from './mail-refusal-catalog.js';
import { presetOfHost } from './mail-registry.js';

/** A remedy id with the values its text needs. */
export interface Remedy {
  readonly id: string;
  readonly params: Readonly<Record<string, string>>;
}

/** What a server said when it refused the credentials (a mail session's failure). */
export type Refusal = RefusalWords;

/**
 * The remedy for a refusal of the credentials, most specific first: an answer of the refusal
 * catalog that says what to do by itself (Exchange's `5.7.139`), a password login, a token of another account than the mailbox
 * (a delegate without full access, or the wrong account signed in), a scope the challenge asks
 * for or the preset needs that the connection was not granted, then the catalog entry's
 * remedy (the protocol turned off at a known provider, say), and otherwise the general advice.
 */
export function remedyForRefusal(error: Refusal, server: MailServerRuntime): Remedy {
  const protocol = server.protocol.toUpperCase();
  const preset = presetOfHost(server.host);
  const entry = classifyRefusal(error, server.host, server.protocol);
  if (entry?.definitive) return { id: entry.remedy, params: remedyParams(server) };
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
  if (entry) return { id: entry.remedy, params: remedyParams(server) };
  if (preset) {
    return { id: preset.protocolDisabledRemedy, params: { username: server.username, protocol } };
  }
  return { id: 'token_refused', params: { account, username: server.username, protocol } };
}

/** The values every remedy text may use: the mailbox, the protocol, the authorized account. */
export function remedyParams(server: MailServerRuntime): Record<string, string> {
  const { credentials } = server;
  return {
    username: server.username,
    protocol: server.protocol.toUpperCase(),
    account: credentials.method === 'oauth2' ? credentials.account : server.username,
  };
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
