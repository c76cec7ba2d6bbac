import type { Kysely, Selectable } from 'kysely';
import type { ConnectionStatus, StoredError } from '../../domain/connection.js';
import type { ConnectionsTable, Database, LinksTable } from '../schema.js';
import { bumpCacheEpoch } from './cache-epochs.js';
import { compiledOnce } from './compiled.js';

/** A connection row as the token lifecycle reads it: tokens, expiry and refresh state. */
export type ConnectionTokenRow = Selectable<ConnectionsTable>;

/** What the refresh grant needs of a link: its client registration and endpoints. */
export type RefreshClientRow = Pick<
  Selectable<LinksTable>,
  | 'id'
  | 'client_id'
  | 'client_secret_enc'
  | 'client_auth_method'
  | 'authorization_endpoint'
  | 'token_endpoint'
  | 'issuer'
>;

/** A successful refresh, already encrypted. */
export interface RefreshedTokens {
  readonly accessTokenEnc: string;
  /** Absent when the provider sent none: the stored refresh token is kept. */
  readonly refreshTokenEnc?: string;
  readonly tokenType: string;
  readonly expiresAt: string | null;
  /** Absent when the provider did not say: the stored scopes are kept. */
  readonly scopes?: readonly string[];
  readonly at: string;
  /** The version the row gets (the one read, plus one), so waiters see a change. */
  readonly tokenVersion: number;
}

/** A transient failure: the connection keeps its tokens and waits until `retryAt`. */
export interface TransientFailure {
  readonly status: ConnectionStatus;
  readonly lastError: StoredError;
  readonly refreshFailures: number;
  readonly retryAt: string;
}

/** A connection that may be due, with the times that tell whether it is (`isFresh`). */
export interface DueConnection {
  readonly id: string;
  readonly expires_at: string | null;
  readonly last_refreshed_at: string | null;
}

/** What the scheduler asks for: connections whose refresh is due at `now`. */
export interface DueQuery {
  readonly now: Date;
  /** The largest refresh margin: a token expiring within it may be due. */
  readonly marginMs: number;
  /** A connection not refreshed for this long is due, however fresh its token. */
  readonly keepAliveMs: number;
  readonly limit: number;
}

/**
 * The token columns and refresh state of the `connections` table, as the token lifecycle
 * and the scheduler read and write them (the connection resource itself has its own
 * repository). `db` may be a transaction.
 */
export interface ConnectionTokensRepository {
  find(id: string): Promise<ConnectionTokenRow | undefined>;
  /** Every connection of a link (a link-scope failure marks them all). */
  listOfLink(linkId: string): Promise<ConnectionTokenRow[]>;
  /** The link's client registration, for the refresh grant. */
  findRefreshClient(linkId: string): Promise<RefreshClientRow>;
  /**
   * Stores a refresh's tokens and makes the connection `valid` again; the row as stored
   * (undefined when the connection is gone), so the caller need not read it back.
   */
  saveRefreshed(id: string, tokens: RefreshedTokens): Promise<ConnectionTokenRow | undefined>;
  saveTransientFailure(id: string, failure: TransientFailure): Promise<void>;
  /** A permanent failure: a human must act (re-authorize, or fix the link). */
  markReauthorizationRequired(id: string, lastError: StoredError): Promise<void>;
  /**
   * Ids of connections the scheduler should look at, soonest expiry first: not awaiting
   * re-authorization, holding a refresh token, past any retry time, and either expiring
   * within the margin or idle for `keepAliveMs`.
   */
  listDue(query: DueQuery): Promise<DueConnection[]>;
}

export function createConnectionTokensRepository(db: Kysely<Database>): ConnectionTokensRepository {
  // The token route reads this row on every request the cache does not answer.
  const findRow = compiledOnce(
    db,
    (id: string) => db.selectFrom('connections').selectAll().where('id', '=', id),
    [''],
  );
  return {
    find: async (id) => (await findRow(id))[0],
    listOfLink: (linkId) =>
      db.selectFrom('connections').selectAll().where('link_id', '=', linkId).execute(),
    findRefreshClient: (linkId) =>
      db
        .selectFrom('links')
        .select([
          'id',
          'client_id',
          'client_secret_enc',
          'client_auth_method',
          'authorization_endpoint',
          'token_endpoint',
          'issuer',
        ])
        .where('id', '=', linkId)
        .executeTakeFirstOrThrow(),
    async saveRefreshed(id, tokens) {
      const row = await db
        .updateTable('connections')
        .set({
          access_token_enc: tokens.accessTokenEnc,
          ...(tokens.refreshTokenEnc ? { refresh_token_enc: tokens.refreshTokenEnc } : {}),
          token_type: tokens.tokenType,
          expires_at: tokens.expiresAt,
          ...(tokens.scopes ? { scopes: JSON.stringify(tokens.scopes) } : {}),
          status: 'valid',
          last_refreshed_at: tokens.at,
          last_error: null,
          refresh_failures: 0,
          retry_at: null,
          token_version: tokens.tokenVersion,
          updated_at: tokens.at,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      await bumpCacheEpoch(db, 'access_tokens');
      return row;
    },
    async saveTransientFailure(id, failure) {
      await db
        .updateTable('connections')
        .set({
          status: failure.status,
          last_error: JSON.stringify(failure.lastError),
          refresh_failures: failure.refreshFailures,
          retry_at: failure.retryAt,
          updated_at: failure.lastError.at,
        })
        .where('id', '=', id)
        .execute();
      await bumpCacheEpoch(db, 'access_tokens');
    },
    async markReauthorizationRequired(id, lastError) {
      await db
        .updateTable('connections')
        .set({
          status: 'reauthorization_required',
          last_error: JSON.stringify(lastError),
          retry_at: null,
          updated_at: lastError.at,
        })
        .where('id', '=', id)
        .execute();
      await bumpCacheEpoch(db, 'access_tokens');
    },
    async listDue({ now, marginMs, keepAliveMs, limit }) {
      const rows = await db
        .selectFrom('connections')
        .select(['id', 'expires_at', 'last_refreshed_at'])
        .where('status', '!=', 'reauthorization_required')
        .where('refresh_token_enc', 'is not', null)
        .where((eb) => eb.or([eb('retry_at', 'is', null), eb('retry_at', '<=', now.toISOString())]))
        .where((eb) =>
          eb.or([
            eb('expires_at', '<=', new Date(now.getTime() + marginMs).toISOString()),
            eb('last_refreshed_at', 'is', null),
            eb('last_refreshed_at', '<=', new Date(now.getTime() - keepAliveMs).toISOString()),
          ]),
        )
        .orderBy('expires_at')
        .limit(limit)
        .execute();
      return rows;
    },
  };
}
