import type { Kysely } from 'kysely';

/**
 * Issue 13: a re-authorization link lets a mailbox's owner, who has no Outlink account, run
 * the dance for exactly one connection. Of its secret only the hash is stored; it works once
 * (`used_at`), until `expires_at`, and an administrator may revoke it (`revoked_at`). The
 * creator is kept as a label and kind/id, for the events of the flow it starts.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('reauthorization_invitations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('connection_id', 'text', (c) =>
      c.notNull().references('connections.id').onDelete('cascade'),
    )
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('emailed_to', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('flow_id', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema
    .createIndex('reauthorization_invitations_connection')
    .on('reauthorization_invitations')
    .column('connection_id')
    .execute();
}
