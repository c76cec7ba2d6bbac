import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { Aad } from '../crypto/aad.js';
import type { Cipher } from '../crypto/cipher.js';
import type { Actor } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import type { Fetch } from '../oauth/discovery.js';
import type { FailureScope } from '../oauth/provider-errors.js';
import {
  type OAuthFailure,
  type OAuthLink,
  refreshGrant,
  type TokenSet,
} from '../oauth/token-client.js';
import type { EventService } from '../services/events.js';
import type { ConnectionsTable, Database } from '../store/schema.js';
import type { Leases } from './leases.js';

/** The last failure of a connection, as stored: catalog id and the provider's own words. */
export interface StoredError {
  readonly id: string;
  readonly scope: FailureScope;
  readonly error?: string;
  readonly description?: string;
  readonly status?: number;
  readonly at: string;
}

/** What a consumer gets (DESIGN §8 token routes). */
export interface AccessTokenView {
  readonly connectionId: string;
  readonly accessToken: string;
  readonly tokenType: string;
  readonly expiresAt: string | null;
  readonly scopes: string[];
  readonly account: string;
}

export interface TokenServiceOptions {
  /** Token requests per refresh before a transient failure is reported (≥ 1). */
  readonly attempts: number;
  readonly baseDelayMs: number;
  /** The longest in-call wait; a longer Retry-After is left to the scheduler. */
  readonly maxDelayMs: number;
  readonly requestTimeoutMs: number;
  /** How long a caller waits for another process's refresh before giving up. */
  readonly waitForPeerMs: number;
  readonly pollMs: number;
}

export const DEFAULT_TOKEN_OPTIONS: TokenServiceOptions = {
  attempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  requestTimeoutMs: 15_000,
  waitForPeerMs: 60_000,
  pollMs: 50,
};

export interface TokenService {
  /**
   * A valid access token for the connection: the stored one while it is fresh, else one
   * refresh shared by every caller in this process (single-flight) and, through a lease row,
   * by every process on the database. `rejectedToken`: a server refused this token; refresh
   * unless a newer one is already stored.
   */
  getAccessToken(
    connectionId: string,
    options?: { rejectedToken?: string },
  ): Promise<AccessTokenView>;
  /** Refreshes now, whatever the expiry (the admin's "Refresh now", the scheduler). */
  refreshNow(connectionId: string, actor: Actor): Promise<void>;
  /**
   * The scheduler's refresh: only when the token is inside its refresh margin, or when it was
   * last refreshed longer ago than `keepAliveMs` (providers expire unused refresh tokens).
   * `refreshed`: this process refreshed it; `fresh`: nothing to do, or another process did
   * it meanwhile; `failed`: a transient failure was recorded (the token is still usable).
   */
  refreshIfDue(
    connectionId: string,
    keepAliveMs: number,
  ): Promise<'refreshed' | 'fresh' | 'failed'>;
  /** True when the token counts as fresh at `now` (DESIGN §7 refresh margin). */
  isFresh(row: Pick<Selectable<ConnectionsTable>, 'expires_at' | 'last_refreshed_at'>): boolean;
}

/** Fresh while more than min(5 minutes, a tenth of its lifetime) remains (DESIGN §7). */
export function refreshMarginMs(issuedAt: Date | undefined, expiresAt: Date): number {
  const lifetime = issuedAt ? expiresAt.getTime() - issuedAt.getTime() : Number.POSITIVE_INFINITY;
  return Math.min(5 * 60_000, Math.max(0, lifetime / 10));
}

/** Exponential backoff with full jitter (AWS architecture blog), at least the provider's ask. */
export function backoffMs(
  attempt: number,
  base: number,
  max: number,
  retryAfterMs?: number,
  random = Math.random,
): number {
  const exp = Math.min(max, base * 2 ** attempt);
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

type ConnectionRow = Selectable<ConnectionsTable>;

export function createTokenService(deps: {
  db: Kysely<Database>;
  cipher: Cipher;
  clock: Clock;
  events: EventService;
  leases: Leases;
  fetch: Fetch;
  sleep?: (ms: number) => Promise<void>;
  options?: Partial<TokenServiceOptions>;
}): TokenService {
  const { db, cipher, clock, events, leases } = deps;
  const options = { ...DEFAULT_TOKEN_OPTIONS, ...deps.options };
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const owner = `${process.pid}:${randomUUID()}`;
  const inFlight = new Map<string, Promise<ConnectionRow>>();
  // Rows read back right after this process's own successful refresh, so the scheduler can
  // tell its refreshes from those another process made while it waited for the lease.
  const refreshedHere = new WeakSet<ConnectionRow>();

  const load = async (id: string): Promise<ConnectionRow> => {
    const row = await db
      .selectFrom('connections')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new OutlinkError('connection_not_found', { id });
    return row;
  };

  // Concurrent callers share one read of a row: 1,000 callers arriving together cost one
  // query, not a queue of 1,000 behind the database connection (SQLite has just one).
  const reading = new Map<string, Promise<ConnectionRow>>();
  const loadShared = (id: string): Promise<ConnectionRow> => {
    const pending = reading.get(id);
    if (pending) return pending;
    const promise = load(id).finally(() => reading.delete(id));
    reading.set(id, promise);
    return promise;
  };

  const isFresh: TokenService['isFresh'] = (row) => {
    if (!row.expires_at) return true;
    const expiresAt = new Date(row.expires_at);
    const issued = row.last_refreshed_at ? new Date(row.last_refreshed_at) : undefined;
    return expiresAt.getTime() - clock.now().getTime() > refreshMarginMs(issued, expiresAt);
  };

  const notExpired = (row: ConnectionRow) =>
    !row.expires_at || Date.parse(row.expires_at) > clock.now().getTime();

  /** A transient failure set a time before which the provider is not asked again. */
  const backingOff = (row: ConnectionRow) =>
    row.status === 'refresh_failing' &&
    row.retry_at !== null &&
    Date.parse(row.retry_at) > clock.now().getTime();

  /** Seconds until the connection's next retry (at least 1), for `Retry-After`. */
  const secondsUntilRetry = (row: ConnectionRow) =>
    Math.max(
      1,
      Math.ceil(((row.retry_at ? Date.parse(row.retry_at) : 0) - clock.now().getTime()) / 1000),
    );

  const accessTokenOf = (row: ConnectionRow): string => {
    if (!row.access_token_enc) throw new OutlinkError('not_authorized', { id: row.link_id });
    return cipher.decrypt(row.access_token_enc, Aad.accessToken(row.id));
  };

  // One decryption per row read, however many callers share that read.
  const views = new WeakMap<ConnectionRow, AccessTokenView>();
  const view = (row: ConnectionRow): AccessTokenView => {
    const known = views.get(row);
    if (known) return { ...known, scopes: [...known.scopes] };
    const made: AccessTokenView = {
      connectionId: row.id,
      accessToken: accessTokenOf(row),
      tokenType: row.token_type ?? 'bearer',
      expiresAt: row.expires_at,
      scopes: JSON.parse(row.scopes) as string[],
      account: row.account,
    };
    views.set(row, made);
    return { ...made, scopes: [...made.scopes] };
  };

  const assertUsable = (row: ConnectionRow) => {
    if (row.status === 'reauthorization_required') {
      throw new OutlinkError('reauthorization_required', { account: row.account });
    }
  };

  const linkOf = async (row: ConnectionRow): Promise<OAuthLink> => {
    const link = await db
      .selectFrom('links')
      .selectAll()
      .where('id', '=', row.link_id)
      .executeTakeFirstOrThrow();
    return {
      id: link.id,
      clientId: link.client_id,
      clientSecret: cipher.decrypt(link.client_secret_enc, Aad.linkClientSecret(link.id)),
      clientAuthMethod: link.client_auth_method,
      authorizationEndpoint: link.authorization_endpoint,
      tokenEndpoint: link.token_endpoint,
      // ID tokens on refresh are checked against the issuer seen at authorization.
      issuer: row.issuer ?? link.issuer,
    };
  };

  const persistSuccess = async (row: ConnectionRow, set: TokenSet, actor: Actor) => {
    const now = clock.now().toISOString();
    await db.transaction().execute(async (trx) => {
      // The rotated refresh token is stored with the access token it came with, or the old
      // one is kept when none came back (RFC 6749 §6: the server MAY issue a new one).
      await trx
        .updateTable('connections')
        .set({
          access_token_enc: cipher.encrypt(set.accessToken, Aad.accessToken(row.id)),
          ...(set.refreshToken
            ? {
                refresh_token_enc: cipher.encrypt(set.refreshToken, Aad.refreshToken(row.id)),
              }
            : {}),
          token_type: set.tokenType,
          expires_at: set.expiresAt?.toISOString() ?? null,
          ...(set.scopes ? { scopes: JSON.stringify(set.scopes) } : {}),
          status: 'valid',
          last_refreshed_at: now,
          last_error: null,
          refresh_failures: 0,
          retry_at: null,
          token_version: row.token_version + 1,
          updated_at: now,
        })
        .where('id', '=', row.id)
        .execute();
      const ids = { linkId: row.link_id, connectionId: row.id };
      await events.record(trx, {
        type: 'connection.refreshed',
        actor,
        ...ids,
        data: { account: row.account, rotated: Boolean(set.refreshToken) },
      });
      if (row.status !== 'valid') {
        await events.record(trx, {
          type: 'connection.recovered',
          actor,
          ...ids,
          data: { account: row.account, from: row.status },
        });
      }
    });
  };

  const storedError = (f: OAuthFailure): StoredError => ({
    id: f.entry.id,
    scope: f.entry.scope,
    ...(f.error ? { error: f.error } : {}),
    ...(f.description ? { description: f.description } : {}),
    ...(f.status ? { status: f.status } : {}),
    at: clock.now().toISOString(),
  });

  const markReauthorization = async (
    trx: Transaction<Database>,
    target: ConnectionRow,
    error: StoredError,
    actor: Actor,
  ) => {
    await trx
      .updateTable('connections')
      .set({
        status: 'reauthorization_required',
        last_error: JSON.stringify(error),
        retry_at: null,
        updated_at: error.at,
      })
      .where('id', '=', target.id)
      .execute();
    if (target.status !== 'reauthorization_required') {
      await events.record(trx, {
        type: 'connection.reauthorization_required',
        actor,
        linkId: target.link_id,
        connectionId: target.id,
        data: {
          account: target.account,
          reason: error.id,
          scope: error.scope,
          ...(error.error ? { error: error.error } : {}),
        },
      });
    }
  };

  const persistFailure = async (row: ConnectionRow, failure: OAuthFailure, actor: Actor) => {
    const error = storedError(failure);
    await db.transaction().execute(async (trx) => {
      if (failure.scope === 'transient') {
        const failures = row.refresh_failures + 1;
        const retryAt = new Date(
          clock.now().getTime() + backoffMs(failures, 30_000, 15 * 60_000, failure.retryAfterMs),
        ).toISOString();
        await trx
          .updateTable('connections')
          .set({
            status: row.status === 'reauthorization_required' ? row.status : 'refresh_failing',
            last_error: JSON.stringify(error),
            refresh_failures: failures,
            retry_at: retryAt,
            updated_at: error.at,
          })
          .where('id', '=', row.id)
          .execute();
        await events.record(trx, {
          type: 'connection.refresh_failed',
          actor,
          linkId: row.link_id,
          connectionId: row.id,
          data: {
            account: row.account,
            reason: error.id,
            transient: true,
            retryAt,
            ...(error.status ? { status: error.status } : {}),
          },
        });
        return;
      }
      // The link's registration is at fault: every connection of the link needs the same fix.
      const targets =
        failure.scope === 'link'
          ? await trx
              .selectFrom('connections')
              .selectAll()
              .where('link_id', '=', row.link_id)
              .execute()
          : [row];
      for (const target of targets) await markReauthorization(trx, target, error, actor);
    });
  };

  /** One refresh with in-call retries for transient failures; caller holds the lease. */
  const refreshHeld = async (row: ConnectionRow, actor: Actor): Promise<ConnectionRow> => {
    if (!row.refresh_token_enc) {
      const error: StoredError = {
        id: 'refresh_token_missing',
        scope: 'connection',
        at: clock.now().toISOString(),
      };
      await db.transaction().execute((trx) => markReauthorization(trx, row, error, actor));
      throw new OutlinkError('reauthorization_required', { account: row.account });
    }
    const link = await linkOf(row);
    const refreshToken = cipher.decrypt(row.refresh_token_enc, Aad.refreshToken(row.id));
    for (let attempt = 0; ; attempt++) {
      try {
        const set = await refreshGrant(
          { fetch: deps.fetch, clock, timeoutMs: options.requestTimeoutMs },
          link,
          refreshToken,
        );
        await persistSuccess(row, set, actor);
        const fresh = await load(row.id);
        refreshedHere.add(fresh);
        return fresh;
      } catch (error) {
        const failure = error as OAuthFailure;
        if (failure.name !== 'OAuthFailure') throw error;
        const delay = backoffMs(
          attempt,
          options.baseDelayMs,
          options.maxDelayMs,
          failure.retryAfterMs,
        );
        if (
          failure.scope === 'transient' &&
          attempt + 1 < options.attempts &&
          delay <= options.maxDelayMs
        ) {
          await sleep(delay);
          continue;
        }
        await persistFailure(row, failure, actor);
        const after = await load(row.id);
        if (failure.scope === 'transient') {
          // Still usable until it expires (DESIGN §7 refresh_failing).
          if (after.access_token_enc && notExpired(after)) return after;
          throw new OutlinkError('provider_unavailable', {
            reason: failure.entry.id,
            retryAfter: secondsUntilRetry(after),
          });
        }
        throw new OutlinkError('reauthorization_required', { account: row.account });
      }
    }
  };

  /**
   * Refresh across processes: take the connection's lease, or wait for its holder and
   * re-read. `satisfied` says whether a row read meanwhile already has what we need.
   */
  const refreshShared = async (
    id: string,
    actor: Actor,
    satisfied: (row: ConnectionRow) => boolean,
    explicit = false,
  ): Promise<ConnectionRow> => {
    const check = (row: ConnectionRow) => {
      if (!explicit) assertUsable(row);
    };
    const lease = `refresh:${id}`;
    const ttl = options.attempts * (options.requestTimeoutMs + options.maxDelayMs) + 5_000;
    const deadline = Date.now() + options.waitForPeerMs;
    for (;;) {
      if (await leases.tryAcquire(lease, owner, ttl)) {
        try {
          const row = await load(id);
          check(row);
          if (satisfied(row)) return row;
          return await refreshHeld(row, actor);
        } finally {
          await leases.release(lease, owner);
        }
      }
      await new Promise((r) => setTimeout(r, options.pollMs));
      const row = await load(id);
      check(row);
      if (satisfied(row)) return row;
      if (Date.now() > deadline) throw new OutlinkError('token_refresh_busy', { id });
    }
  };

  const singleFlight = (id: string, run: () => Promise<ConnectionRow>): Promise<ConnectionRow> => {
    const running = inFlight.get(id);
    if (running) return running;
    const promise = run().finally(() => inFlight.delete(id));
    inFlight.set(id, promise);
    return promise;
  };

  return {
    isFresh,
    async getAccessToken(connectionId, opts = {}) {
      const row = await loadShared(connectionId);
      assertUsable(row);
      const rejected =
        opts.rejectedToken !== undefined && accessTokenOf(row) === opts.rejectedToken;
      // While a failing provider's wait (Retry-After, backoff) runs and the stored token is
      // still usable, callers get it without asking the provider again (DESIGN §7).
      const usable = (r: ConnectionRow) => isFresh(r) || (backingOff(r) && notExpired(r));
      if (!rejected && usable(row)) return view(row);
      // An expired token during the wait: the provider asked for time, so callers are told
      // when to come back instead of each asking it again.
      if (!rejected && backingOff(row)) {
        throw new OutlinkError('provider_unavailable', {
          reason:
            (JSON.parse(row.last_error ?? '{}') as { id?: string }).id ?? 'provider_unavailable',
          retryAfter: secondsUntilRetry(row),
        });
      }
      const seenVersion = row.token_version;
      const fresh = await singleFlight(connectionId, () =>
        refreshShared(connectionId, { kind: 'system' }, (r) =>
          rejected ? r.token_version > seenVersion : usable(r),
        ),
      );
      return view(fresh);
    },
    async refreshIfDue(connectionId, keepAliveMs) {
      const recent = (r: ConnectionRow) =>
        r.last_refreshed_at !== null &&
        clock.now().getTime() - Date.parse(r.last_refreshed_at) < keepAliveMs;
      const before = await load(connectionId);
      if (isFresh(before) && recent(before)) return 'fresh';
      const after = await singleFlight(connectionId, () =>
        refreshShared(connectionId, { kind: 'system' }, (r) => isFresh(r) && recent(r)),
      );
      if (refreshedHere.has(after)) return 'refreshed';
      return after.refresh_failures > before.refresh_failures ? 'failed' : 'fresh';
    },
    async refreshNow(connectionId, actor) {
      const row = await load(connectionId);
      // An explicit refresh tries even after a permanent failure: the link may be fixed now.
      await singleFlight(connectionId, () =>
        refreshShared(connectionId, actor, (r) => r.token_version > row.token_version, true),
      );
    },
  };
}
