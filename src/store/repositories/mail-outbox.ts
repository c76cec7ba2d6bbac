import type { Selectable } from 'kysely';
import type { MailOutboxTable } from '../schema.js';
import type { Executor } from './transaction.js';

/** An acknowledgement owed to a reporter, sent through an outgoing mail server. */
export interface OutboxRecord {
  readonly id: string;
  /** The outgoing (SMTP) mail server that sends it. */
  readonly mailServerId: string;
  readonly issueId: string;
  readonly recipient: string;
  readonly subject: string;
  readonly inReplyTo: string | null;
  readonly references: string | null;
  readonly language: 'en' | 'ja';
  readonly status: 'pending' | 'sent' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly sentAt: string | null;
}

/** Statements on `mail_outbox`. */
export interface MailOutboxRepository {
  insert(record: OutboxRecord): Promise<void>;
  /** Pending messages whose time has come, oldest first. */
  due(now: string, limit: number): Promise<OutboxRecord[]>;
  /** Records an attempt's result. */
  update(
    id: string,
    change: Pick<OutboxRecord, 'status' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'sentAt'>,
  ): Promise<void>;
  forIssue(issueId: string): Promise<OutboxRecord[]>;
}

export function createMailOutboxRepository(db: Executor): MailOutboxRepository {
  return {
    async insert(r) {
      await db
        .insertInto('mail_outbox')
        .values({
          id: r.id,
          mail_server_id: r.mailServerId,
          issue_id: r.issueId,
          recipient: r.recipient,
          subject: r.subject,
          in_reply_to: r.inReplyTo,
          references_header: r.references,
          language: r.language,
          status: r.status,
          attempts: r.attempts,
          next_attempt_at: r.nextAttemptAt,
          last_error: r.lastError,
          created_at: r.createdAt,
          sent_at: r.sentAt,
        })
        .execute();
    },

    async due(now, limit) {
      const rows = await db
        .selectFrom('mail_outbox')
        .selectAll()
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .limit(limit)
        .execute();
      return rows.map(toRecord);
    },

    async update(id, c) {
      await db
        .updateTable('mail_outbox')
        .set({
          status: c.status,
          attempts: c.attempts,
          next_attempt_at: c.nextAttemptAt,
          last_error: c.lastError,
          sent_at: c.sentAt,
        })
        .where('id', '=', id)
        .execute();
    },

    async forIssue(issueId) {
      const rows = await db
        .selectFrom('mail_outbox')
        .selectAll()
        .where('issue_id', '=', issueId)
        .orderBy('created_at')
        .execute();
      return rows.map(toRecord);
    },
  };
}

function toRecord(row: Selectable<MailOutboxTable>): OutboxRecord {
  return {
    id: row.id,
    mailServerId: row.mail_server_id,
    issueId: row.issue_id,
    recipient: row.recipient,
    subject: row.subject,
    inReplyTo: row.in_reply_to,
    references: row.references_header,
    language: row.language === 'ja' ? 'ja' : 'en',
    status: row.status as OutboxRecord['status'],
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    sentAt: row.sent_at,
  };
}
