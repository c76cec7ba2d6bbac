import { randomUUID } from 'node:crypto';
import { generateToken, hashToken } from '../crypto/tokens.js';
import { type Actor, actorLabel } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import type { ApiTokenView, CreateApiTokenInput } from '../schemas/api-tokens.js';
import { type ApiTokenRecord, createApiTokenRepository } from '../store/repositories/api-tokens.js';
import {
  type CacheEpochSnapshot,
  createCacheEpochSnapshotReader,
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

    async authenticate(token) {
      const tokenHash = hashToken(token);
      const epochs = await verified.read();
      const epoch = epochs.api_tokens;
      let found = verified.get(epoch, tokenHash);
      if (!found) {
        found = await apiTokens.findActiveByHash(tokenHash);
        if (!found) return undefined;
        verified.set(epoch, tokenHash, found);
      }
      const now = clock.now();
      // Record use at most once a minute: a hot token must not turn reads into writes.
      if (!found.lastUsedAt || now.getTime() - Date.parse(found.lastUsedAt) > 60_000) {
        const lastUsedAt = now.toISOString();
        await apiTokens.setLastUsed(found.id, lastUsedAt);
        verified.set(epoch, tokenHash, { ...found, lastUsedAt });
      }
      return {
        actor: {
          kind: 'api-token',
          id: found.id,
          name: found.name,
          scopes: found.scopes,
          linkIds: found.linkIds,
          connectionIds: found.connectionIds,
        },
        epochs,
      };
    },
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
function createVerifiedTokenCache(readEpochs: () => Promise<CacheEpochSnapshot>) {
  let cachedEpoch: string | undefined;
  const entries = new Map<string, ApiTokenRecord>();
  return {
    /** Every cache's counter now; this cache is emptied when its own moved. */
    async read(): Promise<CacheEpochSnapshot> {
      const epochs = await readEpochs();
      const now = epochs.api_tokens;
      if (now !== cachedEpoch) {
        entries.clear();
        cachedEpoch = now;
      }
      return epochs;
    },
    get(epoch: string | undefined, tokenHash: string): ApiTokenRecord | undefined {
      return epoch !== undefined && epoch === cachedEpoch ? entries.get(tokenHash) : undefined;
    },
    /** Keeps `record` when no revoke was seen since `epoch` was read (else a lookup raced it). */
    set(epoch: string | undefined, tokenHash: string, record: ApiTokenRecord): void {
      if (epoch === undefined || epoch !== cachedEpoch) return;
      if (entries.size >= VERIFIED_TOKENS_MAX) entries.clear();
      entries.set(tokenHash, record);
    },
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
