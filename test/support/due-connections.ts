import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Cipher } from '../../src/crypto/cipher.js';
import type { Database } from '../../src/store/schema.js';

/**
 * Stores one valid connection of `linkId` per refresh token, each with an access token that
 * expired a minute ago (so the scheduler finds them all due), in batches of 500 rows — how
 * the refresh benchmark and the cluster tests get thousands of connections without running
 * thousands of dances. Answers the connections' ids, in the tokens' order.
 */
export async function insertDueConnections(
  db: Kysely<Database>,
  cipher: Cipher,
  seed: {
    readonly linkId: string;
    readonly issuer: string;
    readonly scope: string;
    /** Accounts are `<prefix>-<n>@example.test`. */
    readonly accountPrefix: string;
    readonly refreshTokens: readonly string[];
  },
): Promise<string[]> {
  const now = Date.now();
  const expired = new Date(now - 60_000).toISOString();
  const refreshed = new Date(now - 3_600_000).toISOString();
  const ids: string[] = [];
  for (let start = 0; start < seed.refreshTokens.length; start += 500) {
    const rows = seed.refreshTokens.slice(start, start + 500).map((token, offset) => {
      const id = randomUUID();
      ids.push(id);
      return {
        id,
        link_id: seed.linkId,
        account: `${seed.accountPrefix}-${start + offset}@example.test`,
        status: 'valid' as const,
        access_token_enc: cipher.encrypt('stale', `connections.access_token:${id}`),
        refresh_token_enc: cipher.encrypt(token, `connections.refresh_token:${id}`),
        token_type: 'bearer',
        expires_at: expired,
        scopes: JSON.stringify(seed.scope.split(' ')),
        last_refreshed_at: refreshed,
        last_error: null,
        created_at: refreshed,
        updated_at: refreshed,
        issuer: seed.issuer,
        retry_at: null,
      };
    });
    await db.insertInto('connections').values(rows).execute();
  }
  return ids;
}
