/**
 * One run of the handler over one mailbox: list what waits, skip what the ledger knows
 * (settling it again if a crash came between commit and mark), fetch the rest in batches,
 * decide and commit each batch in one transaction, then settle the batch on the server.
 * Nothing is marked, moved or deleted before its issue or comment is committed; a message
 * that fails (unparseable, too large) is recorded and kept; a write the database refuses
 * rolls its batch back, which is then committed one message per transaction, so that message
 * alone stays untouched on the server for the next run. One message never stops the batch.
 *
 * A pipeline, so that a large mailbox costs little more than its fetch: while batch n is
 * decided and committed (in mailbox order: a reply sees the issue made just before it), batch
 * n + 1 is fetched and parsed (on the parser's worker threads); no more than these two
 * batches are held at a time, and calls into the source never overlap.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.js';
import { createIssueRepository, type IssueRecord } from '../store/repositories/issues.js';
import type {
  HandlerCounts,
  HandlerSettingsRecord,
} from '../store/repositories/mail-handler-state.js';
import {
  createMailMessageRepository,
  type MailMessageRepository,
} from '../store/repositories/mail-messages.js';
import { type Executor, inTransaction } from '../store/repositories/transaction.js';
import type { Database } from '../store/schema.js';
import { stripQuotedReply } from './body.js';
import { mayAcknowledge, screen, type ThrottleRule } from './filters.js';
import {
  type AcknowledgementRequest,
  type Committed,
  commitDecision,
  type Decision,
  type HandlerEventSink,
  type LedgerMessage,
} from './ledger.js';
import type { ParsedMessage, ParseLimits } from './parse.js';
import { inlineParser, type MessageParser, type ParseOutcome } from './parse-pool.js';
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
  /**
   * Parses the messages (default: on this thread); `createParsePool` parses on worker
   * threads, while this one fetches the next batch and commits.
   */
  readonly parser?: MessageParser;
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
  await settleUnsettled(
    source,
    ledger,
    settings.id,
    entries,
    known,
    options.clock.now().toISOString(),
  );
  const waiting = entries.filter((e) => !known.has(e.location));
  const total = waiting.length;
  let done = 0;
  const report = () => options.onProgress?.({ done, total, counts: { ...counts } });
  report();
  // A handful of messages is parsed here: starting worker threads would cost more.
  const parser = options.parser && waiting.length >= POOL_THRESHOLD ? options.parser : inlineParser;
  const io = oneAtATime();
  const prepare = async (batch: MailboxEntry[]): Promise<Prepared[]> => {
    await options.between?.();
    const fetched = await io(() =>
      source.fetch(batch.filter((e) => e.size <= settings.maxMessageBytes)),
    );
    const work = fetched.map((f) => ({
      entry: f.entry,
      raw: f.raw,
      tooLarge: f.raw.length > settings.maxMessageBytes,
    }));
    for (const entry of batch.filter((e) => e.size > settings.maxMessageBytes)) {
      work.push({ entry, raw: await io(() => source.header(entry)), tooLarge: true });
    }
    const order = new Map(batch.map((e, i) => [e, i]));
    work.sort((a, b) => order.get(a.entry)! - order.get(b.entry)!);
    // Parsing starts now, on the pool, while the run commits the batch before this one.
    return work.map(({ entry, raw, tooLarge }) => ({
      entry,
      tooLarge,
      size: entry.size || raw.length,
      parse: parser.parse(raw, attachmentLimits(settings.maxMessageBytes)).then(
        (outcome) => outcome,
        (error: unknown) => ({ error }),
      ),
    }));
  };
  const windows = batches(waiting, settings.maxMessageBytes, options);
  const ahead = () => {
    const next = windows.next();
    if (next.done) return undefined;
    const prepared = prepare(next.value);
    // Awaited after the batch before it is committed; until then a failure waits there.
    prepared.catch(() => undefined);
    return prepared;
  };
  let next = ahead();
  while (next) {
    const batch = await next;
    // The next batch is fetched (and parsed) while this one is decided and committed.
    next = ahead();
    const settled: { entry: MailboxEntry; ledgerId: string }[] = [];
    const kept: { entry: MailboxEntry; ledgerId: string }[] = [];
    const results = await commitBatch(batch, options);
    for (const [i, result] of results.entries()) {
      const { entry } = batch[i]!;
      counts.fetched++;
      if ('ledgerId' in result) {
        if (result.outcome === 'issue') counts.created++;
        else if (result.outcome === 'comment') counts.commented++;
        else if (result.outcome === 'failed') counts.failed++;
        else counts.skipped++;
        (result.outcome === 'failed' ? kept : settled).push({ entry, ledgerId: result.ledgerId });
      } else {
        // The database refused the write (or another worker committed it first): the message
        // stays on the server as it was; the next run sees it again.
        const existing = await ledger
          .atLocation(settings.id, entry.location)
          .catch(() => undefined);
        if (existing && existing.outcome !== 'failed') {
          settled.push({ entry, ledgerId: existing.id });
          counts.skipped++;
        } else {
          storeError ??= result.error;
          counts.failed++;
        }
      }
      done++;
    }
    report();
    await io(() => source.settle(settled.map((s) => s.entry)));
    await io(() => source.keep(kept.map((s) => s.entry)));
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

/** Runs with fewer waiting messages than this parse on the calling thread. */
const POOL_THRESHOLD = 20;

/** A fetched message on its way: its parse (started, never rejecting) and what it weighs. */
interface Prepared {
  readonly entry: MailboxEntry;
  readonly tooLarge: boolean;
  readonly size: number;
  readonly parse: Promise<ParseOutcome | { readonly error: unknown }>;
}

/**
 * Decides and commits a batch in one transaction, in mailbox order (a reply sees the issue
 * its question made a moment before). When the transaction fails, it is rolled back whole and
 * every message of the batch is done again in a transaction of its own, so one message the
 * database refuses fails alone and the others are made.
 */
async function commitBatch(
  batch: readonly Prepared[],
  options: RunOptions,
): Promise<(Committed | { readonly error: unknown })[]> {
  const { db } = options;
  const parses = await Promise.all(batch.map((p) => p.parse));
  const one = (trx: Executor, i: number) => decideAndCommit(trx, batch[i]!, parses[i]!, options);
  if (batch.length > 1) {
    try {
      return await inTransaction(db, async (trx) => {
        const committed: Committed[] = [];
        for (let i = 0; i < batch.length; i++) committed.push(await one(trx, i));
        return committed;
      });
    } catch {
      // One message's write was refused: each again on its own, below.
    }
  }
  const results: (Committed | { error: unknown })[] = [];
  for (let i = 0; i < batch.length; i++) {
    results.push(
      await inTransaction(db, (trx) => one(trx, i)).catch((error: unknown) => ({ error })),
    );
  }
  return results;
}

async function decideAndCommit(
  trx: Executor,
  item: Prepared,
  parse: ParseOutcome | { readonly error: unknown },
  options: RunOptions,
): Promise<Committed> {
  if ('error' in parse) throw parse.error;
  const { message, decision } = await decide(trx, item, parse, options);
  return commitDecision(trx, options.events, message, decision, options.clock.now());
}

/** Calls into the source one at a time (a fetch ahead and a batch's marking never overlap). */
function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (work) => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * Finishes what a run that died (or lost its connection) left between a message's commit
 * and its mark. A handled message still listed is marked (moved, deleted) again — POP3
 * carries out DELE only at QUIT, so a session cut after it deleted nothing — and never
 * handled again; a failed one not yet kept is kept (moved to the error folder). A row whose
 * message is no longer listed needs nothing more: it was marked, moved or deleted (by that
 * run, or by someone reading the mailbox).
 */
async function settleUnsettled(
  source: MailboxSource,
  ledger: MailMessageRepository,
  mailServerId: string,
  entries: readonly MailboxEntry[],
  known: ReadonlyMap<string, { readonly id: string; readonly outcome: string }>,
  now: string,
): Promise<void> {
  const handled = entries.filter((e) => {
    const outcome = known.get(e.location)?.outcome;
    return outcome !== undefined && outcome !== 'failed';
  });
  const unsettled = await ledger.unsettled(mailServerId);
  const listed = new Map(entries.map((e) => [e.location, e]));
  const failed = unsettled.flatMap((row) => {
    const entry = row.outcome === 'failed' ? listed.get(row.location) : undefined;
    return entry ? [entry] : [];
  });
  if (handled.length === 0 && unsettled.length === 0) return;
  await source.settle(handled);
  await source.keep(failed);
  await ledger.settle(
    unsettled.map((r) => r.id),
    now,
  );
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
  db: Executor,
  item: Prepared,
  { contentHash, parsed }: ParseOutcome,
  options: RunOptions,
): Promise<{ message: LedgerMessage; decision: Decision }> {
  const { settings } = options;
  const { entry, tooLarge } = item;
  const ledger = createMailMessageRepository(db);
  const message: LedgerMessage = {
    mailServerId: settings.id,
    location: entry.location,
    messageId: parsed?.messageId ?? null,
    contentHash: tooLarge ? `headers:${contentHash}` : contentHash,
    sender: parsed?.from?.address ?? null,
    subject: parsed ? parsed.subject.slice(0, 500) : null,
    size: item.size,
  };
  if (tooLarge) return { message, decision: { kind: 'failed', reason: 'too_large' } };
  if (!parsed) return { message, decision: { kind: 'failed', reason: 'unparseable' } };

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
  db: Executor,
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
