import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * The mail handler (issue 10): its settings on incoming mail servers, its run state, the
 * issues, comments and attachments it makes, the ledger of every message it has seen (the
 * exactly-once record), and the acknowledgements it owes. Attachments are stored in the
 * database (`bytea` / `blob`), capped per file and per message by the handler.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const binary = dialect === 'postgres' ? 'bytea' : 'blob';
  await db.schema
    .alterTable('mail_servers')
    .addColumn('handler_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  for (const column of ['issue_key_prefix', 'default_reporter', 'error_folder'] as const) {
    await db.schema.alterTable('mail_servers').addColumn(column, 'text').execute();
  }
  await db.schema.alterTable('mail_servers').addColumn('max_message_bytes', 'integer').execute();
  // The outgoing (SMTP) mail server that acknowledges new issues; none: no acknowledgement.
  await db.schema
    .alterTable('mail_servers')
    .addColumn('ack_mail_server_id', 'text', (c) => c.references('mail_servers.id'))
    .execute();

  await db.schema
    .createTable('mail_handler_state')
    .addColumn('mail_server_id', 'text', (c) =>
      c.primaryKey().references('mail_servers.id').onDelete('cascade'),
    )
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('last_run_at', 'text')
    .addColumn('last_success_at', 'text')
    .addColumn('next_run_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('last_counts', 'text')
    .addColumn('uid_validity', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('issue_counters')
    .addColumn('prefix', 'text', (c) => c.primaryKey())
    .addColumn('last_number', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('issues')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('reporter_address', 'text', (c) => c.notNull())
    .addColumn('reporter_name', 'text', (c) => c.notNull())
    .addColumn('mail_server_id', 'text')
    .addColumn('message_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('issues_created').on('issues').column('created_at').execute();
  await db.schema.createIndex('issues_reporter').on('issues').column('reporter_address').execute();

  await db.schema
    .createTable('comments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('issue_id', 'text', (c) => c.notNull().references('issues.id').onDelete('cascade'))
    .addColumn('author_address', 'text', (c) => c.notNull())
    .addColumn('author_name', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('comments_issue').on('comments').column('issue_id').execute();

  await db.schema
    .createTable('attachments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('issue_id', 'text', (c) => c.notNull().references('issues.id').onDelete('cascade'))
    .addColumn('comment_id', 'text')
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('content', binary, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('attachments_issue').on('attachments').column('issue_id').execute();

  // Every Message-ID an issue's thread is known by (its own message and its comments'), so
  // a reply's In-Reply-To or References finds the issue.
  await db.schema
    .createTable('thread_messages')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('issue_id', 'text', (c) => c.notNull().references('issues.id').onDelete('cascade'))
    .execute();

  // The ledger: one row per message seen at one place of one mail server. `location` is
  // `imap:<uidvalidity>:<uid>` or `pop3:<uidl>`; the row is written in the same transaction
  // as the issue or comment, and `settled_at` once the message was marked, moved or deleted.
  await db.schema
    .createTable('mail_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('mail_server_id', 'text', (c) =>
      c.notNull().references('mail_servers.id').onDelete('cascade'),
    )
    .addColumn('location', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('sender', 'text')
    .addColumn('subject', 'text')
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('issue_id', 'text')
    .addColumn('comment_id', 'text')
    .addColumn('processed_at', 'text', (c) => c.notNull())
    .addColumn('settled_at', 'text')
    .execute();
  await db.schema
    .createIndex('mail_messages_location')
    .on('mail_messages')
    .columns(['mail_server_id', 'location'])
    .unique()
    .execute();
  await db.schema
    .createIndex('mail_messages_message_id')
    .on('mail_messages')
    .columns(['mail_server_id', 'message_id'])
    .execute();
  await db.schema
    .createIndex('mail_messages_hash')
    .on('mail_messages')
    .columns(['mail_server_id', 'content_hash'])
    .execute();
  await db.schema
    .createIndex('mail_messages_sender')
    .on('mail_messages')
    .columns(['mail_server_id', 'sender', 'processed_at'])
    .execute();

  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('mail_server_id', 'text', (c) =>
      c.notNull().references('mail_servers.id').onDelete('cascade'),
    )
    .addColumn('issue_id', 'text', (c) => c.notNull().references('issues.id').onDelete('cascade'))
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('in_reply_to', 'text')
    .addColumn('references_header', 'text')
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema
    .createIndex('mail_outbox_due')
    .on('mail_outbox')
    .columns(['status', 'next_attempt_at'])
    .execute();
}
