import type { Kysely } from 'kysely';
import { Aad } from '../crypto/aad.js';
import type { Cipher } from '../crypto/cipher.js';
import type { Actor } from '../domain/actor.js';
import type { Clock, Sleep } from '../domain/clock.js';
import type { StoredError } from '../domain/connection.js';
import { OutlinkError } from '../domain/errors.js';
import { ignoredObservations, type Observations } from '../domain/observations.js';
import type { Fetch } from '../oauth/discovery.js';
import {
  type OAuthFailure,
  type OAuthLink,
  refreshGrant,
  type TokenSet,
} from '../oauth/token-client.js';
import { createGroupCommit } from '../store/group-commit.js';
import {
  type ConnectionTokenRow,
  createConnectionTokensRepository,
  type RefreshedTokens,
} from '../store/repositories/connection-tokens.js';
import { createLeasesRepository } from '../store/repositories/leases.js';
import type { Database } from '../store/schema.js';
import type { TokenEventSink } from './event-sink.js';
import { backoffMs, nextRetryAt, notExpired, secondsUntilRetry } from './freshness.js';
import type { HeldLease } from './single-flight.js';

/** How one refresh retries a failing provider within the call. */
export interface RetryOptions {
  /** Token requests per refresh before a transient failure is reported (≥ 1). */
  readonly attempts: number;
  readonly baseDelayMs: number;
  /** The longest in-call wait; a longer Retry-After is left to the scheduler. */
  readonly maxDelayMs: number;
  readonly requestTimeoutMs: number;
}

export interface RefreshOutcome {
  /** The row as stored after the refresh (or after its failure was recorded). */
  readonly row: ConnectionTokenRow;
  /** True when new tokens were stored; false when a transient failure left the old ones. */
  readonly refreshed: boolean;
}

export interface Refresher {
  /**
   * One refresh of `row` (RFC 6749 §6), the caller holding the connection's lease: transient
   * failures retried with backoff in the call, then recorded as `refresh_failing`; permanent
   * ones mark re-authorization at once. Throws `reauthorization_required`, or
   * `provider_unavailable` when a transient failure leaves no usable token. `lease`: the
   * connection's refresh lease, freed in the transaction that stores the new tokens (one
   * commit per refresh, issue 12), or kept until tokens the database could not take are
   * written (issue 14).
   */
  refresh(row: ConnectionTokenRow, actor: Actor, lease?: HeldLease): Promise<RefreshOutcome>;
}

export function createRefresher(deps: {
  db: Kysely<Database>;
  cipher: Cipher;
  clock: Clock;
  events: TokenEventSink;
  fetch: Fetch;
  /** Waits between in-call retries. */
  sleep: Sleep;
  options: RetryOptions & { readonly writeRetryMs?: number };
  /** Counts each token request and its failures (metrics); ignored by default. */
  observe?: Observations;
  /** True when an error means the database is away rather than the write being refused. */
  isUnavailable?: (error: unknown) => boolean;
}): Refresher {
  const { db, cipher, clock, events, options } = deps;
  const observe = deps.observe ?? ignoredObservations;
  const rows = createConnectionTokensRepository(db);
  // Issue 14: new tokens the provider issued but the database could not take. A rotated
  // refresh token exists nowhere else (the old one is spent), so it is kept here and written
  // again until the database takes it; meanwhile no new refresh of that connection starts
  // from the stale stored token.
  const unsaved = new Map<string, Promise<ConnectionTokenRow>>();
  // The rows those late writes stored. A caller may have read the connection while the write
  // was still pending and call `refresh` just after it landed: its row carries the spent
  // refresh token, and the stored row is what a refresh would give it.
  const savedLate = new Map<string, ConnectionTokenRow>();

  const retryMs = options.writeRetryMs ?? 500;
  const keepWriting = (write: RefreshWrite) => {
    const id = write.row.id;
    const attempt = async (): Promise<ConnectionTokenRow> => {
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, retryMs));
        try {
          return (await persist(write)) ?? (await reload(id));
        } catch (error) {
          if (!deps.isUnavailable?.(error)) throw error;
        }
      }
    };
    const pending = attempt()
      .then((stored) => {
        savedLate.set(id, stored);
        return stored;
      })
      .finally(() => unsaved.delete(id));
    // Nobody may be waiting for it: the outcome is seen through the stored row.
    pending.catch(() => undefined);
    unsaved.set(id, pending);
  };

  const reload = async (id: string) => {
    const row = await rows.find(id);
    if (!row) throw new OutlinkError('connection_not_found', { id });
    return row;
  };

  // Issue 12: each link's client secret decrypted once per ciphertext, not once per refresh
  // (a new secret, or the same one re-encrypted by a key rotation, is a new entry). Keyed by
  // the link too: the ciphertext is bound to it (AAD), and a copy under another link must
  // fail to decrypt as before.
  const clientSecrets = new Map<string, string>();
  const clientSecretOf = (linkId: string, encrypted: string) => {
    const key = `${linkId}:${encrypted}`;
    let secret = clientSecrets.get(key);
    if (secret === undefined) {
      if (clientSecrets.size >= CLIENT_SECRETS_MAX) clientSecrets.clear();
      secret = cipher.decrypt(encrypted, Aad.linkClientSecret(linkId));
      clientSecrets.set(key, secret);
    }
    return secret;
  };

  const linkOf = async (row: ConnectionTokenRow): Promise<OAuthLink> => {
    const link = await rows.findRefreshClient(row.link_id);
    return {
      id: link.id,
      clientId: link.client_id,
      clientSecret: clientSecretOf(link.id, link.client_secret_enc),
      clientAuthMethod: link.client_auth_method,
      authorizationEndpoint: link.authorization_endpoint,
      tokenEndpoint: link.token_endpoint,
      // ID tokens on refresh are checked against the issuer seen at authorization.
      issuer: row.issuer ?? link.issuer,
    };
  };

  const storedError = (f: OAuthFailure): StoredError => ({
    id: f.entry.id,
    scope: f.entry.scope,
    ...(f.error ? { error: f.error } : {}),
    ...(f.description ? { description: f.description } : {}),
    ...(f.status ? { status: f.status } : {}),
    at: clock.now().toISOString(),
  });

  /** What a successful grant leaves to store: its tokens encrypted, and who asked. */
  interface RefreshWrite {
    readonly row: ConnectionTokenRow;
    readonly tokens: RefreshedTokens;
    readonly actor: Actor;
    readonly lease: HeldLease | undefined;
  }

  const refreshWrite = (
    row: ConnectionTokenRow,
    set: TokenSet,
    actor: Actor,
    lease: HeldLease | undefined,
  ): RefreshWrite => ({
    row,
    actor,
    lease,
    // The rotated refresh token is stored with the access token it came with, or the old one
    // is kept when none came back (RFC 6749 §6: the server MAY issue a new one).
    tokens: {
      accessTokenEnc: cipher.encrypt(set.accessToken, Aad.accessToken(row.id)),
      ...(set.refreshToken
        ? { refreshTokenEnc: cipher.encrypt(set.refreshToken, Aad.refreshToken(row.id)) }
        : {}),
      tokenType: set.tokenType,
      expiresAt: set.expiresAt?.toISOString() ?? null,
      ...(set.scopes ? { scopes: set.scopes } : {}),
      at: clock.now().toISOString(),
      tokenVersion: row.token_version + 1,
    },
  });

  const recordRefreshed = async (trx: Kysely<Database>, write: RefreshWrite) => {
    const { row, actor } = write;
    const ids = { linkId: row.link_id, connectionId: row.id };
    await events.record(trx, {
      type: 'connection.refreshed',
      actor,
      ...ids,
      data: { account: row.account, rotated: Boolean(write.tokens.refreshTokenEnc) },
    });
    if (row.status !== 'valid') {
      await events.record(trx, {
        type: 'connection.recovered',
        actor,
        ...ids,
        data: { account: row.account, from: row.status },
      });
    }
  };

  // Issue 12: the refreshes that end together store their tokens in one transaction (group
  // commit; a write the database refuses is tried again alone, so it never costs another
  // refresh its rotated refresh token). In each: the tokens, then the events of those stored,
  // then the leases — freed in the transaction that stores what they guarded, so no other
  // process can take one before — and the cache epoch last: one row that every refresh in
  // the cluster updates, so its lock is held from there to the commit only (issue 14: taken
  // earlier, it serialized the nodes' refreshes behind each other's inserts).
  const persist = createGroupCommit<RefreshWrite, ConnectionTokenRow | undefined>({
    db,
    ...(deps.isUnavailable ? { isUnavailable: deps.isUnavailable } : {}),
    async write(trx, batch) {
      const tokens = createConnectionTokensRepository(trx);
      const saved: (ConnectionTokenRow | undefined)[] = [];
      for (const write of batch)
        saved.push(await tokens.storeRefreshed(write.row.id, write.tokens));
      for (const [i, write] of batch.entries()) if (saved[i]) await recordRefreshed(trx, write);
      const leases = createLeasesRepository(trx);
      for (const { lease } of batch) if (lease) await leases.release(lease.name, lease.owner);
      if (saved.some(Boolean)) await tokens.tokensChanged();
      return saved;
    },
  });

  /**
   * The row changed while its refresh ran: deleted, re-authorized (new tokens from a new
   * grant) or discarded. Its tokens stand; the refresh's are dropped.
   */
  const superseded = async (row: ConnectionTokenRow): Promise<RefreshOutcome> => {
    const after = await reload(row.id);
    if (after.status === 'reauthorization_required') {
      throw new OutlinkError('reauthorization_required', { account: after.account });
    }
    return { row: after, refreshed: false };
  };

  /** False when the row no longer has `version` (when given): nothing was marked. */
  const markReauthorization = async (
    trx: Kysely<Database>,
    target: ConnectionTokenRow,
    error: StoredError,
    actor: Actor,
    version?: number,
  ) => {
    const tokens = createConnectionTokensRepository(trx);
    if (!(await tokens.markReauthorizationRequired(target.id, error, version))) return false;
    if (target.status === 'reauthorization_required') return true;
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
    return true;
  };

  /**
   * Records the failure of the refresh that read `row`: false when the connection changed
   * meanwhile (a re-authorization replaced the grant that failed, say), which is then left as
   * it is. A failure of the link's registration marks every connection of the link.
   */
  const persistFailure = (row: ConnectionTokenRow, failure: OAuthFailure, actor: Actor) => {
    const error = storedError(failure);
    return db.transaction().execute(async (trx) => {
      const tokens = createConnectionTokensRepository(trx);
      if (failure.scope === 'transient') {
        const failures = row.refresh_failures + 1;
        const retryAt = nextRetryAt(failures, clock.now(), failure.retryAfterMs).toISOString();
        const saved = await tokens.saveTransientFailure(
          row.id,
          {
            status: row.status === 'reauthorization_required' ? row.status : 'refresh_failing',
            lastError: error,
            refreshFailures: failures,
            retryAt,
          },
          row.token_version,
        );
        if (!saved) return false;
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
        return true;
      }
      if (failure.scope !== 'link') {
        return markReauthorization(trx, row, error, actor, row.token_version);
      }
      // The link's registration is at fault: every connection of the link needs the same fix
      // (a re-authorization cannot have replaced the grant: it authenticates as the client too).
      for (const target of await tokens.listOfLink(row.link_id)) {
        await markReauthorization(trx, target, error, actor);
      }
      return true;
    });
  };

  /** After the last attempt: record the failure, then hand out what is still usable. */
  const failed = async (
    row: ConnectionTokenRow,
    failure: OAuthFailure,
    actor: Actor,
  ): Promise<RefreshOutcome> => {
    if (!(await persistFailure(row, failure, actor))) return superseded(row);
    if (failure.scope !== 'transient') {
      throw new OutlinkError('reauthorization_required', { account: row.account });
    }
    const after = await reload(row.id);
    const now = clock.now();
    // Still usable until it expires (DESIGN §7 refresh_failing).
    if (after.access_token_enc && notExpired(after, now)) return { row: after, refreshed: false };
    throw new OutlinkError('provider_unavailable', {
      reason: failure.entry.id,
      retryAfter: secondsUntilRetry(after, now),
    });
  };

  return {
    async refresh(row, actor, lease) {
      const pending = unsaved.get(row.id);
      if (pending) {
        // The kept tokens are what a refresh would give: the answer once they are written,
        // which takes one more try (`retryMs`) when the database is back. The lease is theirs:
        // their write frees it.
        lease?.freed();
        const stored = await Promise.race([
          pending.catch(() => undefined),
          new Promise<undefined>((resolve) =>
            setTimeout(() => resolve(undefined), 2 * retryMs).unref(),
          ),
        ]);
        if (!stored) throw new OutlinkError('database_unavailable', { retryAfter: 5 });
        return { row: stored, refreshed: false };
      }
      const late = savedLate.get(row.id);
      if (late && late.token_version > row.token_version) return { row: late, refreshed: false };
      savedLate.delete(row.id);
      if (!row.refresh_token_enc) {
        const error: StoredError = {
          id: 'refresh_token_missing',
          scope: 'connection',
          at: clock.now().toISOString(),
        };
        observe.refreshAttempt(row.link_id, error.id);
        await db.transaction().execute((trx) => markReauthorization(trx, row, error, actor));
        throw new OutlinkError('reauthorization_required', { account: row.account });
      }
      const link = await linkOf(row);
      const refreshToken = cipher.decrypt(row.refresh_token_enc, Aad.refreshToken(row.id));
      const client = { fetch: deps.fetch, clock, timeoutMs: options.requestTimeoutMs };
      for (let attempt = 0; ; attempt++) {
        try {
          const set = await refreshGrant(client, link, refreshToken);
          observe.refreshAttempt(row.link_id);
          const write = refreshWrite(row, set, actor, lease);
          try {
            // The row as the update stored it: no read back.
            const saved = await persist(write);
            lease?.freed();
            return saved ? { row: saved, refreshed: true } : await superseded(row);
          } catch (error) {
            if (!deps.isUnavailable?.(error)) throw error;
            // The lease goes with the kept tokens' write: freed now, another process could
            // refresh from the spent refresh token still stored.
            lease?.freed();
            keepWriting(write);
            throw new OutlinkError('database_unavailable', { retryAfter: 5 }, { cause: error });
          }
        } catch (error) {
          const failure = error as OAuthFailure;
          if (failure.name !== 'OAuthFailure') throw error;
          observe.refreshAttempt(row.link_id, failure.entry.id);
          const delay = backoffMs(
            attempt,
            options.baseDelayMs,
            options.maxDelayMs,
            failure.retryAfterMs,
          );
          const retry =
            failure.scope === 'transient' &&
            attempt + 1 < options.attempts &&
            delay <= options.maxDelayMs;
          if (!retry) return failed(row, failure, actor);
          await deps.sleep(delay);
        }
      }
    },
  };
}

/** More links than one process refreshes for: past it, the decrypted secrets start over. */
const CLIENT_SECRETS_MAX = 1_000;
