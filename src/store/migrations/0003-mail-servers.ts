import type { Kysely } from 'kysely';

/**
 * Mail servers (DESIGN §8): incoming (IMAP, POP3) and outgoing (SMTP) servers that
 * authenticate with a connection of a link (`connection_id`) or a password (`password_enc`,
 * encrypted like every secret). A connection in use cannot be deleted: the foreign key has no
 * cascade, and the services refuse first with the list of mail servers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mail_servers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull().unique())
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('security', 'text', (c) => c.notNull())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('auth_method', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'text', (c) => c.references('connections.id'))
    .addColumn('password_enc', 'text')
    .addColumn('sasl_mechanism', 'text')
    .addColumn('folder', 'text')
    .addColumn('poll_interval_seconds', 'integer')
    .addColumn('processed_action', 'text')
    .addColumn('processed_folder', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('mail_servers_connection')
    .on('mail_servers')
    .column('connection_id')
    .execute();
}
