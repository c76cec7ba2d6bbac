import type { Kysely } from 'kysely';

/**
 * Issue 14, cluster mode: every `serve` and `worker` process registers a row in
 * `cluster_nodes` and renews its heartbeat there, so each node (and the admin) sees who is
 * alive and what they hold. `cluster_state` keeps a few facts every node must agree on: the
 * schema version the database is at, the oldest code that can still run on it, and the id of
 * the key new secrets are written under.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cluster_nodes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('schema_version', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('last_heartbeat_at', 'text', (c) => c.notNull())
    .addColumn('stopped_at', 'text')
    .execute();
  await db.schema
    .createIndex('cluster_nodes_heartbeat')
    .on('cluster_nodes')
    .column('last_heartbeat_at')
    .execute();
  await db.schema
    .createTable('cluster_state')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}
