import { type Selectable, sql } from 'kysely';
import type { ConnectionsTable } from '../schema.js';
import { bumpCacheEpoch } from './cache-epochs.js';
import { compiledOnce } from './compiled.js';
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
  /** Who the account is within its link (issue 11); null for a row not yet re-authorized. */
  readonly identity: string | null;
  /** The redirect URI the last authorization used; null for rows from before it was kept. */
  readonly redirectUri: string | null;
  /** When the last authorization completed; null for rows from before it was kept. */
  readonly authorizedAt: string | null;
}

/** A connection as a link lists it: no token columns read. */
export type ConnectionSummary = Pick<
  ConnectionRecord,
  'id' | 'linkId' | 'account' | 'status' | 'expiresAt' | 'scopes' | 'lastRefreshedAt' | 'lastError'
>;

/** The token state an authorization writes: everything but identity and creation. */
export type AuthorizedState = Omit<
  ConnectionRecord,
  'id' | 'linkId' | 'account' | 'createdAt' | 'tokenVersion' | 'identity'
>;

/** Statements on `connections`, but those of the token lifecycle. */
export interface ConnectionRepository {
  findById(id: string): Promise<ConnectionRecord | undefined>;
  /** The link's connection of `identity` (issue 11). */
  findByIdentity(linkId: string, identity: string): Promise<ConnectionRecord | undefined>;
  /**
   * The link's connection of `account` (compared without regard to case) from before
   * identities, which has none yet.
   */
  findUnidentifiedByAccount(linkId: string, account: string): Promise<ConnectionRecord | undefined>;
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
    connection: Pick<ConnectionRecord, 'id' | 'linkId' | 'account' | 'createdAt' | 'identity'>,
    state: AuthorizedState,
  ): Promise<void>;
  /**
   * An existing connection authorized again; `tokenVersion` is the one after the change.
   * `who`: its identity and display name as the provider now names them.
   */
  updateAuthorized(
    id: string,
    state: AuthorizedState,
    tokenVersion: number,
    who: Pick<ConnectionRecord, 'account' | 'identity'>,
  ): Promise<void>;
  delete(id: string): Promise<void>;
  deleteOfLink(linkId: string): Promise<void>;
  /**
   * Drops the tokens of every connection of the link and marks them for re-authorization
   * with `lastError`; returns them as they were before.
   */
  discardTokensOfLink(
    linkId: string,
    lastError: StoredErrorData,
  ): Promise<Pick<ConnectionRecord, 'id' | 'account' | 'status'>[]>;
}

/** The columns of a connection's summary in its link's view. */
const SUMMARY_COLUMNS = [
  'id',
  'link_id',
  'account',
  'status',
  'expires_at',
  'scopes',
  'last_refreshed_at',
  'last_error',
] as const;

export function createConnectionRepository(db: Executor): ConnectionRepository {
  const findRow = compiledOnce(
    db,
    (id: string) => db.selectFrom('connections').selectAll().where('id', '=', id),
    [''],
  );
  const summariesOfLink = compiledOnce(
    db,
    (linkId: string) =>
      db
        .selectFrom('connections')
        .select(SUMMARY_COLUMNS)
        .where('link_id', '=', linkId)
        .orderBy('created_at'),
    [''],
  );
  return {
    async findById(id) {
      const [row] = await findRow(id);
      return row && connectionRecordOf(row);
    },
    async findByIdentity(linkId, identity) {
      const row = await db
        .selectFrom('connections')
        .selectAll()
        .where('link_id', '=', linkId)
        .where('identity', '=', identity)
        .executeTakeFirst();
      return row && connectionRecordOf(row);
    },
    async findUnidentifiedByAccount(linkId, account) {
      const row = await db
        .selectFrom('connections')
        .selectAll()
        .where('link_id', '=', linkId)
        .where('identity', 'is', null)
        // Mail addresses are compared as the providers treat them: without regard to case.
        .where(sql`lower(account)`, '=', account.toLowerCase())
        .executeTakeFirst();
      return row && connectionRecordOf(row);
    },
    async listOfLink(linkId) {
      const rows = await db
        .selectFrom('connections')
        .selectAll()
        .where('link_id', '=', linkId)
        .orderBy('created_at')
        .execute();
      return rows.map(connectionRecordOf);
    },
    async summariesOfLinks(linkIds) {
      if (linkIds.length === 0) return [];
      // One link (the link read, GET /api/v1/links/:id): the statement compiled once.
      const rows =
        linkIds.length === 1
          ? await summariesOfLink(linkIds[0]!)
          : await db
              .selectFrom('connections')
              .select(SUMMARY_COLUMNS)
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
          identity: connection.identity,
          created_at: connection.createdAt,
          ...stateColumns(state),
        })
        .execute();
      // The link views cached by the link service list their connections (issue 12).
      await bumpCacheEpoch(db, 'access_tokens');
    },
    async updateAuthorized(id, state, tokenVersion, who) {
      await db
        .updateTable('connections')
        .set({
          ...stateColumns(state),
          token_version: tokenVersion,
          account: who.account,
          identity: who.identity,
        })
        .where('id', '=', id)
        .execute();
      await bumpCacheEpoch(db, 'access_tokens');
    },
    async delete(id) {
      await db.deleteFrom('connections').where('id', '=', id).execute();
      await bumpCacheEpoch(db, 'access_tokens');
    },
    async deleteOfLink(linkId) {
      await db.deleteFrom('connections').where('link_id', '=', linkId).execute();
      await bumpCacheEpoch(db, 'access_tokens');
    },
    async discardTokensOfLink(linkId, lastError) {
      const before = await db
        .selectFrom('connections')
        .select(['id', 'account', 'status'])
        .where('link_id', '=', linkId)
        .execute();
      await db
        .updateTable('connections')
        .set((eb) => ({
          status: 'reauthorization_required',
          access_token_enc: null,
          refresh_token_enc: null,
          last_error: JSON.stringify(lastError),
          retry_at: null,
          updated_at: lastError.at,
          token_version: eb('token_version', '+', 1),
        }))
        .where('link_id', '=', linkId)
        .execute();
      await bumpCacheEpoch(db, 'access_tokens');
      return before;
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
    redirect_uri: state.redirectUri,
    authorized_at: state.authorizedAt,
  };
}

function parseError(value: string | null): StoredErrorData | null {
  return value ? (JSON.parse(value) as StoredErrorData) : null;
}

/** A connection row as read or stored (e.g. by a refresh), as this repository gives it. */
export function connectionRecordOf(row: Selectable<ConnectionsTable>): ConnectionRecord {
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
    identity: row.identity,
    redirectUri: row.redirect_uri,
    authorizedAt: row.authorized_at,
  };
}
