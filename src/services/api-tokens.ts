import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { generateToken, hashToken } from '../crypto/tokens.js';
import { type Actor, actorLabel } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import type { ApiTokenView, CreateApiTokenInput } from '../schemas/api-tokens.js';
import type { Database } from '../store/schema.js';
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
  db: Kysely<Database>;
  clock: Clock;
  events: EventService;
}): ApiTokenService {
  const { db, clock, events } = deps;
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
      await assertExist(db, 'links', linkIds, 'linkIds');
      await assertExist(db, 'connections', connectionIds, 'connectionIds');
      const id = randomUUID();
      const token = generateToken('olk');
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('api_tokens')
          .values({
            id,
            name: input.name.trim(),
            token_hash: hashToken(token),
            scopes: JSON.stringify(scopes),
            link_ids: JSON.stringify(linkIds),
            connection_ids: JSON.stringify(connectionIds),
            created_by: actorLabel(actor),
            created_at: clock.now().toISOString(),
            last_used_at: null,
            revoked_at: null,
          })
          .execute();
        await events.record(trx, {
          type: 'api_token.created',
          actor,
          data: { id, name: input.name.trim(), scopes, linkIds, connectionIds },
        });
      });
      return { id, token };
    },

    async list() {
      const rows = await db
        .selectFrom('api_tokens')
        .selectAll()
        .where('revoked_at', 'is', null)
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        scopes: JSON.parse(r.scopes) as string[],
        linkIds: JSON.parse(r.link_ids) as string[],
        connectionIds: JSON.parse(r.connection_ids) as string[],
        createdBy: r.created_by,
        createdAt: r.created_at,
        lastUsedAt: r.last_used_at,
      }));
    },

    async revoke(actor, id) {
      await db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('api_tokens')
          .set({ revoked_at: clock.now().toISOString() })
          .where('id', '=', id)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0)
          throw new OutlinkError('api_token_not_found', { id });
        await events.record(trx, { type: 'api_token.revoked', actor, data: { id } });
      });
    },

    async authenticate(token) {
      const row = await db
        .selectFrom('api_tokens')
        .selectAll()
        .where('token_hash', '=', hashToken(token))
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (!row) return undefined;
      const now = clock.now();
      // Record use at most once a minute: a hot token must not turn reads into writes.
      if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > 60_000) {
        await db
          .updateTable('api_tokens')
          .set({ last_used_at: now.toISOString() })
          .where('id', '=', row.id)
          .execute();
      }
      return {
        kind: 'api-token',
        id: row.id,
        name: row.name,
        scopes: JSON.parse(row.scopes) as string[],
        linkIds: JSON.parse(row.link_ids) as string[],
        connectionIds: JSON.parse(row.connection_ids) as string[],
      };
    },
  };
}

async function assertExist(
  db: Kysely<Database>,
  table: 'links' | 'connections',
  ids: readonly string[],
  field: string,
): Promise<void> {
  if (ids.length === 0) return;
  const found = await db.selectFrom(table).select('id').where('id', 'in', ids).execute();
  const known = new Set(found.map((r) => r.id));
  const missing = ids.find((id) => !known.has(id));
  if (missing) {
    throw new OutlinkError(
      'field_invalid',
      { field, problem: `${missing} does not exist` },
      { details: { field } },
    );
  }
}
