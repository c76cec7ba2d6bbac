/**
 * One run of the handler over one mailbox: list what waits, skip what the ledger knows
 * (settling it again if a crash came between commit and mark), fetch the rest in batches,
 * decide and commit each message on its own, then settle the batch on the server. Nothing is
 * marked, moved or deleted before its issue or comment is committed; a message that fails
 * (unparseable, too large) is recorded and kept; a write the database refuses leaves the
 * message untouched on the server for the next run. One message never stops the batch.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.js';
import { createIssueRepository, type IssueRecord } from '../store/repositories/issues.js';
import type {
  HandlerCounts,
  HandlerSettingsRecord,
} from '../store/repositories/mail-handler-state.js';
import { createMailMessageRepository } from '../store/repositories/mail-messages.js';
import type { Database } from '../store/schema.js';
import { stripQuotedReply } from './body.js';
import { mayAcknowledge, screen, type ThrottleRule } from './filters.js';
import {
  type AcknowledgementRequest,
  commitDecision,
  type Decision,
  type HandlerEventSink,
  type LedgerMessage,
} from './ledger.js';
import { type ParsedMessage, type ParseLimits, parseMessage, UnparseableMessage } from './parse.js';
import type { MailboxEntry, MailboxSource } from './source.js';
import { findIssueKey, summaryOf } from './subject.js';

/** How far a run is, for a progress bar. */
export interface RunProgress {
  readonly done: number;
  readonly total: number;
  readonly counts: HandlerCounts;
}

export interface RunOptions {
  readonly db: Kysely<Database>;
  readonly events: HandlerEventSink;
  readonly clock: Clock;
  readonly settings: HandlerSettingsRecord;
  /** The addresses that are the handler itself (its mailbox, its acknowledging sender). */
  readonly ownAddresses: readonly string[];
  /** Every issue key prefix in use (a subject may name an issue of any mailbox). */
  readonly prefixes: readonly string[];
  readonly throttle: ThrottleRule;
  /** The outgoing server's id and sender when new issues are acknowledged. */
  readonly acknowledgeWith: string | null;
  /** Messages per fetch (default 50); a batch also stops at `batchBytes` (default 16 MiB). */
  readonly batchSize?: number;
  readonly batchBytes?: number;
  onProgress?(progress: RunProgress): void;
  /** Called between batches (the lease's heartbeat); throwing stops the run. */
  between?(): Promise<void>;
}

/** What a run did, and the first database failure if any (the run is then `failed`). */
export interface RunResult {
  readonly counts: HandlerCounts;
  readonly storeError: unknown;
}

/** A file's cap: 10 MiB, or the message's own limit when that is smaller. */
export function attachmentLimits(maxMessageBytes: number): ParseLimits {
  return {
    maxAttachmentBytes: Math.min(10 * 1024 * 1024, maxMessageBytes),
    maxAttachmentBytesPerMessage: maxMessageBytes,
  };
}

export async function runMailbox(source: MailboxSource, options: RunOptions): Promise<RunResult> {
  const { db, settings } = options;
  const ledger = createMailMessageRepository(db);
  const counts = { fetched: 0, created: 0, commented: 0, skipped: 0, failed: 0 };
  let storeError: unknown;
  const entries = await source.list();
  const known = await ledger.handledLocations(
    settings.id,
    entries.map((e) => e.location),
  );
  // Handled before, still here: a crash (or a lost connection) came between the commit and
  // the mark. Settle them now; never handle them again. Failures stay where they are.
  const settleAgain = entries.filter((e) => {
    const outcome = known.get(e.location)?.outcome;
    return outcome !== undefined && outcome !== 'failed';
  });
  if (settleAgain.length) {
    await source.settle(settleAgain);
    await ledger.settle(
      settleAgain.map((e) => known.get(e.location)!.id),
      options.clock.now().toISOString(),
    );
  }
  const waiting = entries.filter((e) => !known.has(e.location));
  const total = waiting.length;
  let done = 0;
  const report = () => options.onProgress?.({ done, total, counts: { ...counts } });
  report();
  for (const batch of batches(waiting, settings.maxMessageBytes, options)) {
    await options.between?.();
    const settled: { entry: MailboxEntry; ledgerId: string }[] = [];
    const kept: { entry: MailboxEntry; ledgerId: string }[] = [];
    const tooLarge = batch.filter((e) => e.size > settings.maxMessageBytes);
    const fetched = await source.fetch(batch.filter((e) => e.size <= settings.maxMessageBytes));
    const work: { entry: MailboxEntry; raw: Buffer; tooLarge: boolean }[] = [
      ...fetched.map((f) => ({ ...f, tooLarge: f.raw.length > settings.maxMessageBytes })),
    ];
    for (const entry of tooLarge)
      work.push({ entry, raw: await source.header(entry), tooLarge: true });
    work.sort((a, b) => batch.indexOf(a.entry) - batch.indexOf(b.entry));
    for (const item of work) {
      counts.fetched++;
      try {
        const { message, decision } = await decide(item.entry, item.raw, item.tooLarge, options);
        const committed = await commitDecision(
          db,
          options.events,
          message,
          decision,
          options.clock.now(),
        );
        if (committed.outcome === 'issue') counts.created++;
        else if (committed.outcome === 'comment') counts.commented++;
        else if (committed.outcome === 'failed') counts.failed++;
        else counts.skipped++;
        (committed.outcome === 'failed' ? kept : settled).push({
          entry: item.entry,
          ledgerId: committed.ledgerId,
        });
      } catch (error) {
        // The database refused the write (or another worker committed it first): the message
        // stays on the server as it was; the next run sees it again.
        const existing = await ledger
          .atLocation(settings.id, item.entry.location)
          .catch(() => undefined);
        if (existing && existing.outcome !== 'failed') {
          settled.push({ entry: item.entry, ledgerId: existing.id });
          counts.skipped++;
        } else {
          storeError ??= error;
          counts.failed++;
        }
      }
      done++;
      report();
    }
    await source.settle(settled.map((s) => s.entry));
    await source.keep(kept.map((s) => s.entry));
    await ledger
      .settle(
        [...settled, ...kept].map((s) => s.ledgerId),
        options.clock.now().toISOString(),
      )
      .catch((error: unknown) => {
        storeError ??= error;
      });
  }
  return { counts, storeError };
}

/** Batches of at most `batchSize` messages and `batchBytes` bytes (oversized ones alone). */
function* batches(
  entries: readonly MailboxEntry[],
  maxMessageBytes: number,
  options: Pick<RunOptions, 'batchSize' | 'batchBytes'>,
): Generator<MailboxEntry[]> {
  const size = options.batchSize ?? 50;
  const bytes = options.batchBytes ?? 16 * 1024 * 1024;
  let batch: MailboxEntry[] = [];
  let batchBytes = 0;
  for (const entry of entries) {
    const weight = entry.size > maxMessageBytes ? 0 : entry.size;
    if (batch.length > 0 && (batch.length >= size || batchBytes + weight > bytes)) {
      yield batch;
      batch = [];
      batchBytes = 0;
    }
    batch.push(entry);
    batchBytes += weight;
  }
  if (batch.length > 0) yield batch;
}

/** What becomes of one message; lookups only, no writes. */
async function decide(
  entry: MailboxEntry,
  raw: Buffer,
  tooLarge: boolean,
  options: RunOptions,
): Promise<{ message: LedgerMessage; decision: Decision }> {
  const { settings, db } = options;
  const ledger = createMailMessageRepository(db);
  const contentHash = createHash('sha256').update(raw).digest('hex');
  let parsed: ParsedMessage | undefined;
  let unparseable = false;
  try {
    parsed = await parseMessage(raw, attachmentLimits(settings.maxMessageBytes));
  } catch (error) {
    if (!(error instanceof UnparseableMessage)) throw error;
    unparseable = true;
  }
  const message: LedgerMessage = {
    mailServerId: settings.id,
    location: entry.location,
    messageId: parsed?.messageId ?? null,
    contentHash: tooLarge ? `headers:${contentHash}` : contentHash,
    sender: parsed?.from?.address ?? null,
    subject: parsed ? parsed.subject.slice(0, 500) : null,
    size: entry.size || raw.length,
  };
  if (tooLarge) return { message, decision: { kind: 'failed', reason: 'too_large' } };
  if (unparseable || !parsed)
    return { message, decision: { kind: 'failed', reason: 'unparseable' } };

  // The same message again (a second copy, or every message after a UIDVALIDITY change).
  const first = parsed.messageId
    ? await ledger.firstWithMessageId(settings.id, parsed.messageId)
    : await ledger.firstWithHash(settings.id, contentHash);
  if (first) return { message, decision: { kind: 'duplicate', of: { issueId: first.issueId } } };

  const skip = screen(parsed, options.ownAddresses);
  const sender =
    parsed.from ??
    (settings.defaultReporter
      ? { address: settings.defaultReporter.toLowerCase(), name: '' }
      : null);
  if ((skip && skip !== 'no_sender') || !sender) {
    return { message, decision: { kind: 'skipped', reason: skip ?? 'no_sender' } };
  }
  const since = new Date(options.clock.now().getTime() - options.throttle.windowMinutes * 60_000);
  if (
    (await ledger.countFromSender(settings.id, sender.address, since.toISOString())) >=
    options.throttle.max
  ) {
    return { message, decision: { kind: 'skipped', reason: 'throttled' } };
  }

  const threadIds = parsed.messageId ? [parsed.messageId] : [];
  const issue = await threadOf(db, parsed, options.prefixes);
  if (issue) {
    return {
      message,
      decision: {
        kind: 'comment',
        issue,
        body: stripQuotedReply(parsed.text),
        author: sender,
        attachments: parsed.attachments,
        threadIds,
      },
    };
  }
  return {
    message,
    decision: {
      kind: 'issue',
      prefix: settings.issueKeyPrefix,
      summary: summaryOf(parsed.subject, options.prefixes),
      description: stripQuotedReply(parsed.text),
      reporter: sender,
      attachments: parsed.attachments,
      threadIds,
      acknowledge:
        options.acknowledgeWith && parsed.from && mayAcknowledge(parsed, options.ownAddresses)
          ? acknowledgement(options.acknowledgeWith, parsed)
          : null,
    },
  };
}

/** The issue a message replies to: by In-Reply-To and References, else by a key in the subject. */
async function threadOf(
  db: Kysely<Database>,
  parsed: ParsedMessage,
  prefixes: readonly string[],
): Promise<IssueRecord | undefined> {
  const issues = createIssueRepository(db);
  const named = [...parsed.inReplyTo, ...[...parsed.references].reverse()];
  const byThread = await issues.issueOfMessages(named);
  if (byThread) return byThread;
  const key = findIssueKey(parsed.subject, prefixes);
  return key ? issues.findByKey(key) : undefined;
}

function acknowledgement(mailServerId: string, parsed: ParsedMessage): AcknowledgementRequest {
  const recipient = (parsed.replyTo ?? parsed.from)!.address;
  const japanese = /[\u3040-\u30ff\u4e00-\u9fff]/.test(`${parsed.subject}\n${parsed.text}`);
  return {
    mailServerId,
    recipient,
    inReplyTo: parsed.messageId,
    references: [...parsed.references, ...(parsed.messageId ? [parsed.messageId] : [])],
    language: japanese ? 'ja' : 'en',
  };
}
