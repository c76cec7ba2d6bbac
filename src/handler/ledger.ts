/**
 * The handler's writes: every message it handles ends as one transaction that records the
 * issue or comment (with its attachments and thread ids), the ledger row of the message, the
 * event and the acknowledgement it owes — all or nothing. The unique ledger key (mail server,
 * location) makes a second commit of the same message fail instead of duplicating it.
 */
import { randomUUID } from 'node:crypto';
import { createIssueRepository, type IssueRecord } from '../store/repositories/issues.js';
import {
  createMailMessageRepository,
  type MailOutcome,
} from '../store/repositories/mail-messages.js';
import { createMailOutboxRepository } from '../store/repositories/mail-outbox.js';
import { type Executor, inTransaction } from '../store/repositories/transaction.js';
import type { ParsedAttachment } from './parse.js';

/** The events the handler reports (DESIGN §8). */
export interface HandlerEvent {
  readonly type: 'issue.created' | 'comment.created';
  readonly mailServerId: string;
  /** Never a secret: the key, ids, the sender's address. */
  readonly data: Record<string, unknown>;
}

/**
 * Where the handler's events go, inside the transaction that made the issue or comment; the
 * composition root wires it to the event service (which queues the webhooks).
 */
export interface HandlerEventSink {
  record(db: Executor, event: HandlerEvent): Promise<void>;
}

/** The message a decision is about, as the ledger records it. */
export interface LedgerMessage {
  readonly mailServerId: string;
  readonly location: string;
  readonly messageId: string | null;
  readonly contentHash: string;
  readonly sender: string | null;
  readonly subject: string | null;
  readonly size: number;
}

/** An acknowledgement to queue with a new issue. */
export interface AcknowledgementRequest {
  readonly mailServerId: string;
  readonly recipient: string;
  readonly inReplyTo: string | null;
  readonly references: readonly string[];
  readonly language: 'en' | 'ja';
}

/** What the handler decided for a message. */
export type Decision =
  | {
      readonly kind: 'issue';
      readonly prefix: string;
      readonly summary: string;
      readonly description: string;
      readonly reporter: { readonly address: string; readonly name: string };
      readonly attachments: readonly ParsedAttachment[];
      /** Message-IDs that thread to this issue: its own. */
      readonly threadIds: readonly string[];
      readonly acknowledge: AcknowledgementRequest | null;
    }
  | {
      readonly kind: 'comment';
      readonly issue: IssueRecord;
      readonly body: string;
      readonly author: { readonly address: string; readonly name: string };
      readonly attachments: readonly ParsedAttachment[];
      readonly threadIds: readonly string[];
    }
  | { readonly kind: 'skipped' | 'failed'; readonly reason: string }
  | { readonly kind: 'duplicate'; readonly of: { readonly issueId: string | null } };

/** What a commit made. */
export interface Committed {
  readonly ledgerId: string;
  readonly outcome: MailOutcome;
  readonly issueKey?: string;
}

/** Records `decision` for `message` in one transaction (or in `db`'s, when it is one). */
export async function commitDecision(
  db: Executor,
  events: HandlerEventSink,
  message: LedgerMessage,
  decision: Decision,
  now: Date,
): Promise<Committed> {
  const at = now.toISOString();
  return inTransaction(db, async (trx) => {
    const issues = createIssueRepository(trx);
    const ledgerId = randomUUID();
    let outcome: MailOutcome;
    let issueId: string | null = null;
    let commentId: string | null = null;
    let reason: string | null = null;
    let issueKey: string | undefined;
    switch (decision.kind) {
      case 'issue': {
        const number = await issues.nextNumber(decision.prefix);
        issueKey = `${decision.prefix}-${number}`;
        issueId = randomUUID();
        await issues.insertIssue({
          id: issueId,
          key: issueKey,
          summary: decision.summary,
          description: decision.description,
          reporterAddress: decision.reporter.address,
          reporterName: decision.reporter.name,
          mailServerId: message.mailServerId,
          messageId: message.messageId,
          createdAt: at,
          updatedAt: at,
        });
        await insertAttachments(trx, issueId, null, decision.attachments, at);
        await issues.addThreadMessages(issueId, decision.threadIds);
        await events.record(trx, {
          type: 'issue.created',
          mailServerId: message.mailServerId,
          data: { key: issueKey, issueId, reporter: decision.reporter.address },
        });
        if (decision.acknowledge) {
          const ack = decision.acknowledge;
          await createMailOutboxRepository(trx).insert({
            id: randomUUID(),
            mailServerId: ack.mailServerId,
            issueId,
            recipient: ack.recipient,
            subject: `[${issueKey}] ${decision.summary}`.trim(),
            inReplyTo: ack.inReplyTo,
            references: ack.references.length
              ? ack.references.map((r) => `<${r}>`).join(' ')
              : null,
            language: ack.language,
            status: 'pending',
            attempts: 0,
            nextAttemptAt: at,
            lastError: null,
            createdAt: at,
            sentAt: null,
          });
        }
        outcome = 'issue';
        break;
      }
      case 'comment': {
        issueId = decision.issue.id;
        issueKey = decision.issue.key;
        commentId = randomUUID();
        await issues.insertComment({
          id: commentId,
          issueId,
          authorAddress: decision.author.address,
          authorName: decision.author.name,
          body: decision.body,
          messageId: message.messageId,
          createdAt: at,
        });
        await insertAttachments(trx, issueId, commentId, decision.attachments, at);
        await issues.addThreadMessages(issueId, decision.threadIds);
        await issues.touch(issueId, at);
        await events.record(trx, {
          type: 'comment.created',
          mailServerId: message.mailServerId,
          data: { key: issueKey, issueId, commentId, author: decision.author.address },
        });
        outcome = 'comment';
        break;
      }
      case 'duplicate':
        issueId = decision.of.issueId;
        outcome = 'duplicate';
        break;
      default:
        outcome = decision.kind;
        reason = decision.reason;
    }
    await createMailMessageRepository(trx).insert({
      id: ledgerId,
      ...message,
      outcome,
      reason,
      issueId,
      commentId,
      processedAt: at,
      settledAt: null,
    });
    return issueKey ? { ledgerId, outcome, issueKey } : { ledgerId, outcome };
  });
}

async function insertAttachments(
  trx: Executor,
  issueId: string,
  commentId: string | null,
  attachments: readonly ParsedAttachment[],
  at: string,
): Promise<void> {
  const issues = createIssueRepository(trx);
  for (const a of attachments) {
    await issues.insertAttachment({
      id: randomUUID(),
      issueId,
      commentId,
      filename: a.filename,
      contentType: a.contentType,
      size: a.size,
      content: a.content,
      createdAt: at,
    });
  }
}
