import type { Insertable, Selectable } from 'kysely';
import { sql } from 'kysely';
import { OutlinkError } from '../../domain/errors.js';
import { prepare } from '../prepared.js';
import type { AttachmentsTable, CommentsTable, IssuesTable } from '../schema.js';
import type { Executor } from './transaction.js';

/** An issue made from email (DESIGN §8). */
export interface IssueRecord {
  readonly id: string;
  readonly key: string;
  readonly summary: string;
  readonly description: string;
  readonly reporterAddress: string;
  readonly reporterName: string;
  readonly mailServerId: string | null;
  readonly messageId: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface CommentRecord {
  readonly id: string;
  readonly issueId: string;
  readonly authorAddress: string;
  readonly authorName: string;
  readonly body: string;
  readonly messageId: string | null;
  readonly createdAt: string;
}

/** An attachment's facts, without its content. */
export interface AttachmentRecord {
  readonly id: string;
  readonly issueId: string;
  readonly commentId: string | null;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  readonly createdAt: string;
}

export interface IssueQuery {
  /** Text in the key, summary or description (case-insensitive for ASCII). */
  readonly q?: string;
  /** The reporter's address, exactly (case-insensitive). */
  readonly reporter?: string;
  readonly limit: number;
  readonly cursor?: string;
}

/** What an issue has, for the list. */
export interface IssueCounts {
  readonly comments: number;
  readonly attachments: number;
}

/** Statements on `issues`, `comments`, `attachments`, `thread_messages` and `issue_counters`. */
export interface IssueRepository {
  /** The next number of a key prefix: 1, 2, 3… without gaps inside committed transactions. */
  nextNumber(prefix: string): Promise<number>;
  insertIssue(issue: IssueRecord): Promise<void>;
  insertComment(comment: CommentRecord): Promise<void>;
  insertAttachment(attachment: AttachmentRecord & { readonly content: Buffer }): Promise<void>;
  /** Sets an issue's `updated_at` (a comment arrived). */
  touch(issueId: string, at: string): Promise<void>;
  /** Records Message-IDs as belonging to an issue's thread; known ones are kept as they are. */
  addThreadMessages(issueId: string, messageIds: readonly string[]): Promise<void>;
  /** The issue whose thread knows any of these Message-IDs (the latest named wins). */
  issueOfMessages(messageIds: readonly string[]): Promise<IssueRecord | undefined>;
  findByKey(key: string): Promise<IssueRecord | undefined>;
  findById(id: string): Promise<IssueRecord | undefined>;
  /** Newest first, keyset-paged. */
  list(query: IssueQuery): Promise<{ rows: IssueRecord[]; nextCursor?: string }>;
  /** How many comments and attachments each of `issueIds` has (absent: none of either). */
  counts(issueIds: readonly string[]): Promise<Map<string, IssueCounts>>;
  comments(issueId: string): Promise<CommentRecord[]>;
  attachments(issueId: string): Promise<AttachmentRecord[]>;
  attachment(
    issueId: string,
    attachmentId: string,
  ): Promise<(AttachmentRecord & { readonly content: Buffer }) | undefined>;
}

// The statements of every message the handler turns into an issue or a comment (issue 10),
// prepared once per transaction.
const nextNumber = prepare((db, v: { prefix: string }) =>
  db
    .insertInto('issue_counters')
    .values({ prefix: v.prefix, last_number: 1 })
    .onConflict((oc) =>
      oc.column('prefix').doUpdateSet({ last_number: sql`issue_counters.last_number + 1` }),
    )
    .returning('last_number'),
);
const insertIssue = prepare((db, row: Insertable<IssuesTable>) =>
  db.insertInto('issues').values(row),
);
const insertComment = prepare((db, row: Insertable<CommentsTable>) =>
  db.insertInto('comments').values(row),
);
const insertAttachment = prepare((db, row: Insertable<AttachmentsTable>) =>
  db.insertInto('attachments').values(row),
);
const touch = prepare((db, v: { id: string; at: string }) =>
  db.updateTable('issues').set({ updated_at: v.at }).where('id', '=', v.id),
);
const addThreadMessage = prepare((db, v: { messageId: string; issueId: string }) =>
  db
    .insertInto('thread_messages')
    .values({ message_id: v.messageId, issue_id: v.issueId })
    .onConflict((oc) => oc.column('message_id').doNothing()),
);
const findByKey = prepare((db, v: { key: string }) =>
  db.selectFrom('issues').selectAll().where('key', '=', v.key),
);

export function createIssueRepository(db: Executor): IssueRepository {
  return {
    async nextNumber(prefix) {
      // One statement: the row lock (PostgreSQL) or the write lock (SQLite) keeps two
      // writers from taking the same number.
      const { rows } = await nextNumber(db, { prefix });
      if (!rows[0]) throw new Error('the issue counter returned no row');
      return Number(rows[0].last_number);
    },

    async insertIssue(issue) {
      await insertIssue(db, {
        id: issue.id,
        key: issue.key,
        summary: issue.summary,
        description: issue.description,
        reporter_address: issue.reporterAddress,
        reporter_name: issue.reporterName,
        mail_server_id: issue.mailServerId,
        message_id: issue.messageId,
        created_at: issue.createdAt,
        updated_at: issue.updatedAt,
      });
    },

    async insertComment(comment) {
      await insertComment(db, {
        id: comment.id,
        issue_id: comment.issueId,
        author_address: comment.authorAddress,
        author_name: comment.authorName,
        body: comment.body,
        message_id: comment.messageId,
        created_at: comment.createdAt,
      });
    },

    async insertAttachment(a) {
      await insertAttachment(db, {
        id: a.id,
        issue_id: a.issueId,
        comment_id: a.commentId,
        filename: a.filename,
        content_type: a.contentType,
        size: a.size,
        content: a.content,
        created_at: a.createdAt,
      });
    },

    async touch(issueId, at) {
      await touch(db, { id: issueId, at });
    },

    async addThreadMessages(issueId, messageIds) {
      for (const messageId of new Set(messageIds)) {
        await addThreadMessage(db, { messageId, issueId });
      }
    },

    async issueOfMessages(messageIds) {
      if (messageIds.length === 0) return undefined;
      const rows = await db
        .selectFrom('thread_messages')
        .innerJoin('issues', 'issues.id', 'thread_messages.issue_id')
        .selectAll('issues')
        .select('thread_messages.message_id as thread_message_id')
        .where('thread_messages.message_id', 'in', [...new Set(messageIds)])
        .execute();
      // In-Reply-To comes first in the caller's list, then References newest first.
      for (const id of messageIds) {
        const row = rows.find((r) => r.thread_message_id === id);
        if (row) return toIssue(row);
      }
      return undefined;
    },

    async findByKey(key) {
      const { rows } = await findByKey(db, { key: key.toUpperCase() });
      return rows[0] && toIssue(rows[0]);
    },

    async findById(id) {
      const row = await db.selectFrom('issues').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toIssue(row);
    },

    async list(query) {
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      let q = db
        .selectFrom('issues')
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(query.limit + 1);
      if (query.q) {
        const like = `%${query.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        q = q.where((eb) =>
          eb.or([
            eb(sql`lower(key)`, 'like', sql`${like} escape '\\'`),
            eb(sql`lower(summary)`, 'like', sql`${like} escape '\\'`),
            eb(sql`lower(description)`, 'like', sql`${like} escape '\\'`),
            eb(sql`lower(reporter_name)`, 'like', sql`${like} escape '\\'`),
          ]),
        );
      }
      if (query.reporter) q = q.where('reporter_address', '=', query.reporter.toLowerCase());
      if (after) {
        q = q.where((eb) =>
          eb.or([
            eb('created_at', '<', after.at),
            eb.and([eb('created_at', '=', after.at), eb('id', '<', after.id)]),
          ]),
        );
      }
      const rows = (await q.execute()).map(toIssue);
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return rows.length > query.limit && last
        ? { rows: page, nextCursor: encodeCursor(last.createdAt, last.id) }
        : { rows: page };
    },

    async counts(issueIds) {
      const counts = new Map<string, { comments: number; attachments: number }>();
      if (issueIds.length === 0) return counts;
      const ids = [...new Set(issueIds)];
      const entry = (id: string) => {
        let found = counts.get(id);
        if (!found) {
          found = { comments: 0, attachments: 0 };
          counts.set(id, found);
        }
        return found;
      };
      const comments = await db
        .selectFrom('comments')
        .select(['issue_id', (eb) => eb.fn.countAll().as('n')])
        .where('issue_id', 'in', ids)
        .groupBy('issue_id')
        .execute();
      for (const row of comments) entry(row.issue_id).comments = Number(row.n);
      const attachments = await db
        .selectFrom('attachments')
        .select(['issue_id', (eb) => eb.fn.countAll().as('n')])
        .where('issue_id', 'in', ids)
        .groupBy('issue_id')
        .execute();
      for (const row of attachments) entry(row.issue_id).attachments = Number(row.n);
      return counts;
    },

    async comments(issueId) {
      const rows = await db
        .selectFrom('comments')
        .selectAll()
        .where('issue_id', '=', issueId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toComment);
    },

    async attachments(issueId) {
      const rows = await db
        .selectFrom('attachments')
        .select(['id', 'issue_id', 'comment_id', 'filename', 'content_type', 'size', 'created_at'])
        .where('issue_id', '=', issueId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toAttachment);
    },

    async attachment(issueId, attachmentId) {
      const row = await db
        .selectFrom('attachments')
        .selectAll()
        .where('issue_id', '=', issueId)
        .where('id', '=', attachmentId)
        .executeTakeFirst();
      return row && { ...toAttachment(row), content: Buffer.from(row.content) };
    },
  };
}

function toIssue(row: Selectable<IssuesTable>): IssueRecord {
  return {
    id: row.id,
    key: row.key,
    summary: row.summary,
    description: row.description,
    reporterAddress: row.reporter_address,
    reporterName: row.reporter_name,
    mailServerId: row.mail_server_id,
    messageId: row.message_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toComment(row: Selectable<CommentsTable>): CommentRecord {
  return {
    id: row.id,
    issueId: row.issue_id,
    authorAddress: row.author_address,
    authorName: row.author_name,
    body: row.body,
    messageId: row.message_id,
    createdAt: row.created_at,
  };
}

function toAttachment(row: Omit<Selectable<AttachmentsTable>, 'content'>): AttachmentRecord {
  return {
    id: row.id,
    issueId: row.issue_id,
    commentId: row.comment_id,
    filename: row.filename,
    contentType: row.content_type,
    size: row.size,
    createdAt: row.created_at,
  };
}

function encodeCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string'
    ) {
      return { at: value[0], id: value[1] };
    }
  } catch {
    // falls through to the error
  }
  throw new OutlinkError(
    'field_invalid',
    { field: 'cursor', problem: 'not a cursor this server issued' },
    { details: { field: 'cursor' } },
  );
}
