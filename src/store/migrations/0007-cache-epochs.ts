import { type Kysely, sql } from 'kysely';

/**
 * Issue 12: caches of verified API tokens and decrypted access tokens, kept per process, are
 * invalidated across processes through one counter per cache. Every write that could make a
 * cached entry stale bumps its counter in the database; each request reads the counter by
 * primary key and drops its process's cache when the counter moved.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cache_epochs')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('epoch', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`insert into cache_epochs (name, epoch) values ('api_tokens', 0), ('access_tokens', 0)`.execute(
    db,
  );
}
