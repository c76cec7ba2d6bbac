import { type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import type { ConnectionStatus, StoredError } from '../../domain/connection.js';
import { OutlinkError } from '../../domain/errors.js';
import { type PreparedStatement, prepare } from '../prepared.js';
import type { ConnectionsTable, Database, LinksTable } from '../schema.js';
import { bumpCacheEpoch } from './cache-epochs.js';
import { compiledOnce } from './compiled.js';
import { createLeasesRepository } from './leases.js';
import { whileBusy } from './transaction.js';

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

/**
 * What the scheduler asks for: connections whose refresh is due at `now` — not awaiting
 * re-authorization, holding a refresh token, past any retry time, and either expiring within
 * the margin or idle for `keepAliveMs`.
 */
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
   * Stores a refresh's tokens and makes the connection `valid` again, only while the row still
   * has the version the refresh read (`tokens.tokenVersion` − 1): the row as stored, so the
   * caller need not read it back, or undefined when the connection was deleted, re-authorized
   * or had its tokens discarded meanwhile (those tokens must not be overwritten by a grant
   * made from the old ones). Does not bump the cache epoch: the caller calls `tokensChanged`
   * last, before it commits (issue 14: the epoch row's lock is then held the least time),
   * once for every refresh its transaction stores (issue 12: group commit).
   */
  storeRefreshed(id: string, tokens: RefreshedTokens): Promise<ConnectionTokenRow | undefined>;
  /** Makes every process drop its cached tokens: after `storeRefreshed`, in its transaction. */
  tokensChanged(): Promise<void>;
  /**
   * A transient failure: the tokens stay, the connection waits until `failure.retryAt`. Only
   * while the row has `version` (the one the refresh read), when given: false when it changed
   * meanwhile (re-authorized, discarded, deleted), and nothing was written.
   */
  saveTransientFailure(id: string, failure: TransientFailure, version?: number): Promise<boolean>;
  /**
   * A permanent failure: a human must act (re-authorize, or fix the link). `version` as for
   * `saveTransientFailure`: a grant that died because a re-authorization replaced it says
   * nothing about the new one.
   */
  markReauthorizationRequired(
    id: string,
    lastError: StoredError,
    version?: number,
  ): Promise<boolean>;
  /**
   * Issue 14: claims due connections for `owner`, spreading scheduled refreshes across nodes
   * without a leader. In one transaction: the due rows no live lease covers, locked with
   * `FOR UPDATE SKIP LOCKED` on PostgreSQL (so concurrent claimers take disjoint rows), and
   * a `refresh:<id>` lease for each until `leaseUntil`. Returns the rows claimed, soonest
   * expiry first, as read under their leases (issue 12: the refresh need not read them again).
   */
  claimDue(
    query: DueQuery & { owner: string; leaseUntil: Date; skipLocked: boolean },
  ): Promise<ConnectionTokenRow[]>;
  /**
   * Every connection's link, status and access token expiry (no token): what the metrics
   * show at scrape time, at most `limit` rows.
   */
  expiries(limit: number): Promise<ConnectionExpiry[]>;
}

/** A connection's access token expiry, as the metrics show it. */
export interface ConnectionExpiry {
  readonly id: string;
  readonly link_id: string;
  readonly status: string;
  readonly expires_at: string | null;
}

interface RefreshedValues {
  id: string;
  readVersion: number;
  accessTokenEnc: string;
  /** Present exactly in the shapes that store it. */
  refreshTokenEnc?: string;
  tokenType: string;
  expiresAt: string | null;
  scopes?: string;
  at: string;
  tokenVersion: number;
}

/**
 * The refresh's token write, prepared (issue 12: every refresh runs it) in its four shapes: with
 * or without a rotated refresh token, with or without granted scopes (absent ones are kept).
 */
const storeRefreshedStatements: Record<
  string,
  PreparedStatement<RefreshedValues, ConnectionTokenRow>
> = Object.fromEntries(
  [true, false].flatMap((rotated) =>
    [true, false].map((scoped) => [
      `${rotated}:${scoped}`,
      prepare((db, v: RefreshedValues) =>
        db
          .updateTable('connections')
          .set({
            access_token_enc: v.accessTokenEnc,
            ...(rotated ? { refresh_token_enc: v.refreshTokenEnc } : {}),
            token_type: v.tokenType,
            expires_at: v.expiresAt,
            ...(scoped ? { scopes: v.scopes } : {}),
            status: 'valid',
            last_refreshed_at: v.at,
            last_error: null,
            refresh_failures: 0,
            retry_at: null,
            token_version: v.tokenVersion,
            updated_at: v.at,
          })
          .where('id', '=', v.id)
          .where('token_version', '=', v.readVersion)
          .returningAll(),
      ),
    ]),
  ),
);

export function createConnectionTokensRepository(db: Kysely<Database>): ConnectionTokensRepository {
  // The token route reads this row on every request the cache does not answer.
  const findRow = compiledOnce(
    db,
    (id: string) => db.selectFrom('connections').selectAll().where('id', '=', id),
    [''],
  );
  // Every refresh reads its link's client (issue 12: built and compiled once).
  const findRefreshClientRow = compiledOnce(
    db,
    (linkId: string) =>
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
        .where('id', '=', linkId),
    [''],
  );
  // A refresh's outcome on the connection's state, only while the row has `version` (when
  // given): false when it changed meanwhile and nothing was written.
  const updateState = async (
    id: string,
    state: Updateable<ConnectionsTable>,
    version: number | undefined,
  ) => {
    const result = await db
      .updateTable('connections')
      .set(state)
      .where('id', '=', id)
      .$if(version !== undefined, (qb) => qb.where('token_version', '=', version!))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    await bumpCacheEpoch(db, 'access_tokens');
    return true;
  };
  return {
    find: async (id) => (await findRow(id))[0],
    listOfLink: (linkId) =>
      db.selectFrom('connections').selectAll().where('link_id', '=', linkId).execute(),
    async findRefreshClient(linkId) {
      const row = (await findRefreshClientRow(linkId))[0];
      if (!row) throw new OutlinkError('link_not_found', { id: linkId });
      return row;
    },
    async storeRefreshed(id, tokens) {
      const statement =
        storeRefreshedStatements[`${Boolean(tokens.refreshTokenEnc)}:${Boolean(tokens.scopes)}`]!;
      const { rows } = await statement(db, {
        id,
        readVersion: tokens.tokenVersion - 1,
        accessTokenEnc: tokens.accessTokenEnc,
        ...(tokens.refreshTokenEnc ? { refreshTokenEnc: tokens.refreshTokenEnc } : {}),
        tokenType: tokens.tokenType,
        expiresAt: tokens.expiresAt,
        ...(tokens.scopes ? { scopes: JSON.stringify(tokens.scopes) } : {}),
        at: tokens.at,
        tokenVersion: tokens.tokenVersion,
      });
      return rows[0];
    },
    tokensChanged: () => bumpCacheEpoch(db, 'access_tokens'),
    saveTransientFailure: (id, failure, version) =>
      updateState(
        id,
        {
          status: failure.status,
          last_error: JSON.stringify(failure.lastError),
          refresh_failures: failure.refreshFailures,
          retry_at: failure.retryAt,
          updated_at: failure.lastError.at,
        },
        version,
      ),
    markReauthorizationRequired: (id, lastError, version) =>
      updateState(
        id,
        {
          status: 'reauthorization_required',
          last_error: JSON.stringify(lastError),
          retry_at: null,
          updated_at: lastError.at,
        },
        version,
      ),
    claimDue({ owner, leaseUntil, skipLocked, ...query }) {
      const now = query.now.toISOString();
      // It reads, then takes leases: on SQLite another process's commit in between refuses it.
      return whileBusy(() =>
        db.transaction().execute(async (trx) => {
          const rows = await dueQuery(trx, query)
            .selectAll()
            .where(({ not, exists, selectFrom }) =>
              not(
                exists(
                  selectFrom('leases')
                    .select('leases.name')
                    .whereRef('leases.name', '=', sql<string>`'refresh:' || connections.id`)
                    .where('leases.expires_at', '>', now),
                ),
              ),
            )
            .$if(skipLocked, (qb) => qb.forUpdate().skipLocked())
            .execute();
          // Each lease taken the one way leases are taken (leases.ts): only from a holder whose
          // time is up.
          const leases = createLeasesRepository(trx);
          const claimed: ConnectionTokenRow[] = [];
          for (const row of rows) {
            if (await leases.tryAcquire(`refresh:${row.id}`, owner, query.now, leaseUntil)) {
              claimed.push(row);
            }
          }
          return claimed;
        }),
      );
    },
    expiries: (limit) =>
      db
        .selectFrom('connections')
        .select(['id', 'link_id', 'status', 'expires_at'])
        .orderBy('id')
        .limit(limit)
        .execute(),
  };
}

/** Connections whose refresh is due: margin reached, never refreshed, or idle too long. */
function dueQuery(db: Kysely<Database>, { now, marginMs, keepAliveMs, limit }: DueQuery) {
  return db
    .selectFrom('connections')
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
    .limit(limit);
}
