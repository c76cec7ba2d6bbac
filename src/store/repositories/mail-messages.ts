import type { Insertable, Selectable } from 'kysely';
import { prepare } from '../prepared.js';
import type { MailMessagesTable } from '../schema.js';
import type { Executor } from './transaction.js';

/** What became of a message: an issue, a comment, nothing (and why), or a second copy. */
export type MailOutcome = 'issue' | 'comment' | 'skipped' | 'failed' | 'duplicate';

/** One row of the ledger: a message seen at one place of one mail server. */
export interface MailMessageRecord {
  readonly id: string;
  readonly mailServerId: string;
  /** `imap:<uidvalidity>:<uid>` or `pop3:<uidl>`. */
  readonly location: string;
  readonly messageId: string | null;
  readonly contentHash: string;
  readonly sender: string | null;
  readonly subject: string | null;
  readonly size: number;
  readonly outcome: MailOutcome;
  readonly reason: string | null;
  readonly issueId: string | null;
  readonly commentId: string | null;
  readonly processedAt: string;
  readonly settledAt: string | null;
}

/** Statements on `mail_messages`, the handler's exactly-once record. */
export interface MailMessageRepository {
  insert(record: MailMessageRecord): Promise<void>;
  /** The row of a place in the mailbox, if the message there was handled. */
  atLocation(mailServerId: string, location: string): Promise<MailMessageRecord | undefined>;
  /** Which of these places were handled, and how (one query per 500 places). */
  handledLocations(
    mailServerId: string,
    locations: readonly string[],
  ): Promise<Map<string, { readonly id: string; readonly outcome: MailOutcome }>>;
  /** The first handling of a Message-ID (a second copy is a duplicate of it). */
  firstWithMessageId(
    mailServerId: string,
    messageId: string,
  ): Promise<MailMessageRecord | undefined>;
  /** The first handling of these bytes (messages without a Message-ID). */
  firstWithHash(mailServerId: string, contentHash: string): Promise<MailMessageRecord | undefined>;
  /** The message was marked, moved or deleted on the server. */
  settle(ids: readonly string[], at: string): Promise<void>;
  /** Rows whose message was not yet marked, moved or deleted (a run died before it). */
  unsettled(
    mailServerId: string,
  ): Promise<{ readonly id: string; readonly location: string; readonly outcome: MailOutcome }[]>;
  /** How many messages from `sender` made something (or were throttled) since `since`. */
  countFromSender(mailServerId: string, sender: string, since: string): Promise<number>;
  /** The newest rows of a mail server (for the status and troubleshooting). */
  recent(mailServerId: string, limit: number): Promise<MailMessageRecord[]>;
}

// Run for every message the handler reads (issue 10), so prepared once per transaction.
const firstHandledStatement = (column: 'message_id' | 'content_hash') =>
  prepare((db, v: { mailServerId: string; value: string }) =>
    db
      .selectFrom('mail_messages')
      .selectAll()
      .where('mail_server_id', '=', v.mailServerId)
      .where(column, '=', v.value)
      .where('outcome', '!=', 'duplicate')
      .orderBy('processed_at')
      .limit(1),
  );
const firstHandledBy = {
  message_id: firstHandledStatement('message_id'),
  content_hash: firstHandledStatement('content_hash'),
};

const insertRow = prepare((db, row: Insertable<MailMessagesTable>) =>
  db.insertInto('mail_messages').values(row),
);

const countFromSender = prepare((db, v: { mailServerId: string; sender: string; since: string }) =>
  db
    .selectFrom('mail_messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('mail_server_id', '=', v.mailServerId)
    .where('sender', '=', v.sender)
    .where('processed_at', '>', v.since)
    .where('outcome', 'in', ['issue', 'comment', 'skipped'])
    .where((eb) => eb.or([eb('reason', 'is', null), eb('reason', '=', 'throttled')])),
);

export function createMailMessageRepository(db: Executor): MailMessageRepository {
  /** The first handling (not a duplicate's row) of a message known by this column's value. */
  const firstHandled = async (
    mailServerId: string,
    column: 'message_id' | 'content_hash',
    value: string,
  ): Promise<MailMessageRecord | undefined> => {
    const { rows } = await firstHandledBy[column](db, { mailServerId, value });
    return rows[0] && toRecord(rows[0]);
  };
  return {
    async insert(r) {
      await insertRow(db, {
        id: r.id,
        mail_server_id: r.mailServerId,
        location: r.location,
        message_id: r.messageId,
        content_hash: r.contentHash,
        sender: r.sender,
        subject: r.subject,
        size: r.size,
        outcome: r.outcome,
        reason: r.reason,
        issue_id: r.issueId,
        comment_id: r.commentId,
        processed_at: r.processedAt,
        settled_at: r.settledAt,
      });
    },

    async atLocation(mailServerId, location) {
      const row = await db
        .selectFrom('mail_messages')
        .selectAll()
        .where('mail_server_id', '=', mailServerId)
        .where('location', '=', location)
        .executeTakeFirst();
      return row && toRecord(row);
    },

    async handledLocations(mailServerId, locations) {
      const found = new Map<string, { id: string; outcome: MailOutcome }>();
      // Chunks keep the statement under SQLite's and PostgreSQL's parameter limits.
      for (let i = 0; i < locations.length; i += 500) {
        const rows = await db
          .selectFrom('mail_messages')
          .select(['location', 'id', 'outcome'])
          .where('mail_server_id', '=', mailServerId)
          .where('location', 'in', locations.slice(i, i + 500))
          .execute();
        for (const row of rows) {
          found.set(row.location, { id: row.id, outcome: row.outcome as MailOutcome });
        }
      }
      return found;
    },

    firstWithMessageId: (mailServerId, messageId) =>
      firstHandled(mailServerId, 'message_id', messageId),

    firstWithHash: (mailServerId, contentHash) =>
      firstHandled(mailServerId, 'content_hash', contentHash),

    async settle(ids, at) {
      if (ids.length === 0) return;
      await db
        .updateTable('mail_messages')
        .set({ settled_at: at })
        .where('id', 'in', [...ids])
        .execute();
    },

    async unsettled(mailServerId) {
      const rows = await db
        .selectFrom('mail_messages')
        .select(['id', 'location', 'outcome'])
        .where('mail_server_id', '=', mailServerId)
        .where('settled_at', 'is', null)
        .execute();
      return rows.map((r) => ({
        id: r.id,
        location: r.location,
        outcome: r.outcome as MailOutcome,
      }));
    },

    async countFromSender(mailServerId, sender, since) {
      const { rows } = await countFromSender(db, { mailServerId, sender, since });
      return Number(rows[0]?.n ?? 0);
    },

    async recent(mailServerId, limit) {
      const rows = await db
        .selectFrom('mail_messages')
        .selectAll()
        .where('mail_server_id', '=', mailServerId)
        .orderBy('processed_at', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toRecord);
    },
  };
}

function toRecord(row: Selectable<MailMessagesTable>): MailMessageRecord {
  return {
    id: row.id,
    mailServerId: row.mail_server_id,
    location: row.location,
    messageId: row.message_id,
    contentHash: row.content_hash,
    sender: row.sender,
    subject: row.subject,
    size: Number(row.size),
    outcome: row.outcome as MailOutcome,
    reason: row.reason,
    issueId: row.issue_id,
    commentId: row.comment_id,
    processedAt: row.processed_at,
    settledAt: row.settled_at,
  };
}
