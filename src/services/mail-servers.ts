import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { Aad } from '../crypto/aad.js';
import type { Cipher } from '../crypto/cipher.js';
import type { Actor } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import type { Warning } from '../domain/link.js';
import type { Locale } from '../i18n/i18n.js';
import { runConnectionTest, type TestResult, testMessage } from '../mail/connection-test.js';
import type { MailProtocol, MailSecurity } from '../mail/endpoint.js';
import type { MailClient } from '../mail/mail-client.js';
import type {
  CreateMailServerInput,
  ProcessedAction,
  TestMailServerInput,
  UpdateMailServerInput,
} from '../mail/mail-server-body.js';
import {
  type ConnectionLookup,
  type MailServerSettings,
  neededScopes,
  type ResolvedConnection,
  type StoredMailServer,
  settleMailServer,
} from '../mail/mail-server-rules.js';
import {
  type MailPresetView,
  type MailServerView,
  presetView,
  toMailServerView,
} from '../mail/mail-server-view.js';
import { type MailServerPreset, mailPresets, presetsForProvider } from '../mail/presets.js';
import type { MailCredentials, MailServerRuntime } from '../mail/runtime.js';
import type { SaslMechanism } from '../mail/sasl.js';
import type { MicrosoftCloud, ProviderId } from '../providers/types.js';
import { isUniqueViolation } from '../store/db.js';
import { pageByName } from '../store/repositories/name-page.js';
import type { Database, MailServersTable } from '../store/schema.js';
import type { TokenService } from '../tokens/token-service.js';
import type { EventService } from './events.js';

export type {
  MailPresetView,
  MailServerAuthenticationView,
  MailServerView,
} from '../mail/mail-server-view.js';

export interface MailServerWithWarnings {
  mailServer: MailServerView;
  warnings: Warning[];
}

export interface MailServerService {
  list(page: {
    limit: number;
    cursor?: string;
  }): Promise<{ items: MailServerView[]; nextCursor?: string }>;
  get(id: string): Promise<MailServerView>;
  /** By id or, failing that, by name (the CLI accepts either). */
  find(idOrName: string): Promise<MailServerView>;
  create(actor: Actor, input: CreateMailServerInput): Promise<MailServerWithWarnings>;
  update(actor: Actor, id: string, input: UpdateMailServerInput): Promise<MailServerWithWarnings>;
  remove(actor: Actor, id: string): Promise<void>;
  /** Everything the mail code needs to connect, the password decrypted. Never shown. */
  runtime(id: string): Promise<MailServerRuntime>;
  /**
   * The connection test (DESIGN §8): step by step, stopping at the first failure, which is
   * recorded as `mail_server.test_failed`. `locale` words the test message.
   */
  test(
    actor: Actor,
    id: string,
    input: TestMailServerInput,
    locale: Locale,
  ): Promise<{ mailServer: MailServerView; result: TestResult }>;
  /** The presets, or those matching a link's provider. */
  presets(linkId?: string): Promise<MailPresetView[]>;
}

/**
 * The mail servers that use any of `connectionIds`, for refusing to delete a link or a
 * connection they depend on (DESIGN §4). Runs in the caller's transaction.
 */
export async function mailServersUsing(
  db: Kysely<Database> | Transaction<Database>,
  connectionIds: readonly string[],
): Promise<{ id: string; name: string }[]> {
  if (connectionIds.length === 0) return [];
  return db
    .selectFrom('mail_servers')
    .select(['id', 'name'])
    .where('connection_id', 'in', [...connectionIds])
    .orderBy('name_key')
    .execute();
}

/** The 409 that lists the mail servers in the way (`link_in_use`, `connection_in_use`). */
export function inUseError(
  code: 'link_in_use' | 'connection_in_use',
  users: readonly { id: string; name: string }[],
): OutlinkError {
  return new OutlinkError(
    code,
    { mailServers: users.map((u) => u.name).join(', ') },
    { details: { mailServers: users.map((u) => ({ id: u.id, name: u.name })) } },
  );
}

type Row = Selectable<MailServersTable>;

/** A row as the rules and views read it. */
function storedOf(
  row: Row,
): StoredMailServer & { id: string; createdAt: string; updatedAt: string } {
  return {
    id: row.id,
    name: row.name,
    protocol: row.protocol as MailProtocol,
    host: row.host,
    port: row.port,
    security: row.security as MailSecurity,
    username: row.username,
    authMethod: row.auth_method as 'oauth2' | 'password',
    connectionId: row.connection_id,
    hasPassword: row.password_enc !== null,
    saslMechanism: row.sasl_mechanism as SaslMechanism | null,
    folder: row.folder,
    pollIntervalSeconds: row.poll_interval_seconds,
    processedAction: row.processed_action as ProcessedAction | null,
    processedFolder: row.processed_folder,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function createMailServerService(deps: {
  db: Kysely<Database>;
  cipher: Cipher;
  clock: Clock;
  events: EventService;
  tokens: Pick<TokenService, 'getAccessToken'>;
  mail: MailClient;
}): MailServerService {
  const { db, cipher, clock, events } = deps;

  const loadRow = async (id: string): Promise<Row> => {
    const row = await db
      .selectFrom('mail_servers')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new OutlinkError('mail_server_not_found', { id });
    return row;
  };

  const connectionOf = async (id: string): Promise<ResolvedConnection | undefined> => {
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
  };

  const present = async (rows: readonly Row[]): Promise<MailServerView[]> => {
    const ids = [...new Set(rows.map((r) => r.connection_id).filter((id) => id !== null))];
    const connections = new Map<string, ResolvedConnection>();
    for (const id of ids) {
      const c = await connectionOf(id);
      if (c) connections.set(id, c);
    }
    return rows.map((row) =>
      toMailServerView(
        storedOf(row),
        row.connection_id ? connections.get(row.connection_id) : undefined,
      ),
    );
  };

  const nameTaken = async (name: string, exceptId?: string) => {
    let q = db.selectFrom('mail_servers').select('id').where('name_key', '=', nameKey(name));
    if (exceptId) q = q.where('id', '!=', exceptId);
    return (await q.executeTakeFirst()) !== undefined;
  };

  /**
   * The connection of `{method: 'oauth2'}`: the one named, or the link's connection whose
   * account is the username (DESIGN §8: another account is a delegate's, allowed when named).
   */
  const resolveConnection = async (
    auth: { connectionId?: string; linkId?: string },
    username: string,
  ): Promise<ResolvedConnection> => {
    if (auth.connectionId !== undefined) {
      const connection = await connectionOf(auth.connectionId);
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
    const link = await db
      .selectFrom('links')
      .select(['id', 'name'])
      .where('id', '=', auth.linkId)
      .executeTakeFirst();
    if (!link) throw fieldInvalid('authentication.linkId', 'there is no link with this id');
    const accounts = await db
      .selectFrom('connections')
      .select(['id', 'account'])
      .where('link_id', '=', link.id)
      .orderBy('created_at')
      .execute();
    const match = accounts.find((c) => c.account.toLowerCase() === username.toLowerCase());
    if (!match) {
      throw new OutlinkError(
        'mailbox_not_authorized',
        {
          link: link.name,
          username,
          accounts: accounts.map((a) => a.account).join(', ') || '-',
        },
        { details: { field: 'authentication' } },
      );
    }
    return (await connectionOf(match.id))!;
  };

  const lookup: ConnectionLookup = { resolve: resolveConnection, byId: connectionOf };
  const settle = (input: UpdateMailServerInput, row: Row | undefined) =>
    settleMailServer(input, row ? storedOf(row) : undefined, lookup);

  const columns = (s: MailServerSettings) => ({
    name: s.name,
    name_key: nameKey(s.name),
    protocol: s.protocol,
    host: s.host,
    port: s.port,
    security: s.security,
    username: s.username,
    auth_method: s.authMethod,
    connection_id: s.connection?.id ?? null,
    sasl_mechanism: s.saslMechanism,
    folder: s.folder,
    poll_interval_seconds: s.pollIntervalSeconds,
    processed_action: s.processedAction,
    processed_folder: s.processedFolder,
  });

  const service: MailServerService = {
    async list({ limit, cursor }) {
      const { rows, nextCursor } = await pageByName(db.selectFrom('mail_servers').selectAll(), {
        limit,
        cursor,
      });
      const items = await present(rows);
      return nextCursor ? { items, nextCursor } : { items };
    },

    async get(id) {
      const [view] = await present([await loadRow(id)]);
      return view!;
    },

    async find(idOrName) {
      const row = await db
        .selectFrom('mail_servers')
        .selectAll()
        .where((eb) => eb.or([eb('id', '=', idOrName), eb('name_key', '=', nameKey(idOrName))]))
        .orderBy('created_at')
        .executeTakeFirst();
      if (!row) throw new OutlinkError('mail_server_not_found', { id: idOrName });
      const [view] = await present([row]);
      return view!;
    },

    async create(actor, input) {
      const { settings, warnings } = await settle(input, undefined);
      if (await nameTaken(settings.name)) throw nameTakenError(settings.name);
      const id = randomUUID();
      const now = clock.now().toISOString();
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .insertInto('mail_servers')
            .values({
              id,
              ...columns(settings),
              password_enc:
                settings.password !== undefined
                  ? cipher.encrypt(settings.password, Aad.mailServerPassword(id))
                  : null,
              created_at: now,
              updated_at: now,
            })
            .execute();
          await events.record(trx, {
            type: 'mail_server.created',
            actor,
            mailServerId: id,
            ...eventIds(settings.connection),
            data: { name: settings.name, protocol: settings.protocol, host: settings.host },
          });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTakenError(settings.name);
        throw error;
      }
      return { mailServer: await service.get(id), warnings };
    },

    async update(actor, id, input) {
      const row = await loadRow(id);
      const { settings, warnings } = await settle(input, row);
      if (input.name !== undefined && (await nameTaken(settings.name, id))) {
        throw nameTakenError(settings.name);
      }
      const changed = Object.keys(input);
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('mail_servers')
            .set({
              ...columns(settings),
              ...(settings.authMethod === 'oauth2'
                ? { password_enc: null }
                : settings.password !== undefined
                  ? { password_enc: cipher.encrypt(settings.password, Aad.mailServerPassword(id)) }
                  : {}),
              updated_at: clock.now().toISOString(),
            })
            .where('id', '=', id)
            .execute();
          await events.record(trx, {
            type: 'mail_server.updated',
            actor,
            mailServerId: id,
            ...eventIds(settings.connection),
            data: { name: settings.name, changed },
          });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTakenError(settings.name);
        throw error;
      }
      return { mailServer: await service.get(id), warnings };
    },

    async remove(actor, id) {
      const row = await loadRow(id);
      const connection = row.connection_id ? await connectionOf(row.connection_id) : undefined;
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('mail_servers').where('id', '=', id).execute();
        await events.record(trx, {
          type: 'mail_server.deleted',
          actor,
          mailServerId: id,
          ...eventIds(connection ?? null),
          data: { name: row.name, protocol: row.protocol },
        });
      });
    },

    async runtime(id) {
      const row = await loadRow(id);
      let credentials: MailCredentials;
      if (row.auth_method === 'oauth2') {
        const connection = row.connection_id ? await connectionOf(row.connection_id) : undefined;
        if (!connection)
          throw new OutlinkError('connection_not_found', { id: String(row.connection_id) });
        credentials = {
          method: 'oauth2',
          connectionId: connection.id,
          account: connection.account,
          provider: connection.provider,
          grantedScopes: connection.scopes,
          neededScopes: neededScopes(connection, row.protocol as MailProtocol),
        };
      } else {
        credentials = {
          method: 'password',
          password: cipher.decrypt(row.password_enc ?? '', Aad.mailServerPassword(row.id)),
        };
      }
      return {
        id: row.id,
        name: row.name,
        protocol: row.protocol as MailProtocol,
        host: row.host,
        port: row.port,
        security: row.security as MailSecurity,
        username: row.username,
        credentials,
        saslMechanism: row.sasl_mechanism as SaslMechanism | null,
        folder: row.folder,
      };
    },

    async test(actor, id, input, locale) {
      const runtime = await service.runtime(id);
      if (runtime.protocol !== 'smtp' && input.to !== undefined) {
        throw new OutlinkError(
          'mail_field_not_applicable',
          { field: 'to', protocol: runtime.protocol, method: runtime.credentials.method },
          { details: { field: 'to' } },
        );
      }
      const message =
        runtime.protocol === 'smtp' ? testMessage(runtime, input.to, locale) : undefined;
      const result = await runConnectionTest(
        { mail: deps.mail, tokens: deps.tokens },
        runtime,
        message ? { message } : {},
      );
      if (!result.ok && result.error) {
        await events.record(db, {
          type: 'mail_server.test_failed',
          actor,
          mailServerId: id,
          ...(runtime.credentials.method === 'oauth2'
            ? { connectionId: runtime.credentials.connectionId }
            : {}),
          data: { name: runtime.name, step: result.error.step, code: result.error.code },
        });
      }
      return { mailServer: await service.get(id), result };
    },

    async presets(linkId) {
      let chosen: readonly MailServerPreset[] = Object.values(mailPresets);
      let cloud: MicrosoftCloud = 'global';
      if (linkId !== undefined) {
        const link = await db
          .selectFrom('links')
          .select(['provider', 'cloud'])
          .where('id', '=', linkId)
          .executeTakeFirst();
        if (!link) throw new OutlinkError('link_not_found', { id: linkId });
        chosen = presetsForProvider(link.provider as ProviderId);
        cloud = (link.cloud as MicrosoftCloud | null) ?? 'global';
      }
      return chosen.map((p) => presetView(p, cloud));
    },
  };
  return service;
}

function eventIds(connection: ResolvedConnection | null): {
  linkId?: string;
  connectionId?: string;
} {
  return connection ? { linkId: connection.linkId, connectionId: connection.id } : {};
}

function fieldInvalid(field: string, problem: string): OutlinkError {
  return new OutlinkError('field_invalid', { field, problem }, { details: { field } });
}

function nameTakenError(name: string): OutlinkError {
  return new OutlinkError('mail_server_name_taken', { name }, { details: { field: 'name' } });
}

function nameKey(name: string): string {
  return name.trim().toLowerCase();
}
