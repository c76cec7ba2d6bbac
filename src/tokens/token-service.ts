import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Cipher } from '../crypto/cipher.js';
import type { Actor } from '../domain/actor.js';
import { type Clock, type Sleep, systemSleep } from '../domain/clock.js';
import type { AccessTokenView } from '../domain/connection.js';
import { createEpochCache } from '../domain/epoch-cache.js';
import { OutlinkError } from '../domain/errors.js';
import type { Observations } from '../domain/observations.js';
import type { Fetch } from '../oauth/discovery.js';
import { createCacheEpochRepository } from '../store/repositories/cache-epochs.js';
import {
  type ConnectionTokenRow,
  createConnectionTokensRepository,
} from '../store/repositories/connection-tokens.js';
import type { Database } from '../store/schema.js';
import type { TokenEventSink } from './event-sink.js';
import {
  backingOff,
  freshUntilMs,
  isFresh,
  notExpired,
  secondsUntilRetry,
  type TokenTimes,
} from './freshness.js';
import type { Leases } from './leases.js';
import { createRefresher, type RetryOptions } from './refresher.js';
import { createSingleFlight, underLease } from './single-flight.js';
import { createTokenViews } from './token-views.js';

// Types the service's consumers use, defined in the domain with the connection they describe.
export type { AccessTokenView, StoredError } from '../domain/connection.js';

export interface TokenServiceOptions extends RetryOptions {
  /** How long a caller waits for another process's refresh before giving up. */
  readonly waitForPeerMs: number;
  readonly pollMs: number;
  /**
   * How long a refresh lease holds without renewal: the holder renews it every third of
   * this while it works, so a node that dies mid-refresh frees the connection this soon.
   */
  readonly leaseTtlMs: number;
  /** How often new tokens that could not be stored are written again (database away). */
  readonly writeRetryMs: number;
}

export const DEFAULT_TOKEN_OPTIONS: TokenServiceOptions = {
  attempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  requestTimeoutMs: 15_000,
  waitForPeerMs: 60_000,
  pollMs: 50,
  leaseTtlMs: 20_000,
  writeRetryMs: 500,
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
    options?: {
      rejectedToken?: string;
      /**
       * A consumer outside Outlink says the token was rejected: at most one forced refresh
       * per `FORCED_REFRESH_INTERVAL_MS` per connection, else `token_refresh_throttled`.
       */
      bounded?: boolean;
      /**
       * Issue 12: the caller's permission check, run on the row served (cached or read)
       * before anything else is done with it: throws to refuse. Saves the token route a
       * second read of the connection.
       */
      authorize?: (connection: { readonly id: string; readonly linkId: string }) => void;
      /**
       * The cache counters as read earlier in the caller's request (issue 12): used instead
       * of reading them again. A write committed before the request began is seen either way.
       */
      epochs?: { readonly access_tokens?: string };
    },
  ): Promise<AccessTokenView>;
  /**
   * The access token from this process's cache, without waiting for anything: the answer
   * `getAccessToken` gives, when it would give it from the cache under `epochs` (the cache
   * counters as read in the caller's request); undefined when it would have to read, refresh
   * or refuse. The token route's fast path (issue 12) answers from it and leaves every other
   * case to the route. `authorize` as for `getAccessToken`. The view is frozen and shared by
   * every caller until the row changes (the fast path keeps its answer's bytes with it).
   */
  cachedAccessToken(
    connectionId: string,
    options: {
      readonly epochs: { readonly access_tokens?: string };
      readonly authorize?: (connection: { readonly id: string; readonly linkId: string }) => void;
    },
  ): Readonly<AccessTokenView> | undefined;
  /**
   * Refreshes now, whatever the expiry (the admin's "Refresh now", the scheduler); the
   * connection's row as the refresh stored it.
   */
  refreshNow(connectionId: string, actor: Actor): Promise<Row>;
  /**
   * The scheduler's refresh: only when the token is inside its refresh margin, or when it was
   * last refreshed longer ago than `keepAliveMs` (providers expire unused refresh tokens).
   * `refreshed`: this process refreshed it; `fresh`: nothing to do, or another process did
   * it meanwhile; `failed`: a transient failure was recorded (the token is still usable).
   */
  refreshIfDue(
    connectionId: string,
    keepAliveMs: number,
    /** The scheduler's claim on the connection's lease for this owner (see `claimStamp`). */
    claim?: RefreshClaim,
  ): Promise<'refreshed' | 'fresh' | 'failed'>;
  /**
   * Taken just before the scheduler claims leases for this owner: a claim is used as it
   * stands only while no refresh in this process ended after its stamp (such a refresh took
   * the claimed lease over and freed it).
   */
  claimStamp(): number;
  /** True when the token counts as fresh at `now` (DESIGN §7 refresh margin). */
  isFresh(row: TokenTimes): boolean;
  /** The owner name of this service's refresh leases (the node's id). */
  readonly owner: string;
  /** How long its refresh leases hold without renewal. */
  readonly leaseTtlMs: number;
}

type Row = ConnectionTokenRow;

/** Leases the scheduler claimed for this service's owner in one go. */
export interface RefreshClaim {
  readonly until: Date;
  /** `claimStamp()` as it was before the claim. */
  readonly stamp: number;
  /** The connection as the claim read it; used instead of a new read while the claim is whole. */
  readonly row?: Row;
}

/** The least time between two refreshes a consumer forces with a rejected token. */
export const FORCED_REFRESH_INTERVAL_MS = 30_000;

/**
 * The token lifecycle's facade: reads the stored token, decides whether it will do
 * (`freshness`), and otherwise runs one refresh (`refresher`) shared in this process and,
 * through a lease, across processes (`single-flight`); consumers get it decrypted
 * (`token-views`).
 */
export function createTokenService(deps: {
  db: Kysely<Database>;
  cipher: Cipher;
  clock: Clock;
  events: TokenEventSink;
  leases: Leases;
  /** The lease owner: the node's id (a random one when not given). */
  owner?: string;
  fetch: Fetch;
  /** True when an error means the database is away (new tokens are then kept and retried). */
  isUnavailable?: (error: unknown) => boolean;
  /** Waits between token request retries; tests pass one that records and returns at once. */
  sleep?: Sleep;
  /**
   * Waits between looks at another process's refresh. Real by default even when `sleep` is
   * a test's instant one: the peer works in real time, and an instant poll would spin.
   */
  pollSleep?: Sleep;
  options?: Partial<TokenServiceOptions>;
  /** Counts refreshes for the metrics; ignored by default. */
  observe?: Observations;
}): TokenService {
  const { cipher, clock } = deps;
  const options = { ...DEFAULT_TOKEN_OPTIONS, ...deps.options };
  const rows = createConnectionTokensRepository(deps.db);
  const refresher = createRefresher({
    db: deps.db,
    cipher,
    clock,
    events: deps.events,
    fetch: deps.fetch,
    sleep: deps.sleep ?? systemSleep,
    ...(deps.isUnavailable ? { isUnavailable: deps.isUnavailable } : {}),
    options,
    ...(deps.observe ? { observe: deps.observe } : {}),
  });
  const lease = {
    leases: deps.leases,
    owner: deps.owner ?? `${process.pid}:${randomUUID()}`,
    clock,
    pollSleep: deps.pollSleep ?? systemSleep,
  };
  const { accessTokenOf, view, shared } = createTokenViews(cipher);
  const flights = createSingleFlight<Row>();
  // When each connection's last refresh in this process ended, counted in `ended.last`: a
  // claim stamped later is still whole. Forgotten wholesale past FRESH_ROWS_MAX entries,
  // claims stamped before that moment then count as used.
  const ended = { last: 0, floor: 0, by: new Map<string, number>() };
  const refreshes = (id: string, run: () => Promise<Row>) =>
    flights(id, () =>
      run().finally(() => {
        if (ended.by.size >= FRESH_ROWS_MAX) {
          ended.by.clear();
          ended.floor = ended.last + 1;
        }
        ended.by.set(id, ++ended.last);
      }),
    );
  const claimWhole = (id: string, claim: RefreshClaim | undefined) =>
    claim !== undefined &&
    claim.stamp >= ended.floor &&
    (ended.by.get(id) ?? 0) <= claim.stamp &&
    claim.until.getTime() - clock.now().getTime() > options.leaseTtlMs / 2;
  // Concurrent callers share one read of a row: 1,000 callers arriving together cost one
  // query, not a queue of 1,000 behind the database connection (SQLite has just one).
  const reads = createSingleFlight<Row>();
  // Rows read back right after this process's own successful refresh, so the scheduler can
  // tell its refreshes from those another process made while it waited for the lease.
  const refreshedHere = new WeakSet<Row>();
  const accessTokensEpoch = createCacheEpochRepository(deps.db, 'access_tokens');
  // Rows whose token was fresh when read, by connection id, with the instant it stops being
  // fresh, under the `access_tokens` counter: the repositories bump it with every write to a
  // connection's tokens or status and on every delete, in any process.
  const freshRows = createEpochCache<{ readonly row: Row; readonly freshUntil: number }>(
    FRESH_ROWS_MAX,
  );

  // Issue 12: a row read while its token was fresh serves until the refresh margin, unless a
  // write anywhere bumped the epoch (refresh, delete, key rotation). Decrypted once per row
  // (token-views).
  const fromCache = (
    epoch: string | undefined,
    id: string,
    authorize: ((connection: { id: string; linkId: string }) => void) | undefined,
  ): Readonly<AccessTokenView> | undefined => {
    const cached = freshRows.get(epoch, id);
    if (!cached || cached.freshUntil <= clock.now().getTime()) return undefined;
    authorize?.({ id: cached.row.id, linkId: cached.row.link_id });
    return shared(cached.row);
  };

  const load = async (id: string): Promise<Row> => {
    const row = await rows.find(id);
    if (!row) throw new OutlinkError('connection_not_found', { id });
    return row;
  };

  const fresh = (row: TokenTimes) => isFresh(row, clock.now());

  const assertUsable = (row: Row) => {
    if (row.status === 'reauthorization_required') {
      throw new OutlinkError('reauthorization_required', { account: row.account });
    }
  };

  /**
   * Issue 11: a `token:read` consumer cannot make Outlink refresh at will. Each forced
   * refresh changes the stored token, so one rejected value forces at most one refresh; the
   * interval bounds a consumer that sends every new token back at once.
   */
  const assertMayForce = (row: Row) => {
    if (row.last_refreshed_at === null) return;
    const waitMs =
      Date.parse(row.last_refreshed_at) + FORCED_REFRESH_INTERVAL_MS - clock.now().getTime();
    if (waitMs > 0) {
      throw new OutlinkError('token_refresh_throttled', { retryAfter: Math.ceil(waitMs / 1000) });
    }
  };

  /**
   * Refresh across processes: take the connection's lease, or wait for its holder and
   * re-read. `satisfied` says whether a row read meanwhile already has what we need.
   * `explicit`: an admin's refresh, tried even after a permanent failure. `claimed`: the row
   * as read just now under a lease the scheduler claimed for this owner, with more than half
   * its time left, so neither the lease nor the row needs asking for again (issue 12).
   */
  const refreshShared = (
    id: string,
    actor: Actor,
    satisfied: (row: Row) => boolean,
    explicit = false,
    claimed?: Row,
  ): Promise<Row> => {
    const check = (row: Row) => {
      if (!explicit) assertUsable(row);
    };
    return underLease(lease, {
      lease: `refresh:${id}`,
      ttlMs: options.leaseTtlMs,
      // Every refresh in this process goes through `refreshes` (one per connection), so a
      // lease this owner holds is a claim the scheduler made for this refresh.
      reentrant: true,
      claimed: claimed !== undefined,
      waitMs: options.waitForPeerMs,
      pollMs: options.pollMs,
      async held(held) {
        const row = claimed ?? (await load(id));
        check(row);
        if (satisfied(row)) return row;
        const outcome = await refresher.refresh(row, actor, held);
        if (outcome.refreshed) refreshedHere.add(outcome.row);
        return outcome.row;
      },
      async poll() {
        const row = await load(id);
        check(row);
        return satisfied(row) ? row : undefined;
      },
      busy: () => new OutlinkError('token_refresh_busy', { id }),
    });
  };

  return {
    owner: lease.owner,
    leaseTtlMs: options.leaseTtlMs,
    isFresh: fresh,
    cachedAccessToken(connectionId, opts) {
      return fromCache(freshRows.adopt(opts.epochs.access_tokens), connectionId, opts.authorize);
    },
    async getAccessToken(connectionId, opts = {}) {
      const epoch = freshRows.adopt(
        opts.epochs ? opts.epochs.access_tokens : await accessTokensEpoch.current(),
      );
      // A consumer that says the token was rejected is never answered from the cache.
      const cached =
        opts.rejectedToken === undefined
          ? fromCache(epoch, connectionId, opts.authorize)
          : undefined;
      if (cached) return { ...cached, scopes: [...cached.scopes] };
      // Joined only by callers that saw the same epoch: a read begun before a delete or a
      // refresh committed must not be cached under the epoch that write set.
      const row = await reads(`${epoch}:${connectionId}`, () => load(connectionId));
      opts.authorize?.({ id: row.id, linkId: row.link_id });
      assertUsable(row);
      const rejected =
        opts.rejectedToken !== undefined && accessTokenOf(row) === opts.rejectedToken;
      // While a failing provider's wait (Retry-After, backoff) runs and the stored token is
      // still usable, callers get it without asking the provider again (DESIGN §7).
      const usable = (r: Row) => {
        const now = clock.now();
        return isFresh(r, now) || (backingOff(r, now) && notExpired(r, now));
      };
      if (!rejected && usable(row)) {
        const made = view(row);
        if (fresh(row)) freshRows.set(epoch, connectionId, { row, freshUntil: freshUntilMs(row) });
        return made;
      }
      if (rejected && opts.bounded) assertMayForce(row);
      // An expired token during the wait: the provider asked for time, so callers are told
      // when to come back instead of each asking it again.
      if (!rejected && backingOff(row, clock.now())) {
        throw new OutlinkError('provider_unavailable', {
          reason:
            (JSON.parse(row.last_error ?? '{}') as { id?: string }).id ?? 'provider_unavailable',
          retryAfter: secondsUntilRetry(row, clock.now()),
        });
      }
      const seenVersion = row.token_version;
      const refreshed = await refreshes(connectionId, () =>
        refreshShared(connectionId, { kind: 'system' }, (r) =>
          rejected ? r.token_version > seenVersion : usable(r),
        ),
      );
      return view(refreshed);
    },
    claimStamp: () => ended.last,
    async refreshIfDue(connectionId, keepAliveMs, claim) {
      const recent = (r: Row) =>
        r.last_refreshed_at !== null &&
        clock.now().getTime() - Date.parse(r.last_refreshed_at) < keepAliveMs;
      // Read under a whole claim: nobody, here or elsewhere, can have refreshed it since (and a
      // re-authorization meanwhile makes the refresh's write stand aside: refresher.ts).
      const claimHolds = claimWhole(connectionId, claim);
      const before =
        claimHolds && claim?.row?.id === connectionId ? claim.row : await load(connectionId);
      if (fresh(before) && recent(before)) return 'fresh';
      const after = await refreshes(connectionId, () =>
        refreshShared(
          connectionId,
          { kind: 'system' },
          (r) => fresh(r) && recent(r),
          false,
          claimHolds ? before : undefined,
        ),
      );
      if (refreshedHere.has(after)) return 'refreshed';
      return after.refresh_failures > before.refresh_failures ? 'failed' : 'fresh';
    },
    refreshNow(connectionId, actor) {
      // Nothing is read before the lease (issue 12): under it, the row is read and refreshed
      // whatever it holds. While another process holds the lease, the version first seen is
      // noted, and that process's refresh, ending after, will do. (One ending between the
      // refused lease and the first look is followed by a refresh of our own: harmless.)
      let seen: number | undefined;
      return refreshes(connectionId, () =>
        refreshShared(
          connectionId,
          actor,
          (r) => {
            if (seen === undefined) {
              seen = r.token_version;
              return false;
            }
            return r.token_version > seen;
          },
          true,
        ),
      );
    },
  };
}

/** More connections than one process serves: past it, the cache starts over. */
const FRESH_ROWS_MAX = 100_000;
