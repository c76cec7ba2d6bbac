import type { Selectable } from 'kysely';
import { HANDLER_DEFAULTS } from '../../domain/mail-handler-settings.js';
import type {
  MailAuthMethod,
  MailProtocol,
  MailSecurity,
  MailServerFields,
  ProcessedAction,
  SaslMechanism,
  StoredMailServer,
} from '../../domain/mail-server.js';
import type { MicrosoftCloud, ProviderId } from '../../providers/types.js';
import type { MailServersTable } from '../schema.js';
import { pageByName } from './name-page.js';
import type { Executor } from './transaction.js';

/** A stored mail server: its settings and identity; its password only as `hasPassword`. */
export type MailServerRecord = StoredMailServer & {
  readonly id: string;
  readonly createdAt: string;
  readonly updatedAt: string;
};

/** What is written: the settled fields and how the server authenticates. */
export type MailServerColumns = MailServerFields & {
  readonly authMethod: MailAuthMethod;
  readonly connectionId: string | null;
};

/** A connection of a link as mail servers use it: the account, the link and the grant. */
export interface MailServerConnection {
  readonly id: string;
  readonly linkId: string;
  readonly linkName: string;
  readonly account: string;
  readonly provider: ProviderId;
  readonly cloud: MicrosoftCloud | null;
  readonly scopes: string[];
}

/** Statements on `mail_servers`, and what they read of the links and connections they use. */
export interface MailServerRepository {
  /** One page ordered by name (DESIGN §8 lists). */
  list(page: {
    readonly limit: number;
    readonly cursor?: string;
  }): Promise<{ rows: MailServerRecord[]; nextCursor?: string }>;
  findById(id: string): Promise<MailServerRecord | undefined>;
  /** By id or, failing that, by name without regard to case (the CLI accepts either). */
  findByIdOrName(idOrName: string): Promise<MailServerRecord | undefined>;
  /** The encrypted password, read only where it is decrypted. */
  passwordOf(id: string): Promise<string | null>;
  /** Whether another mail server than `exceptId` has this name, without regard to case. */
  nameTaken(name: string, exceptId?: string): Promise<boolean>;
  insert(
    id: string,
    columns: MailServerColumns,
    passwordEnc: string | null,
    at: string,
  ): Promise<void>;
  /** `passwordEnc` undefined keeps the stored password, null clears it. */
  update(
    id: string,
    columns: MailServerColumns,
    passwordEnc: string | null | undefined,
    at: string,
  ): Promise<void>;
  delete(id: string): Promise<void>;
  /** A mail server's protocol and name (the rules check what acknowledges with it). */
  mailServer(id: string): Promise<{ id: string; name: string; protocol: MailProtocol } | undefined>;
  /** The names of the mail servers `ids`, for showing what an id refers to. */
  names(ids: readonly string[]): Promise<Map<string, string>>;
  /**
   * The incoming mail servers whose new issues `id` acknowledges, by name: an outgoing
   * server they depend on is not deleted.
   */
  acknowledgingWith(id: string): Promise<{ id: string; name: string }[]>;
  /**
   * The mail servers that use any of `connectionIds`, by name: a link or connection they
   * depend on is not deleted (DESIGN §4).
   */
  usingConnections(connectionIds: readonly string[]): Promise<{ id: string; name: string }[]>;
  /** A connection with its link's name, provider and cloud. */
  connection(id: string): Promise<MailServerConnection | undefined>;
  link(id: string): Promise<{ id: string; name: string } | undefined>;
  /** The accounts of a link's connections, oldest first. */
  accountsOfLink(linkId: string): Promise<{ id: string; account: string }[]>;
  /** A link's provider and cloud, for the presets that accept its tokens. */
  providerOfLink(
    linkId: string,
  ): Promise<{ provider: ProviderId; cloud: MicrosoftCloud | null } | undefined>;
}

export function createMailServerRepository(db: Executor): MailServerRepository {
  return {
    async list(page) {
      const { rows, nextCursor } = await pageByName(
        db.selectFrom('mail_servers').selectAll(),
        page,
      );
      const records = rows.map(toRecord);
      return nextCursor ? { rows: records, nextCursor } : { rows: records };
    },

    async findById(id) {
      const row = await db
        .selectFrom('mail_servers')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRecord(row);
    },

    async findByIdOrName(idOrName) {
      const row = await db
        .selectFrom('mail_servers')
        .selectAll()
        .where((eb) => eb.or([eb('id', '=', idOrName), eb('name_key', '=', nameKey(idOrName))]))
        .orderBy('created_at')
        .executeTakeFirst();
      return row && toRecord(row);
    },

    async passwordOf(id) {
      const row = await db
        .selectFrom('mail_servers')
        .select('password_enc')
        .where('id', '=', id)
        .executeTakeFirst();
      return row?.password_enc ?? null;
    },

    async nameTaken(name, exceptId) {
      let q = db.selectFrom('mail_servers').select('id').where('name_key', '=', nameKey(name));
      if (exceptId) q = q.where('id', '!=', exceptId);
      return (await q.executeTakeFirst()) !== undefined;
    },

    async insert(id, columns, passwordEnc, at) {
      await db
        .insertInto('mail_servers')
        .values({
          id,
          ...toColumns(columns),
          password_enc: passwordEnc,
          created_at: at,
          updated_at: at,
        })
        .execute();
    },

    async update(id, columns, passwordEnc, at) {
      await db
        .updateTable('mail_servers')
        .set({
          ...toColumns(columns),
          ...(passwordEnc !== undefined ? { password_enc: passwordEnc } : {}),
          updated_at: at,
        })
        .where('id', '=', id)
        .execute();
    },

    async delete(id) {
      await db.deleteFrom('mail_servers').where('id', '=', id).execute();
    },

    async mailServer(id) {
      const row = await db
        .selectFrom('mail_servers')
        .select(['id', 'name', 'protocol'])
        .where('id', '=', id)
        .executeTakeFirst();
      return row && { ...row, protocol: row.protocol as MailProtocol };
    },

    async names(ids) {
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom('mail_servers')
        .select(['id', 'name'])
        .where('id', 'in', [...ids])
        .execute();
      return new Map(rows.map((r) => [r.id, r.name]));
    },

    async acknowledgingWith(id) {
      return db
        .selectFrom('mail_servers')
        .select(['id', 'name'])
        .where('ack_mail_server_id', '=', id)
        .orderBy('name_key')
        .execute();
    },

    async usingConnections(connectionIds) {
      if (connectionIds.length === 0) return [];
      return db
        .selectFrom('mail_servers')
        .select(['id', 'name'])
        .where('connection_id', 'in', [...connectionIds])
        .orderBy('name_key')
        .execute();
    },

    async connection(id) {
      const row = await db
        .selectFrom('connections')
        .innerJoin('links', 'links.id', 'connections.link_id')
        .select([
          'connections.id as id',
          'connections.link_id as linkId',
          'links.name as linkName',
          'connections.account as account',
          'links.provider as provider',
          'links.cloud as cloud',
          'connections.scopes as scopes',
        ])
        .where('connections.id', '=', id)
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        ...row,
        provider: row.provider as ProviderId,
        cloud: row.cloud as MicrosoftCloud | null,
        scopes: JSON.parse(row.scopes) as string[],
      };
    },

    async link(id) {
      return db.selectFrom('links').select(['id', 'name']).where('id', '=', id).executeTakeFirst();
    },

    async accountsOfLink(linkId) {
      return db
        .selectFrom('connections')
        .select(['id', 'account'])
        .where('link_id', '=', linkId)
        .orderBy('created_at')
        .execute();
    },

    async providerOfLink(linkId) {
      const row = await db
        .selectFrom('links')
        .select(['provider', 'cloud'])
        .where('id', '=', linkId)
        .executeTakeFirst();
      return (
        row && {
          provider: row.provider as ProviderId,
          cloud: row.cloud as MicrosoftCloud | null,
        }
      );
    },
  };
}

/** The unique key of a name: "Support" and "support " are the same mail server. */
function nameKey(name: string): string {
  return name.trim().toLowerCase();
}

function toRecord(row: Selectable<MailServersTable>): MailServerRecord {
  // Incoming servers stored before migration 0004 have no handler settings yet: they read as
  // the defaults, which their next update stores.
  const incoming = row.protocol !== 'smtp';
  return {
    id: row.id,
    name: row.name,
    protocol: row.protocol as MailProtocol,
    host: row.host,
    port: row.port,
    security: row.security as MailSecurity,
    username: row.username,
    authMethod: row.auth_method as MailAuthMethod,
    connectionId: row.connection_id,
    hasPassword: row.password_enc !== null,
    saslMechanism: row.sasl_mechanism as SaslMechanism | null,
    folder: row.folder,
    pollIntervalSeconds: row.poll_interval_seconds,
    processedAction: row.processed_action as ProcessedAction | null,
    processedFolder: row.processed_folder,
    handlerEnabled: incoming ? row.handler_enabled === 1 : null,
    issueKeyPrefix: row.issue_key_prefix ?? (incoming ? HANDLER_DEFAULTS.issueKeyPrefix : null),
    defaultReporter: row.default_reporter,
    maxMessageBytes: row.max_message_bytes ?? (incoming ? HANDLER_DEFAULTS.maxMessageBytes : null),
    acknowledgeWith: row.ack_mail_server_id,
    errorFolder: row.error_folder,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toColumns(c: MailServerColumns) {
  return {
    name: c.name,
    name_key: nameKey(c.name),
    protocol: c.protocol,
    host: c.host,
    port: c.port,
    security: c.security,
    username: c.username,
    auth_method: c.authMethod,
    connection_id: c.connectionId,
    sasl_mechanism: c.saslMechanism,
    folder: c.folder,
    poll_interval_seconds: c.pollIntervalSeconds,
    processed_action: c.processedAction,
    processed_folder: c.processedFolder,
    handler_enabled: c.handlerEnabled ? 1 : 0,
    issue_key_prefix: c.issueKeyPrefix,
    default_reporter: c.defaultReporter,
    max_message_bytes: c.maxMessageBytes,
    ack_mail_server_id: c.acknowledgeWith,
    error_folder: c.errorFolder,
  };
}
