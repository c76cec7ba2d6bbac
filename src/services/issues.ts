/**
 * Issues made from email, as the API and the UI read them (DESIGN §8, issue 10 item 8): a
 * page of them found by text or reporter, one in full with its comments and attachments,
 * and an attachment's bytes. Reading only: the mail handler is what writes them.
 */
import { OutlinkError } from '../domain/errors.js';
import { issuePageUrl } from '../domain/issue.js';
import type { EventView } from '../schemas/events.js';
import {
  type AttachmentRecord,
  type CommentRecord,
  createIssueRepository,
  type IssueRecord,
} from '../store/repositories/issues.js';
import { createMailServerRepository } from '../store/repositories/mail-servers.js';
import type { Executor } from '../store/repositories/transaction.js';

/** An issue in a list, with how many comments and attachments it has. */
export interface IssueListEntry extends IssueRecord {
  readonly commentCount: number;
  readonly attachmentCount: number;
}

/** An issue in full: its comments and attachments in order, and its mail server's name. */
export interface IssueEntry extends IssueRecord {
  readonly comments: readonly CommentRecord[];
  readonly attachments: readonly AttachmentRecord[];
  /** Undefined when the issue came from no mail server or that server was deleted. */
  readonly mailServerName: string | undefined;
}

/** An attachment with its bytes, for a download. */
export type AttachmentDownload = AttachmentRecord & { readonly content: Buffer };

export interface IssueListQuery {
  readonly q?: string;
  readonly reporter?: string;
  readonly limit: number;
  readonly cursor?: string;
}

export interface IssueService {
  /**
   * Newest first, a page at a time; `q` searches the key, summary, description and reporter
   * name, `reporter` is an address. A cursor this server did not issue is `field_invalid`.
   */
  list(query: IssueListQuery): Promise<{ items: IssueListEntry[]; nextCursor?: string }>;
  /** By key, in any case; `issue_not_found` otherwise. */
  get(key: string): Promise<IssueEntry>;
  /** An attachment of the issue `key`; `issue_not_found` or `attachment_not_found` otherwise. */
  attachment(key: string, id: string): Promise<AttachmentDownload>;
}

export function createIssueService(deps: { db: Executor }): IssueService {
  const issues = createIssueRepository(deps.db);
  const servers = createMailServerRepository(deps.db);

  const load = async (key: string): Promise<IssueRecord> => {
    const issue = await issues.findByKey(key);
    if (!issue) throw new OutlinkError('issue_not_found', { key });
    return issue;
  };

  return {
    async list(query) {
      const { rows, nextCursor } = await issues.list({
        ...(query.q ? { q: query.q } : {}),
        ...(query.reporter ? { reporter: query.reporter.trim() } : {}),
        limit: query.limit,
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
      const counts = await issues.counts(rows.map((r) => r.id));
      const items = rows.map((r) => ({
        ...r,
        commentCount: counts.get(r.id)?.comments ?? 0,
        attachmentCount: counts.get(r.id)?.attachments ?? 0,
      }));
      return nextCursor ? { items, nextCursor } : { items };
    },

    async get(key) {
      const issue = await load(key);
      const [comments, attachments, names] = await Promise.all([
        issues.comments(issue.id),
        issues.attachments(issue.id),
        servers.names(issue.mailServerId ? [issue.mailServerId] : []),
      ]);
      return {
        ...issue,
        comments,
        attachments,
        mailServerName: issue.mailServerId ? names.get(issue.mailServerId) : undefined,
      };
    },

    async attachment(key, id) {
      const issue = await load(key);
      const found = await issues.attachment(issue.id, id);
      if (!found) throw new OutlinkError('attachment_not_found', { key: issue.key, id });
      return found;
    },
  };
}

/**
 * What a webhook says of an `issue.created` or `comment.created` event, read inside the
 * event's transaction (the issue is not committed yet): the key, the summary (the sender's
 * subject: data in JSON, the receiver escapes it where it shows it), who wrote, and the
 * issue's page. Bodies and attachments stay in Outlink: a receiver reads them through the
 * API. Undefined when the issue is gone.
 */
export async function issueEventData(
  db: Executor,
  baseUrl: URL,
  event: EventView,
): Promise<Record<string, unknown> | undefined> {
  const issueId = typeof event.data.issueId === 'string' ? event.data.issueId : undefined;
  if (!issueId) return undefined;
  const issues = createIssueRepository(db);
  const issue = await issues.findById(issueId);
  if (!issue) return undefined;
  const common = {
    key: issue.key,
    issueId: issue.id,
    summary: issue.summary,
    reporter: { address: issue.reporterAddress, name: issue.reporterName },
    url: issuePageUrl(baseUrl, issue.key),
  };
  if (event.type !== 'comment.created') return common;
  const commentId = typeof event.data.commentId === 'string' ? event.data.commentId : undefined;
  const comment = (await issues.comments(issue.id)).find((c) => c.id === commentId);
  return {
    ...common,
    commentId: commentId ?? null,
    author: comment ? { address: comment.authorAddress, name: comment.authorName } : null,
  };
}
