import type { Kysely } from 'kysely';

/**
 * Issue 13 (diagnose): a connection remembers the redirect URI its last authorization used
 * and when that authorization happened, so diagnose can tell a base URL changed since then
 * and a refresh token that died a fixed time after it (Google's 7-day "Testing" apps).
 * Rows from before stay null: diagnose then falls back to what it has.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connections').addColumn('redirect_uri', 'text').execute();
  await db.schema.alterTable('connections').addColumn('authorized_at', 'text').execute();
}
