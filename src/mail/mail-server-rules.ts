/**
 * The rules of a mail server's settings (DESIGN §8): defaults (port from security, security
 * from port, never a plain connection unless chosen), what applies to which protocol and
 * authentication method, the connection a mailbox uses, and the warnings an accepted setting
 * deserves. No I/O: the connections are looked up through the caller's `ConnectionLookup`.
 */
import { OutlinkError } from '../domain/errors.js';
import type { Warning } from '../domain/link.js';
import { presetFor } from '../providers/registry.js';
import type { MicrosoftCloud, ProviderId } from '../providers/types.js';
import { defaultPort, impliedSecurity, type MailProtocol, type MailSecurity } from './endpoint.js';
import type { ProcessedAction, UpdateMailServerInput } from './mail-server-body.js';
import { presetOfHost } from './presets.js';
import type { SaslMechanism } from './sasl.js';

/** A connection of a link as the mail server rules need it. */
export interface ResolvedConnection {
  id: string;
  linkId: string;
  linkName: string;
  account: string;
  provider: ProviderId;
  cloud: MicrosoftCloud | null;
  scopes: string[];
}

/** A stored mail server's settings, as the rules and the views read them. */
export interface StoredMailServer {
  name: string;
  protocol: MailProtocol;
  host: string;
  port: number;
  security: MailSecurity;
  username: string;
  authMethod: 'oauth2' | 'password';
  connectionId: string | null;
  hasPassword: boolean;
  saslMechanism: SaslMechanism | null;
  folder: string | null;
  pollIntervalSeconds: number | null;
  processedAction: ProcessedAction | null;
  processedFolder: string | null;
}

/** The settings of a mail server once defaults and cross-field rules are applied. */
export interface MailServerSettings {
  name: string;
  protocol: MailProtocol;
  host: string;
  port: number;
  security: MailSecurity;
  username: string;
  authMethod: 'oauth2' | 'password';
  connection: ResolvedConnection | null;
  /** A new password to store; undefined keeps the stored one. */
  password: string | undefined;
  saslMechanism: SaslMechanism | null;
  folder: string | null;
  pollIntervalSeconds: number | null;
  processedAction: ProcessedAction | null;
  processedFolder: string | null;
}

/** How the rules find connections (the service's database queries). */
export interface ConnectionLookup {
  /**
   * The connection of `{method: 'oauth2'}`: the one named, or the link's connection whose
   * account is the username.
   */
  resolve(
    auth: { connectionId?: string; linkId?: string },
    username: string,
  ): Promise<ResolvedConnection>;
  byId(id: string): Promise<ResolvedConnection | undefined>;
}

/**
 * Applies defaults and cross-field rules to a create (`stored` undefined) or an update body
 * (merged onto `stored`); throws the catalog error of the first violation.
 */
export async function settleMailServer(
  input: UpdateMailServerInput,
  stored: StoredMailServer | undefined,
  lookup: ConnectionLookup,
): Promise<{ settings: MailServerSettings; warnings: Warning[] }> {
  const protocol = (input.protocol ?? stored?.protocol) as MailProtocol;
  if (stored && input.protocol !== undefined && input.protocol !== stored.protocol) {
    throw new OutlinkError('protocol_immutable', {}, { details: { field: 'protocol' } });
  }
  const security: MailSecurity = input.security ?? stored?.security ?? impliedSecurity(input.port);
  const port = input.port ?? stored?.port ?? defaultPort(protocol, security);
  const username = input.username ?? stored!.username;
  const host = (input.host ?? stored!.host).toLowerCase();
  // Authentication: replaced whole when given, else the stored one (with a new username,
  // the stored connection stays: it may be a delegate's).
  const auth = input.authentication;
  const authMethod = (auth?.method ?? stored?.authMethod) as 'oauth2' | 'password';
  const notApplicable = (field: string) =>
    new OutlinkError(
      'mail_field_not_applicable',
      { field, protocol, method: authMethod },
      { details: { field } },
    );
  let connection: ResolvedConnection | null = null;
  let password: string | undefined;
  if (authMethod === 'oauth2') {
    if (auth?.password !== undefined) throw notApplicable('authentication.password');
    connection = auth
      ? await lookup.resolve(auth, username)
      : ((await lookup.byId(stored!.connectionId!)) ?? null);
  } else {
    for (const field of ['connectionId', 'linkId'] as const) {
      if (auth?.[field] !== undefined) throw notApplicable(`authentication.${field}`);
    }
    password = auth?.password;
    if (password === undefined && !stored?.hasPassword) {
      throw new OutlinkError(
        'field_required',
        { field: 'authentication.password' },
        { details: { field: 'authentication.password' } },
      );
    }
  }
  const saslMechanism =
    input.saslMechanism !== undefined ? input.saslMechanism : (stored?.saslMechanism ?? null);
  if (input.saslMechanism != null && authMethod !== 'oauth2') throw notApplicable('saslMechanism');

  const incoming = protocol !== 'smtp';
  for (const field of [
    'folder',
    'pollIntervalSeconds',
    'processedAction',
    'processedFolder',
  ] as const) {
    if (!incoming && input[field] != null) throw notApplicable(field);
  }
  if (protocol === 'pop3' && input.folder !== undefined) throw notApplicable('folder');
  if (protocol === 'pop3' && input.processedAction === 'move') {
    throw fieldInvalid('processedAction', 'a POP3 mailbox has no folders: use seen or delete');
  }
  const processedAction = incoming
    ? (input.processedAction ?? stored?.processedAction ?? 'seen')
    : null;
  const processedFolder =
    processedAction === 'move'
      ? input.processedFolder !== undefined
        ? input.processedFolder
        : (stored?.processedFolder ?? null)
      : null;
  if (processedAction === 'move' && !processedFolder) {
    throw new OutlinkError(
      'field_required',
      { field: 'processedFolder' },
      { details: { field: 'processedFolder' } },
    );
  }
  if (processedAction !== 'move' && input.processedFolder != null) {
    throw notApplicable('processedFolder');
  }

  const settings: MailServerSettings = {
    name: (input.name ?? stored!.name).trim(),
    protocol,
    host,
    port,
    security,
    username,
    authMethod,
    connection,
    password,
    saslMechanism: authMethod === 'oauth2' ? saslMechanism : null,
    folder: protocol === 'imap' ? (input.folder ?? stored?.folder ?? 'INBOX') : null,
    pollIntervalSeconds: incoming
      ? (input.pollIntervalSeconds ?? stored?.pollIntervalSeconds ?? 300)
      : null,
    processedAction,
    processedFolder,
  };
  return { settings, warnings: warningsFor(settings) };
}

/** The scopes the link's provider preset says this protocol needs (none for custom links). */
export function neededScopes(connection: ResolvedConnection, protocol: MailProtocol): string[] {
  const scopes = presetFor(connection.provider).scopes?.({
    cloud: connection.cloud ?? 'global',
  });
  return scopes ? [...scopes[protocol]] : [];
}

/** What deserves the administrator's attention in accepted settings. */
export function warningsFor(s: MailServerSettings): Warning[] {
  const warnings: Warning[] = [];
  if (s.security === 'none') {
    warnings.push({ code: 'plain_connection', params: { host: s.host, port: String(s.port) } });
  }
  const preset = presetOfHost(s.host);
  const connection = s.connection;
  if (connection) {
    if (connection.account.toLowerCase() !== s.username.toLowerCase()) {
      warnings.push({
        code: 'delegated_mailbox',
        params: { account: connection.account, username: s.username },
      });
    }
    const missing = neededScopes(connection, s.protocol).find(
      (scope) => !connection.scopes.includes(scope),
    );
    if (missing) {
      warnings.push({
        code: 'mail_scope_missing',
        params: { scope: missing, account: connection.account, protocol: s.protocol.toUpperCase() },
      });
    }
    if (preset && preset.provider !== connection.provider) {
      warnings.push({
        code: 'preset_provider_mismatch',
        params: { host: s.host, preset: preset.name, provider: connection.provider },
      });
    }
  }
  if (s.protocol === 'imap' && s.saslMechanism === 'XOAUTH2') {
    warnings.push({ code: 'imap_mechanism_not_enforced', params: {} });
  }
  return warnings;
}

function fieldInvalid(field: string, problem: string): OutlinkError {
  return new OutlinkError('field_invalid', { field, problem }, { details: { field } });
}
