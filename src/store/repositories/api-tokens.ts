import type { Selectable } from 'kysely';
import type { ApiTokensTable } from '../schema.js';
import { bumpCacheEpoch } from './cache-epochs.js';
import { compiledOnce } from './compiled.js';
import type { Executor } from './transaction.js';

/** An API token; the bearer value itself is stored only as its hash. */
export interface ApiTokenRecord {
  readonly id: string;
  readonly name: string;
  readonly tokenHash: string;
  readonly scopes: readonly string[];
  /** The links a `token:read` token may read; empty for every link. */
  readonly linkIds: readonly string[];
  /** The connections a `token:read` token may read; empty for every connection. */
  readonly connectionIds: readonly string[];
  readonly createdBy: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

/** Statements on `api_tokens`. */
export interface ApiTokenRepository {
  insert(token: ApiTokenRecord): Promise<void>;
  /** Tokens not revoked, newest first. */
  listActive(): Promise<ApiTokenRecord[]>;
  /** The token of `tokenHash` unless revoked: every bearer-authenticated request asks. */
  findActiveByHash(tokenHash: string): Promise<ApiTokenRecord | undefined>;
  /** Marks the token revoked at `at`; false when it is unknown or already revoked. */
  revoke(id: string, at: string): Promise<boolean>;
  setLastUsed(id: string, at: string): Promise<void>;
}

export function createApiTokenRepository(db: Executor): ApiTokenRepository {
  // Every request with a token the verification cache does not hold yet.
  const findActive = compiledOnce(
    db,
    (tokenHash: string) =>
      db
        .selectFrom('api_tokens')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .where('revoked_at', 'is', null),
    [''],
  );
  return {
    async insert(token) {
      await db
        .insertInto('api_tokens')
        .values({
          id: token.id,
          name: token.name,
          token_hash: token.tokenHash,
          scopes: JSON.stringify(token.scopes),
          link_ids: JSON.stringify(token.linkIds),
          connection_ids: JSON.stringify(token.connectionIds),
          created_by: token.createdBy,
          created_at: token.createdAt,
          last_used_at: token.lastUsedAt,
          revoked_at: token.revokedAt,
        })
        .execute();
    },
    async listActive() {
      const rows = await db
        .selectFrom('api_tokens')
        .selectAll()
        .where('revoked_at', 'is', null)
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map(toRecord);
    },
    async findActiveByHash(tokenHash) {
      const [row] = await findActive(tokenHash);
      return row && toRecord(row);
    },
    async revoke(id, at) {
      const result = await db
        .updateTable('api_tokens')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      await bumpCacheEpoch(db, 'api_tokens');
      return Number(result.numUpdatedRows) > 0;
    },
    async setLastUsed(id, at) {
      await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
    },
  };
}

function toRecord(row: Selectable<ApiTokensTable>): ApiTokenRecord {
  return {
    id: row.id,
    name: row.name,
    tokenHash: row.token_hash,
    scopes: JSON.parse(row.scopes) as string[],
    linkIds: JSON.parse(row.link_ids) as string[],
    connectionIds: JSON.parse(row.connection_ids) as string[],
    createdBy: row.created_by,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
