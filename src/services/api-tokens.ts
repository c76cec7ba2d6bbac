import { randomUUID } from 'node:crypto';
import { generateToken, hashToken } from '../crypto/tokens.js';
import { type Actor, actorLabel } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import type { ApiTokenView, CreateApiTokenInput } from '../schemas/api-tokens.js';
import { type ApiTokenRecord, createApiTokenRepository } from '../store/repositories/api-tokens.js';
import { createConnectionRepository } from '../store/repositories/connections.js';
import { createLinkRepository } from '../store/repositories/links.js';
import { type Executor, inTransaction } from '../store/repositories/transaction.js';
import type { EventService } from './events.js';

export interface ApiTokenService {
  /** Returns the token once; only its hash is stored. */
  create(actor: Actor, input: CreateApiTokenInput): Promise<{ id: string; token: string }>;
  list(): Promise<ApiTokenView[]>;
  revoke(actor: Actor, id: string): Promise<void>;
  /** The actor a bearer token stands for, or undefined when unknown or revoked. */
  authenticate(token: string): Promise<Actor | undefined>;
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
      const found = await apiTokens.findActiveByHash(hashToken(token));
      if (!found) return undefined;
      const now = clock.now();
      // Record use at most once a minute: a hot token must not turn reads into writes.
      if (!found.lastUsedAt || now.getTime() - Date.parse(found.lastUsedAt) > 60_000) {
        await apiTokens.setLastUsed(found.id, now.toISOString());
      }
      return {
        kind: 'api-token',
        id: found.id,
        name: found.name,
        scopes: found.scopes,
        linkIds: found.linkIds,
        connectionIds: found.connectionIds,
      };
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
