import { randomUUID } from 'node:crypto';
import { Aad } from '../crypto/aad.js';
import type { Cipher } from '../crypto/cipher.js';
import type { Actor } from '../domain/actor.js';
import {
  type AddressPolicy,
  assertHostAllowed,
  createAddressPolicy,
} from '../domain/address-policy.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import type { Warning } from '../domain/link.js';
import {
  type MailCredentials,
  type MailProviderFacts,
  type MailServerRuntime,
  type MailServerSettings,
  settleMailServer,
} from '../domain/mail-server.js';
import {
  runConnectionTest,
  type TestMessageText,
  type TestResult,
  testMessage,
} from '../mail/connection-test.js';
import type { AccessTokenSource, MailClient } from '../mail/mail-client.js';
import type { MailServerPreset } from '../providers/mail-preset.js';
import {
  mailPresets,
  neededScopes,
  presetOfHost,
  presetsForProvider,
} from '../providers/mail-registry.js';
import type { MicrosoftCloud } from '../providers/types.js';
import type {
  CreateMailServerInput,
  TestMailServerInput,
  UpdateMailServerInput,
} from '../schemas/mail-servers.js';
import { isUniqueViolation } from '../store/db.js';
import {
  createMailServerRepository,
  type MailServerColumns,
  type MailServerConnection,
  type MailServerRecord,
} from '../store/repositories/mail-servers.js';
import { type Executor, inTransaction } from '../store/repositories/transaction.js';
import type { EventService } from './events.js';

/**
 * A stored mail server with the connection it authenticates with and the name of the server
 * that acknowledges its new issues, for presenting.
 */
export type MailServerEntry = MailServerRecord & {
  readonly connection: MailServerConnection | null;
  readonly acknowledgeWithName: string | null;
};

export interface MailServerChange {
  readonly mailServer: MailServerEntry;
  readonly warnings: Warning[];
}

/** The words of an outgoing server's test message, chosen by the caller (its reader's language). */
export type TestMessageWords = (server: MailServerRuntime) => TestMessageText;

export interface MailServerService {
  list(page: {
    limit: number;
    cursor?: string;
  }): Promise<{ items: MailServerEntry[]; nextCursor?: string }>;
  get(id: string): Promise<MailServerEntry>;
  /** By id or, failing that, by name (the CLI accepts either). */
  find(idOrName: string): Promise<MailServerEntry>;
  create(actor: Actor, input: CreateMailServerInput): Promise<MailServerChange>;
  update(actor: Actor, id: string, input: UpdateMailServerInput): Promise<MailServerChange>;
  remove(actor: Actor, id: string): Promise<void>;
  /** Everything the mail code needs to connect, the password decrypted. Never shown. */
  runtime(id: string): Promise<MailServerRuntime>;
  /**
   * The connection test (DESIGN §8): step by step, stopping at the first failure, which is
   * recorded as `mail_server.test_failed`. `words` words an outgoing server's test message.
   */
  test(
    actor: Actor,
    id: string,
    input: TestMailServerInput,
    words: TestMessageWords,
  ): Promise<{ mailServer: MailServerEntry; result: TestResult }>;
  /** The presets, or those matching a link's provider, with the cloud whose scopes apply. */
  presets(
    linkId?: string,
  ): Promise<{ presets: readonly MailServerPreset[]; cloud: MicrosoftCloud }>;
}

/**
 * The mail servers that use any of `connectionIds`, for refusing to delete a link or a
 * connection they depend on (DESIGN §4). Runs in the caller's transaction.
 */
export function mailServersUsing(
  db: Executor,
  connectionIds: readonly string[],
): Promise<{ id: string; name: string }[]> {
  return createMailServerRepository(db).usingConnections(connectionIds);
}

/**
 * The 409 that lists the mail servers in the way (`link_in_use`, `connection_in_use`,
 * `mail_server_in_use`).
 */
export function inUseError(
  code: 'link_in_use' | 'connection_in_use' | 'mail_server_in_use',
  users: readonly { id: string; name: string }[],
): OutlinkError {
  return new OutlinkError(
    code,
    { mailServers: users.map((u) => u.name).join(', ') },
    { details: { mailServers: users.map((u) => ({ id: u.id, name: u.name })) } },
  );
}

/** The provider facts the mail server rules ask for, from the presets. */
const providerFacts: MailProviderFacts<MailServerConnection> = {
  neededScopes: (connection, protocol) =>
    neededScopes(connection.provider, connection.cloud, protocol),
  presetOfHost,
};

export function createMailServerService(deps: {
  db: Executor;
  cipher: Cipher;
  clock: Clock;
  events: EventService;
  tokens: AccessTokenSource;
  mail: MailClient;
  /** The addresses a mail server may be at (issue 11); nothing re-allowed when absent. */
  addresses?: AddressPolicy;
}): MailServerService {
  const { db, cipher, clock, events } = deps;
  const addresses = deps.addresses ?? createAddressPolicy();
  const servers = createMailServerRepository(db);

  const load = async (id: string): Promise<MailServerRecord> => {
    const record = await servers.findById(id);
    if (!record) throw new OutlinkError('mail_server_not_found', { id });
    return record;
  };

  const withConnections = async (
    records: readonly MailServerRecord[],
  ): Promise<MailServerEntry[]> => {
    const ids = [...new Set(records.map((r) => r.connectionId).filter((id) => id !== null))];
    const connections = new Map<string, MailServerConnection>();
    for (const id of ids) {
      const c = await servers.connection(id);
      if (c) connections.set(id, c);
    }
    const acknowledging = await servers.names([
      ...new Set(records.map((r) => r.acknowledgeWith).filter((id) => id !== null)),
    ]);
    return records.map((record) => ({
      ...record,
      connection: (record.connectionId && connections.get(record.connectionId)) || null,
      acknowledgeWithName:
        (record.acknowledgeWith && acknowledging.get(record.acknowledgeWith)) || null,
    }));
  };
  const entryOf = async (record: MailServerRecord) => (await withConnections([record]))[0]!;

  const settle = async (input: UpdateMailServerInput, stored: MailServerRecord | undefined) => {
    const settled = await settleMailServer(input, stored, servers, providerFacts);
    assertHostAllowed(addresses, 'host', settled.settings.host);
    return settled;
  };

  const service: MailServerService = {
    async list(page) {
      const { rows, nextCursor } = await servers.list(page);
      const items = await withConnections(rows);
      return nextCursor ? { items, nextCursor } : { items };
    },

    async get(id) {
      return entryOf(await load(id));
    },

    async find(idOrName) {
      const record = await servers.findByIdOrName(idOrName);
      if (!record) throw new OutlinkError('mail_server_not_found', { id: idOrName });
      return entryOf(record);
    },

    async create(actor, input) {
      const { settings, warnings } = await settle(input, undefined);
      if (await servers.nameTaken(settings.name)) throw nameTakenError(settings.name);
      const id = randomUUID();
      try {
        await inTransaction(db, async (trx) => {
          await createMailServerRepository(trx).insert(
            id,
            columnsOf(settings),
            settings.password !== undefined
              ? cipher.encrypt(settings.password, Aad.mailServerPassword(id))
              : null,
            clock.now().toISOString(),
          );
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
      const stored = await load(id);
      const { settings, warnings } = await settle(input, stored);
      if (input.name !== undefined && (await servers.nameTaken(settings.name, id))) {
        throw nameTakenError(settings.name);
      }
      const changed = Object.keys(input);
      try {
        await inTransaction(db, async (trx) => {
          await createMailServerRepository(trx).update(
            id,
            columnsOf(settings),
            settings.authMethod === 'oauth2'
              ? null
              : settings.password !== undefined
                ? cipher.encrypt(settings.password, Aad.mailServerPassword(id))
                : undefined,
            clock.now().toISOString(),
          );
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
      const stored = await load(id);
      const connection = stored.connectionId ? await servers.connection(stored.connectionId) : null;
      await inTransaction(db, async (trx) => {
        const repository = createMailServerRepository(trx);
        // Checked in the transaction: an incoming server set to acknowledge with this one
        // meanwhile is either seen here or refused by the foreign key.
        const acknowledging = await repository.acknowledgingWith(id);
        if (acknowledging.length > 0) throw inUseError('mail_server_in_use', acknowledging);
        await repository.delete(id);
        await events.record(trx, {
          type: 'mail_server.deleted',
          actor,
          mailServerId: id,
          ...eventIds(connection ?? null),
          data: { name: stored.name, protocol: stored.protocol },
        });
      });
    },

    async runtime(id) {
      const stored = await load(id);
      let credentials: MailCredentials;
      if (stored.authMethod === 'oauth2') {
        const connection = stored.connectionId
          ? await servers.connection(stored.connectionId)
          : undefined;
        if (!connection) {
          throw new OutlinkError('connection_not_found', { id: String(stored.connectionId) });
        }
        credentials = {
          method: 'oauth2',
          connectionId: connection.id,
          account: connection.account,
          provider: connection.provider,
          grantedScopes: connection.scopes,
          neededScopes: providerFacts.neededScopes(connection, stored.protocol),
        };
      } else {
        credentials = {
          method: 'password',
          password: cipher.decrypt(
            (await servers.passwordOf(id)) ?? '',
            Aad.mailServerPassword(id),
          ),
        };
      }
      return {
        id: stored.id,
        name: stored.name,
        protocol: stored.protocol,
        host: stored.host,
        port: stored.port,
        security: stored.security,
        username: stored.username,
        credentials,
        saslMechanism: stored.saslMechanism,
        folder: stored.folder,
      };
    },

    async test(actor, id, input, words) {
      const runtime = await service.runtime(id);
      if (runtime.protocol !== 'smtp' && input.to !== undefined) {
        throw new OutlinkError(
          'mail_field_not_applicable',
          { field: 'to', protocol: runtime.protocol, method: runtime.credentials.method },
          { details: { field: 'to' } },
        );
      }
      const message =
        runtime.protocol === 'smtp' ? testMessage(runtime, input.to, words(runtime)) : undefined;
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
      if (linkId === undefined) return { presets: Object.values(mailPresets), cloud: 'global' };
      const link = await servers.providerOfLink(linkId);
      if (!link) throw new OutlinkError('link_not_found', { id: linkId });
      return {
        presets: presetsForProvider(link.provider, link.cloud ?? 'global'),
        cloud: link.cloud ?? 'global',
      };
    },
  };
  return service;
}

/** The columns of settled settings: the connection by id, the password apart (encrypted). */
function columnsOf(s: MailServerSettings<MailServerConnection>): MailServerColumns {
  const { connection, password, ...fields } = s;
  return { ...fields, connectionId: connection?.id ?? null };
}

function eventIds(connection: MailServerConnection | null): {
  linkId?: string;
  connectionId?: string;
} {
  return connection ? { linkId: connection.linkId, connectionId: connection.id } : {};
}

function nameTakenError(name: string): OutlinkError {
  return new OutlinkError('mail_server_name_taken', { name }, { details: { field: 'name' } });
}
