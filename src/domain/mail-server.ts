/**
 * A mail server (DESIGN §8) as the domain knows it: the vocabulary of its settings, the one
 * definition of its settled fields, and the rules that turn a request into settings: defaults
 * (port from security, security from port, never a plain connection unless chosen), what
 * applies to which protocol and authentication method, and the warnings accepted settings
 * deserve. No I/O: connections are looked up, and provider facts asked, through the caller.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { OutlinkError } from './errors.js';
import type { Warning } from './link.js';
import { type OutgoingServerDirectory, settleHandler } from './mail-handler-settings.js';

export const MailProtocols = ['imap', 'pop3', 'smtp'] as const;
export type MailProtocol = (typeof MailProtocols)[number];

/**
 * How a connection to a mail server is protected: `tls` is implicit TLS from the first byte
 * (RFC 8314 §3.3: 993, 995, 465); `starttls` upgrades after the greeting (IMAP STARTTLS,
 * POP3 STLS, SMTP STARTTLS) and fails when the server cannot; `none` is plain text, only ever
 * an administrator's explicit choice.
 */
export const MailSecurities = ['tls', 'starttls', 'none'] as const;
export type MailSecurity = (typeof MailSecurities)[number];

/** The SASL mechanisms Outlink speaks (RFC 4422 §3.1 names), most preferred first. */
export const SASL_MECHANISMS = Object.freeze(['OAUTHBEARER', 'XOAUTH2'] as const);
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** What a processed incoming message becomes (the mail handler's concern, stored here). */
export const ProcessedActions = ['seen', 'move', 'delete'] as const;
export type ProcessedAction = (typeof ProcessedActions)[number];

/** A connection of a link (its token), or a password for servers that still take one. */
export const MailAuthMethods = ['oauth2', 'password'] as const;
export type MailAuthMethod = (typeof MailAuthMethods)[number];

/**
 * The steps of a mail session, in the order they happen (DESIGN §8 connection test): resolve
 * and connect, TLS, greeting and capabilities, the access token, authentication, then opening
 * the folder (incoming) or sending (outgoing). Every failure names the step it broke in.
 */
export const MailSteps = [
  'connect',
  'tls',
  'greeting',
  'token',
  'authentication',
  'folder',
  'send',
] as const;
export type MailStep = (typeof MailSteps)[number];

const literals = <T extends string>(values: readonly T[]) =>
  Type.Union(values.map((v) => Type.Literal(v)));
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * A mail server's settings once settled: what is stored and shown. The one definition of
 * these fields; the API's request and response schemas (`schemas/mail-servers.ts`) and the
 * types below are built from it.
 */
export const MailServerFields = Type.Object({
  name: Type.String(),
  protocol: literals(MailProtocols),
  host: Type.String(),
  port: Type.Integer(),
  security: literals(MailSecurities),
  /** The mailbox: IMAP/POP3 user, SMTP sender. */
  username: Type.String(),
  /** The administrator's mechanism override (OAuth 2.0 only). */
  saslMechanism: Nullable(literals(SASL_MECHANISMS)),
  /** The incoming folder (IMAP only). */
  folder: Nullable(Type.String()),
  /** Incoming servers only. */
  pollIntervalSeconds: Nullable(Type.Integer()),
  processedAction: Nullable(literals(ProcessedActions)),
  /** Where `move` puts processed messages. */
  processedFolder: Nullable(Type.String()),
  /**
   * The mail handler (incoming only; `domain/mail-handler-settings.ts` has their rules):
   * whether it turns this mailbox's mail into issues and comments (false: paused).
   */
  handlerEnabled: Nullable(Type.Boolean()),
  /** The key prefix of the issues it makes: `MAIL` → `MAIL-12`. */
  issueKeyPrefix: Nullable(Type.String()),
  /** The reporter of a message without a usable sender (an address); null: none. */
  defaultReporter: Nullable(Type.String()),
  /** Larger messages are kept on the server and recorded as failed. */
  maxMessageBytes: Nullable(Type.Integer()),
  /** The id of the outgoing (SMTP) mail server that acknowledges new issues; null: none. */
  acknowledgeWith: Nullable(Type.String()),
  /** IMAP only: where messages that cannot be handled go; null: left unread in place. */
  errorFolder: Nullable(Type.String()),
});
export type MailServerFields = Static<typeof MailServerFields>;

/** How a request chooses authentication; replaced whole by an update. */
export interface MailAuthenticationInput {
  readonly method: MailAuthMethod;
  readonly connectionId?: string | undefined;
  readonly linkId?: string | undefined;
  readonly password?: string | undefined;
}

/** What an administrator asks for: a create body, or an update's subset of it. */
export type MailServerPatch = Partial<MailServerFields> & {
  readonly authentication?: MailAuthenticationInput | undefined;
};

/** A stored mail server's settings, as the rules read them (never its password). */
export type StoredMailServer = MailServerFields & {
  readonly authMethod: MailAuthMethod;
  readonly connectionId: string | null;
  readonly hasPassword: boolean;
};

/** What the rules read of a connection of a link; the caller's own type is carried through. */
export interface MailConnectionFacts {
  readonly id: string;
  readonly linkId: string;
  /** The account that authorized: a delegate's when it differs from the username. */
  readonly account: string;
  /** The provider of the connection's link (`google`, `microsoft`, `custom`). */
  readonly provider: string;
  /** The scopes the connection was granted. */
  readonly scopes: readonly string[];
}

/** The settings of a mail server once defaults and cross-field rules are applied. */
export type MailServerSettings<C extends MailConnectionFacts = MailConnectionFacts> =
  MailServerFields & {
    readonly authMethod: MailAuthMethod;
    readonly connection: C | null;
    /** A new password to store; undefined keeps the stored one. */
    readonly password: string | undefined;
  };

/**
 * How a mail server authenticates, as the mail code needs it: a connection of a link (whose
 * token the token service hands out), or a password (decrypted).
 */
export type MailCredentials =
  | {
      readonly method: 'oauth2';
      readonly connectionId: string;
      /** The connection's account: a delegate's when it differs from the username. */
      readonly account: string;
      /** The link's provider (`google`, `microsoft`, `custom`). */
      readonly provider: string;
      /** The scopes the connection was granted. */
      readonly grantedScopes: readonly string[];
      /** The scopes the provider's preset says this protocol needs (none for custom). */
      readonly neededScopes: readonly string[];
    }
  | { readonly method: 'password'; readonly password: string };

/** A configured mail server with what it needs to connect, never shown to anyone. */
export type MailServerRuntime = Readonly<
  Pick<
    MailServerFields,
    'name' | 'protocol' | 'host' | 'port' | 'security' | 'username' | 'saslMechanism' | 'folder'
  >
> & {
  readonly id: string;
  readonly credentials: MailCredentials;
};

/**
 * Where the rules find connections, links and the other mail servers (the mail server
 * repository).
 */
export interface ConnectionDirectory<C extends MailConnectionFacts>
  extends OutgoingServerDirectory {
  connection(id: string): Promise<C | undefined>;
  link(id: string): Promise<{ readonly id: string; readonly name: string } | undefined>;
  /** The accounts of a link's connections, oldest first. */
  accountsOfLink(linkId: string): Promise<{ readonly id: string; readonly account: string }[]>;
}

/** What the rules ask of the provider presets (passed in: the domain names no provider). */
export interface MailProviderFacts<C extends MailConnectionFacts> {
  /** The scopes a protocol needs with the connection's provider (none for custom links). */
  neededScopes(connection: C, protocol: MailProtocol): readonly string[];
  /** The mail server preset a host belongs to (Gmail, Exchange Online), if any. */
  presetOfHost(host: string): { readonly name: string; readonly provider: string } | undefined;
}

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

/**
 * Applies defaults and cross-field rules to a create (`stored` undefined) or an update body
 * (merged onto `stored`); throws the catalog error of the first violation.
 */
export async function settleMailServer<C extends MailConnectionFacts>(
  input: MailServerPatch,
  stored: StoredMailServer | undefined,
  directory: ConnectionDirectory<C>,
  facts: MailProviderFacts<C>,
): Promise<{ settings: MailServerSettings<C>; warnings: Warning[] }> {
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
  const authMethod = (auth?.method ?? stored?.authMethod) as MailAuthMethod;
  const notApplicable = (field: string) =>
    new OutlinkError(
      'mail_field_not_applicable',
      { field, protocol, method: authMethod },
      { details: { field } },
    );
  let connection: C | null = null;
  let password: string | undefined;
  if (authMethod === 'oauth2') {
    if (auth?.password !== undefined) throw notApplicable('authentication.password');
    connection = auth
      ? await resolveConnection(auth, username, directory)
      : ((await directory.connection(stored!.connectionId!)) ?? null);
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
    // Issue 11: a stored password goes only where it went before, never in clear text.
    const moved =
      stored !== undefined &&
      (host !== stored.host.toLowerCase() ||
        port !== stored.port ||
        (security === 'none' && stored.security !== 'none'));
    if (password === undefined && stored?.hasPassword && moved) {
      throw new OutlinkError(
        'mail_password_required',
        { destination: `${host}:${port} (${security})` },
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

  const folder = protocol === 'imap' ? (input.folder ?? stored?.folder ?? 'INBOX') : null;
  const handler = await settleHandler(input, stored, protocol, folder, directory, notApplicable);

  const settings: MailServerSettings<C> = {
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
    folder,
    pollIntervalSeconds: incoming
      ? (input.pollIntervalSeconds ?? stored?.pollIntervalSeconds ?? 300)
      : null,
    processedAction,
    processedFolder,
    ...handler,
  };
  return { settings, warnings: warningsFor(settings, facts) };
}

/**
 * The connection of `{method: 'oauth2'}`: the one named, or the link's connection whose
 * account is the username (DESIGN §8: another account is a delegate's, allowed when named).
 */
export async function resolveConnection<C extends MailConnectionFacts>(
  auth: MailAuthenticationInput,
  username: string,
  directory: ConnectionDirectory<C>,
): Promise<C> {
  if (auth.connectionId !== undefined) {
    const connection = await directory.connection(auth.connectionId);
    if (!connection) {
      throw fieldInvalid('authentication.connectionId', 'there is no connection with this id');
    }
    if (auth.linkId !== undefined && auth.linkId !== connection.linkId) {
      throw fieldInvalid('authentication.connectionId', 'the connection is not of this link');
    }
    return connection;
  }
  if (auth.linkId === undefined) {
    throw new OutlinkError(
      'field_required',
      { field: 'authentication.connectionId' },
      { details: { field: 'authentication.connectionId' } },
    );
  }
  const link = await directory.link(auth.linkId);
  if (!link) throw fieldInvalid('authentication.linkId', 'there is no link with this id');
  const accounts = await directory.accountsOfLink(link.id);
  const match = accounts.find((c) => c.account.toLowerCase() === username.toLowerCase());
  if (!match) {
    throw new OutlinkError(
      'mailbox_not_authorized',
      { link: link.name, username, accounts: accounts.map((a) => a.account).join(', ') || '-' },
      { details: { field: 'authentication' } },
    );
  }
  return (await directory.connection(match.id))!;
}

/** What deserves the administrator's attention in accepted settings. */
export function warningsFor<C extends MailConnectionFacts>(
  s: MailServerSettings<C>,
  facts: MailProviderFacts<C>,
): Warning[] {
  const warnings: Warning[] = [];
  if (s.security === 'none') {
    warnings.push({ code: 'plain_connection', params: { host: s.host, port: String(s.port) } });
  }
  const preset = facts.presetOfHost(s.host);
  const connection = s.connection;
  if (connection) {
    if (connection.account.toLowerCase() !== s.username.toLowerCase()) {
      warnings.push({
        code: 'delegated_mailbox',
        params: { account: connection.account, username: s.username },
      });
    }
    const missing = facts
      .neededScopes(connection, s.protocol)
      .find((scope) => !connection.scopes.includes(scope));
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
