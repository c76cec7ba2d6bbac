import { type Selectable, sql } from 'kysely';
import type { ConnectionsTable } from '../schema.js';
import type { Executor } from './transaction.js';

/** A connection's last failure as stored (JSON), as the token service wrote it. */
export interface StoredErrorData {
  /** The provider error catalog's id. */
  readonly id: string;
  /** Whose fault: `transient`, `connection` or `link`. */
  readonly scope: string;
  readonly error?: string;
  readonly description?: string;
  readonly status?: number;
  readonly at: string;
}

/**
 * A connection (DESIGN §4): one account that authorized a link, with its tokens encrypted.
 * The token lifecycle's own statements (refresh, backoff, leases) live with the token service.
 */
export interface ConnectionRecord {
  readonly id: string;
  readonly linkId: string;
  readonly account: string;
  readonly status: ConnectionsTable['status'];
  readonly accessTokenEnc: string | null;
  readonly refreshTokenEnc: string | null;
  readonly tokenType: string | null;
  readonly expiresAt: string | null;
  readonly scopes: readonly string[];
  readonly lastRefreshedAt: string | null;
  readonly lastError: StoredErrorData | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The `iss` of the ID token seen at authorization. */
  readonly issuer: string | null;
  readonly refreshFailures: number;
  readonly retryAt: string | null;
  readonly tokenVersion: number;
}

/** A connection as a link lists it: no token columns read. */
export type ConnectionSummary = Pick<
  ConnectionRecord,
  'id' | 'linkId' | 'account' | 'status' | 'expiresAt' | 'scopes' | 'lastRefreshedAt' | 'lastError'
>;

/** The token state an authorization writes: everything but identity and creation. */
export type AuthorizedState = Omit<
  ConnectionRecord,
  'id' | 'linkId' | 'account' | 'createdAt' | 'tokenVersion'
>;

/** Statements on `connections`, but those of the token lifecycle. */
export interface ConnectionRepository {
  findById(id: string): Promise<ConnectionRecord | undefined>;
  /** The link's connection of `account`, compared without regard to case. */
  findByAccount(linkId: string, account: string): Promise<ConnectionRecord | undefined>;
  /** The link's connections, oldest first. */
  listOfLink(linkId: string): Promise<ConnectionRecord[]>;
  /** The connections of all these links, oldest first, in one round trip. */
  summariesOfLinks(linkIds: readonly string[]): Promise<ConnectionSummary[]>;
  /** The link's connections that need re-authorization, with the failure that said so. */
  listReauthorizationRequired(
    linkId: string,
  ): Promise<Pick<ConnectionRecord, 'id' | 'lastError'>[]>;
  idsOfLink(linkId: string): Promise<string[]>;
  /** Which of `ids` exist. */
  existingIds(ids: readonly string[]): Promise<Set<string>>;
  /** A new connection, as its first authorization leaves it. */
  insertAuthorized(
    connection: Pick<ConnectionRecord, 'id' | 'linkId' | 'account' | 'createdAt'>,
    state: AuthorizedState,
  ): Promise<void>;
  /** An existing connection authorized again; `tokenVersion` is the one after the change. */
  updateAuthorized(id: string, state: AuthorizedState, tokenVersion: number): Promise<void>;
  delete(id: string): Promise<void>;
  deleteOfLink(linkId: string): Promise<void>;
}

export function createConnectionRepository(db: Executor): ConnectionRepository {
  return {
    async findById(id) {
      const row = await db
        .selectFrom('connections')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async findByAccount(linkId, account) {
      const row = await db
        .selectFrom('connections')
        .selectAll()
        .where('link_id', '=', linkId)
        // Mail addresses are compared as the providers treat them: without regard to case.
        .where(sql`lower(account)`, '=', account.toLowerCase())
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async listOfLink(linkId) {
      const rows = await db
        .selectFrom('connections')
        .selectAll()
        .where('link_id', '=', linkId)
        .orderBy('created_at')
        .execute();
      return rows.map(toRecord);
    },
    async summariesOfLinks(linkIds) {
      if (linkIds.length === 0) return [];
      const rows = await db
        .selectFrom('connections')
        .select([
          'id',
          'link_id',
          'account',
          'status',
          'expires_at',
          'scopes',
          'last_refreshed_at',
          'last_error',
        ])
        .where('link_id', 'in', linkIds)
        .orderBy('created_at')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        linkId: r.link_id,
        account: r.account,
        status: r.status,
        expiresAt: r.expires_at,
        scopes: JSON.parse(r.scopes) as string[],
        lastRefreshedAt: r.last_refreshed_at,
        lastError: parseError(r.last_error),
      }));
    },
    async listReauthorizationRequired(linkId) {
      const rows = await db
        .selectFrom('connections')
        .select(['id', 'last_error'])
        .where('link_id', '=', linkId)
        .where('status', '=', 'reauthorization_required')
        .execute();
      return rows.map((r) => ({ id: r.id, lastError: parseError(r.last_error) }));
    },
    async idsOfLink(linkId) {
      const rows = await db
        .selectFrom('connections')
        .select('id')
        .where('link_id', '=', linkId)
        .execute();
      return rows.map((r) => r.id);
    },
    async existingIds(ids) {
      if (ids.length === 0) return new Set();
      const rows = await db.selectFrom('connections').select('id').where('id', 'in', ids).execute();
      return new Set(rows.map((r) => r.id));
    },
    async insertAuthorized(connection, state) {
      await db
        .insertInto('connections')
        .values({
          id: connection.id,
          link_id: connection.linkId,
          account: connection.account,
          created_at: connection.createdAt,
          ...stateColumns(state),
        })
        .execute();
    },
    async updateAuthorized(id, state, tokenVersion) {
      await db
        .updateTable('connections')
        .set({ ...stateColumns(state), token_version: tokenVersion })
        .where('id', '=', id)
        .execute();
    },
    async delete(id) {
      await db.deleteFrom('connections').where('id', '=', id).execute();
    },
    async deleteOfLink(linkId) {
      await db.deleteFrom('connections').where('link_id', '=', linkId).execute();
    },
  };
}

function stateColumns(state: AuthorizedState) {
  return {
    status: state.status,
    access_token_enc: state.accessTokenEnc,
    refresh_token_enc: state.refreshTokenEnc,
    token_type: state.tokenType,
    expires_at: state.expiresAt,
    scopes: JSON.stringify(state.scopes),
    issuer: state.issuer,
    last_refreshed_at: state.lastRefreshedAt,
    last_error: state.lastError === null ? null : JSON.stringify(state.lastError),
    refresh_failures: state.refreshFailures,
    retry_at: state.retryAt,
    updated_at: state.updatedAt,
  };
}

function parseError(value: string | null): StoredErrorData | null {
  return value ? (JSON.parse(value) as StoredErrorData) : null;
}

function toRecord(row: Selectable<ConnectionsTable>): ConnectionRecord {
  return {
    id: row.id,
    linkId: row.link_id,
    account: row.account,
    status: row.status,
    accessTokenEnc: row.access_token_enc,
    refreshTokenEnc: row.refresh_token_enc,
    tokenType: row.token_type,
    expiresAt: row.expires_at,
    scopes: JSON.parse(row.scopes) as string[],
    lastRefreshedAt: row.last_refreshed_at,
    lastError: parseError(row.last_error),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    issuer: row.issuer,
    refreshFailures: Number(row.refresh_failures),
    retryAt: row.retry_at,
    tokenVersion: Number(row.token_version),
  };
}
