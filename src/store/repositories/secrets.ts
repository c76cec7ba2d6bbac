import { Aad } from '../../crypto/aad.js';
import { bumpCacheEpoch } from './cache-epochs.js';
import type { Executor } from './transaction.js';

/**
 * Every encrypted column, with the associated data that binds its values to their rows.
 * A new secret column is added here, and key rotation and the start-up check cover it.
 */
export const SECRET_COLUMNS = [
  { table: 'links', column: 'client_secret_enc', aad: Aad.linkClientSecret },
  { table: 'connections', column: 'access_token_enc', aad: Aad.accessToken },
  { table: 'connections', column: 'refresh_token_enc', aad: Aad.refreshToken },
  { table: 'authorization_flows', column: 'code_verifier_enc', aad: Aad.codeVerifier },
  { table: 'webhooks', column: 'secret_enc', aad: Aad.webhookSecret },
  { table: 'mail_servers', column: 'password_enc', aad: Aad.mailServerPassword },
] as const;

export type SecretColumn = (typeof SECRET_COLUMNS)[number];

/** One stored ciphertext: the row it belongs to and its value. */
export interface StoredSecret {
  readonly id: string;
  readonly value: string;
}

/** Statements over the secret columns of every table, for key rotation and the start-up check. */
export interface SecretRepository {
  /** True when any secret column of any row holds a value. */
  anyStored(): Promise<boolean>;
  /** Every value of one column (rows where it is null are left out). */
  list(column: SecretColumn): Promise<StoredSecret[]>;
  /**
   * Swaps `expected` for `replacement` in one row, only if unchanged since it was read; false
   * when a writer changed it meanwhile.
   */
  replace(
    column: SecretColumn,
    id: string,
    expected: string,
    replacement: string,
  ): Promise<boolean>;
}

export function createSecretRepository(db: Executor): SecretRepository {
  return {
    async anyStored() {
      for (const col of SECRET_COLUMNS) {
        const row = await db
          .selectFrom(col.table)
          .select('id')
          .where(col.column, 'is not', null)
          .limit(1)
          .executeTakeFirst();
        if (row) return true;
      }
      return false;
    },
    async list(col) {
      const rows = (await db
        .selectFrom(col.table)
        .select(['id', `${col.column} as value`])
        .where(col.column, 'is not', null)
        .execute()) as { id: string; value: string | null }[];
      return rows.filter((r): r is StoredSecret => typeof r.value === 'string');
    },
    async replace(col, id, expected, replacement) {
      const result = await db
        .updateTable(col.table)
        .set({ [col.column]: replacement })
        .where('id', '=', id)
        .where(col.column, '=', expected)
        .executeTakeFirst();
      // Key rotation: a cached plaintext is the same, but nothing read before it may linger.
      if (col.table === 'connections') await bumpCacheEpoch(db, 'access_tokens');
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
