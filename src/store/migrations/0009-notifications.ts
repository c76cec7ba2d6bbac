import type { Kysely } from 'kysely';

/**
 * Issue 13 (notifications): what administrators were told, kept in the database so that the
 * de-duplication holds across processes and restarts.
 *
 * - `notification_state`: one row per subject (a connection, a link's credentials, a mail
 *   handler): the state last observed, the state last notified, and the last bad-state
 *   event (secret-free) so a notice held back by the window can still be sent later.
 * - `notification_windows`: when a notice of a given state was last sent for a subject; the
 *   one-hour window is claimed here with one conditional upsert, so two processes never
 *   both send it. Secret-expiry reminders use it as "sent once" marks.
 * - `notification_outbox`: the emails owed to the administrators, sent by the notifier job
 *   with retries; the body is rendered at send time from the stored keys and data.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notification_state')
    .addColumn('subject', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('notified_state', 'text')
    .addColumn('notified_at', 'text')
    .addColumn('event', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('notification_windows')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('notification_windows_pk', ['subject', 'state'])
    .execute();
  await db.schema
    .createTable('notification_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema
    .createIndex('notification_outbox_due')
    .on('notification_outbox')
    .columns(['status', 'next_attempt_at'])
    .execute();
}
