import { randomUUID } from 'node:crypto';
import { generateToken, hashToken } from '../crypto/tokens.js';
import { type Actor, actorLabel } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { createEpochCache } from '../domain/epoch-cache.js';
import { OutlinkError } from '../domain/errors.js';
import type { ApiTokenView, CreateApiTokenInput } from '../schemas/api-tokens.js';
import { type ApiTokenRecord, createApiTokenRepository } from '../store/repositories/api-tokens.js';
import {
  type CacheEpochSnapshot,
  createCacheEpochSnapshotReader,
  type EpochReader,
} from '../store/repositories/cache-epochs.js';
import { createConnectionRepository } from '../store/repositories/connections.js';
import { createLinkRepository } from '../store/repositories/links.js';
import { type Executor, inTransaction } from '../store/repositories/transaction.js';
import type { EventService } from './events.js';

export interface ApiTokenService {
  /** Returns the token once; only its hash is stored. */
  create(actor: Actor, input: CreateApiTokenInput): Promise<{ id: string; token: string }>;
  list(): Promise<ApiTokenView[]>;
  revoke(actor: Actor, id: string): Promise<void>;
  /**
   * The actor a bearer token stands for, or undefined when unknown or revoked; with the
   * cache counters read to check it (issue 12), which the rest of the same request may use
   * instead of reading them again.
   */
  authenticate(token: string): Promise<{ actor: Actor; epochs: CacheEpochSnapshot } | undefined>;
  /**
   * The same answer without waiting for anything, when this process verified the token since
   * the last commit to the database and its use needs no recording; undefined when
   * `authenticate` would have to ask the database (issue 12: the token route's fast path).
   */
  authenticateCached(token: string): { actor: Actor; epochs: CacheEpochSnapshot } | undefined;
}

export function createApiTokenService(deps: {
  db: Executor;
  clock: Clock;
  events: EventService;
}): ApiTokenService {
  const { db, clock, events } = deps;
  const apiTokens = createApiTokenRepository(db);
  const links = createLinkRepository(db);
  const connections = createConnectionRepository(db);
  const verified = createVerifiedTokenCache(createCacheEpochSnapshotReader(db));
  return {
    async create(actor, input) {
      const scopes = input.scopes ?? ['admin'];
      const linkIds = input.linkIds ?? [];
      const connectionIds = input.connectionIds ?? [];
      if (scopes.includes('admin') && (linkIds.length || connectionIds.length)) {
        const field = linkIds.length ? 'linkIds' : 'connectionIds';
        throw new OutlinkError(
          'field_invalid',
          {
            field,
            problem:
              'an admin token reaches every link; give linkIds or connectionIds only with token:read',
          },
          { details: { field } },
        );
      }
      assertExist(await links.existingIds(linkIds), linkIds, 'linkIds');
      assertExist(await connections.existingIds(connectionIds), connectionIds, 'connectionIds');
      const id = randomUUID();
      const token = generateToken('olk');
      await inTransaction(db, async (trx) => {
        await createApiTokenRepository(trx).insert({
          id,
          name: input.name.trim(),
          tokenHash: hashToken(token),
          scopes,
          linkIds,
          connectionIds,
          createdBy: actorLabel(actor),
          createdAt: clock.now().toISOString(),
          lastUsedAt: null,
          revokedAt: null,
        });
        await events.record(trx, {
          type: 'api_token.created',
          actor,
          data: { id, name: input.name.trim(), scopes, linkIds, connectionIds },
        });
      });
      return { id, token };
    },

    async list() {
      return (await apiTokens.listActive()).map(toView);
    },

    async revoke(actor, id) {
      await inTransaction(db, async (trx) => {
        const revoked = await createApiTokenRepository(trx).revoke(id, clock.now().toISOString());
        if (!revoked) throw new OutlinkError('api_token_not_found', { id });
        await events.record(trx, { type: 'api_token.revoked', actor, data: { id } });
      });
    },

    authenticateCached(token) {
      const epochs = verified.peek();
      const found = epochs && verified.get(epochs.api_tokens, hashToken(token));
      if (!found || recordDue(found, clock.now().getTime())) return undefined;
      return { actor: found.actor, epochs };
    },

    async authenticate(token) {
      const tokenHash = hashToken(token);
      const epochs = await verified.read();
      const epoch = epochs.api_tokens;
      let found = verified.get(epoch, tokenHash);
      if (!found) {
        const record = await apiTokens.findActiveByHash(tokenHash);
        if (!record) return undefined;
        found = verifiedOf(record);
        verified.set(epoch, tokenHash, found);
      }
      const now = clock.now().getTime();
      if (recordDue(found, now)) {
        const lastUsedAt = new Date(now).toISOString();
        await apiTokens.setLastUsed(found.actor.id, lastUsedAt);
        verified.set(epoch, tokenHash, { ...found, usedAt: now });
      }
      return { actor: found.actor, epochs };
    },
  };
}

/**
 * A verified token as the cache keeps it: the actor it stands for, made once and shared by
 * its requests (issue 12), and when its use was last recorded (epoch ms; never: -∞).
 */
interface Verified {
  readonly actor: Actor & { readonly kind: 'api-token' };
  readonly usedAt: number;
}

/** Use is recorded at most once a minute: a hot token must not turn reads into writes. */
function recordDue(found: Verified, now: number): boolean {
  return now - found.usedAt > 60_000;
}

function verifiedOf(record: ApiTokenRecord): Verified {
  return {
    actor: Object.freeze({
      kind: 'api-token',
      id: record.id,
      name: record.name,
      scopes: record.scopes,
      linkIds: record.linkIds,
      connectionIds: record.connectionIds,
    }),
    usedAt: record.lastUsedAt ? Date.parse(record.lastUsedAt) : Number.NEGATIVE_INFINITY,
  };
}

/** More verified tokens than any installation has: past it, the cache starts over. */
const VERIFIED_TOKENS_MAX = 10_000;

/**
 * Issue 12: the tokens verified since the `api_tokens` cache epoch last moved, by hash (the
 * bearer value itself is never kept). A revoke in any process bumps the epoch in its
 * transaction; every request reads the epoch first, so the next request after the commit, in
 * this process or another, verifies against the database again. Unknown tokens are never
 * cached: a stranger's guesses cannot fill it.
 */
function createVerifiedTokenCache(readEpochs: EpochReader<CacheEpochSnapshot>) {
  const entries = createEpochCache<Verified>(VERIFIED_TOKENS_MAX);
  /** This cache is emptied when its own counter moved. */
  const adopt = (epochs: CacheEpochSnapshot) => {
    entries.adopt(epochs.api_tokens);
    return epochs;
  };
  return {
    /** Every cache's counter now. */
    async read(): Promise<CacheEpochSnapshot> {
      return adopt(await readEpochs());
    },
    /** The counters when known without asking the database (`EpochReader.peek`). */
    peek(): CacheEpochSnapshot | undefined {
      const epochs = readEpochs.peek();
      return epochs && adopt(epochs);
    },
    get: entries.get,
    /** Keeps `entry` when no revoke was seen since `epoch` was read (else a lookup raced it). */
    set: entries.set,
  };
}

function toView(r: ApiTokenRecord): ApiTokenView {
  return {
    id: r.id,
    name: r.name,
    scopes: [...r.scopes],
    linkIds: [...r.linkIds],
    connectionIds: [...r.connectionIds],
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    lastUsedAt: r.lastUsedAt,
  };
}

/** A `field_invalid` on `field` naming the first of `ids` that does not exist. */
function assertExist(known: ReadonlySet<string>, ids: readonly string[], field: string): void {
  const missing = ids.find((id) => !known.has(id));
  if (missing) {
    throw new OutlinkError(
      'field_invalid',
      { field, problem: `${missing} does not exist` },
      { details: { field } },
    );
  }
}
