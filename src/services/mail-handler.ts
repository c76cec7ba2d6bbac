/**
 * The mail handler as a use case (issue 10): run a mailbox now (`POST …/poll`, `outlink mail
 * poll`), run the mailboxes that are due (the poller), show where a mailbox's handler stands,
 * and send the acknowledgements new issues owe.
 *
 * Each mailbox is handled by one worker at a time across every process, guarded by a
 * database lease (`mail-handler:<id>`) that a heartbeat renews between batches: a crashed
 * holder blocks the mailbox only until its lease runs out. Mailboxes run side by side, each
 * with its own failures, so one broken or slow mailbox never delays the others. While the
 * mailbox's connection needs re-authorization the handler waits (`waiting_reauthorization`)
 * and resumes by itself once the connection works again.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Actor } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import type { MailServerRuntime } from '../domain/mail-server.js';
import { ignoredObservations, type Observations } from '../domain/observations.js';
import { DEFAULT_THROTTLE } from '../handler/filters.js';
import { openImapSource } from '../handler/imap-source.js';
import type { HandlerEventSink } from '../handler/ledger.js';
import type { MessageParser } from '../handler/parse-pool.js';
import { openPop3Source } from '../handler/pop3-source.js';
import { type RunProgress, runMailbox } from '../handler/run.js';
import type { MailboxSource } from '../handler/source.js';
import { echoText, refusalOf } from '../mail/connection-test.js';
import type { MailClient } from '../mail/mail-client.js';
import { asOutlinkError, MailError } from '../mail/mail-error.js';
import { type Remedy, remedyParams } from '../providers/mail-refusals.js';
import { createIssueRepository, type IssueRecord } from '../store/repositories/issues.js';
import {
  createMailHandlerStateRepository,
  type HandlerCounts,
  type HandlerSettingsRecord,
  type HandlerStateRecord,
  type HandlerStatus,
} from '../store/repositories/mail-handler-state.js';
import {
  createMailOutboxRepository,
  type OutboxRecord,
} from '../store/repositories/mail-outbox.js';
import { inTransaction } from '../store/repositories/transaction.js';
import type { Database } from '../store/schema.js';
import type { Leases } from '../tokens/leases.js';

export type { HandlerCounts, HandlerStatus };

/** Where a mailbox's handler stands (`GET /api/v1/mail-servers/:id/handler`). */
export interface HandlerStatusView {
  readonly mailServerId: string;
  readonly enabled: boolean;
  readonly status: HandlerStatus | 'never_run';
  readonly lastRunAt: string | null;
  readonly lastSuccessAt: string | null;
  readonly nextRunAt: string | null;
  /** The catalog or mail error code of the last failure. */
  readonly lastError: string | null;
  /** The last failure with what the mail server said and the error catalog's reading. */
  readonly lastFailure: HandlerFailure | null;
  readonly lastCounts: HandlerCounts | null;
}

/**
 * A run's failure as the handler's state keeps it (`last_error`, as JSON; a bare code from an
 * older run reads as just the code): the code and, for a mail server's refusal, the server's
 * own words and the error catalog's reading of them (issue 13 item 2). Never a token.
 */
export interface HandlerFailure {
  readonly code: string;
  readonly serverText?: string;
  readonly serverCode?: string;
  /** The refusal catalog's entry (`mail.refusals.<id>`). */
  readonly refusal?: string;
  readonly remedy?: Remedy;
}

/** The words of an acknowledgement, chosen by the edge that knows the languages. */
export type AcknowledgementWords = (
  language: 'en' | 'ja',
  issue: IssueRecord,
) => { readonly text: string };

export interface MailHandlerService {
  /** Runs a mailbox now; 409 `mail_handler_busy` while another worker runs it. */
  poll(
    actor: Actor,
    idOrName: string,
    options?: { onProgress?(progress: RunProgress): void },
  ): Promise<HandlerCounts>;
  /** Runs every enabled mailbox that is due, at most `concurrency` at a time. */
  runDue(): Promise<void>;
  /** Runs a mailbox now unless it is running (the IDLE watcher saw new mail). */
  runSoon(mailServerId: string): Promise<void>;
  status(idOrName: string): Promise<HandlerStatusView>;
  /**
   * Where the handlers of these mail servers stand (a page of the list), the incoming ones
   * only, in one statement.
   */
  statuses(mailServerIds: readonly string[]): Promise<HandlerStatusView[]>;
  /** Enabled IMAP mailboxes: the ones an IDLE watcher keeps an eye on. */
  watchable(): Promise<string[]>;
  /** The runtime of a mailbox, for an IDLE watcher's own session. */
  runtime(mailServerId: string): Promise<MailServerRuntime & { readonly folder: string | null }>;
  /** Sends the acknowledgements that are due; returns how many were sent. */
  sendAcknowledgements(): Promise<number>;
}

export interface MailHandlerDeps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly events: HandlerEventSink;
  readonly mail: MailClient;
  readonly leases: Leases;
  /** This process's lease owner id. */
  readonly owner: string;
  readonly leaseTtlMs: number;
  /** A mail server's settings for connecting (the mail server service's `runtime`). */
  runtime(id: string): Promise<MailServerRuntime>;
  /** Resolves a mail server id or name (404 `mail_server_not_found`). */
  resolve(idOrName: string): Promise<{ readonly id: string }>;
  readonly words: AcknowledgementWords;
  /** Mailboxes run side by side (default 4). */
  readonly concurrency?: number;
  /** Parses messages (default: on the calling thread); compose.ts wires a worker pool. */
  readonly parser?: MessageParser;
  /** Counts runs and messages for the metrics; ignored by default. */
  readonly observe?: Observations;
  /**
   * Told each status a mailbox's handler is saved with (the notices of issue 13); its own
   * failure is logged and never stops the handler.
   */
  onStatus?(
    mailServerId: string,
    name: string,
    status: HandlerStatus,
    error: string | null,
  ): Promise<void>;
}

/** Acknowledgement retries: 1 min, 5 min, 30 min, 2 h, then given up. */
const ACK_BACKOFF_MS = [60_000, 300_000, 1_800_000, 7_200_000] as const;

export function createMailHandlerService(deps: MailHandlerDeps): MailHandlerService {
  const { db, clock, log } = deps;
  const observe = deps.observe ?? ignoredObservations;
  const states = createMailHandlerStateRepository(db);
  const leaseName = (id: string) => `mail-handler:${id}`;

  const settingsOf = async (id: string): Promise<HandlerSettingsRecord> => {
    const settings = await states.settings(id);
    if (!settings) throw new OutlinkError('mail_server_not_found', { id });
    if (settings.protocol === 'smtp') {
      throw new OutlinkError('mail_handler_not_incoming', { name: settings.name });
    }
    return settings;
  };

  const save = async (
    settings: HandlerSettingsRecord,
    before: HandlerStateRecord | undefined,
    change: Partial<HandlerStateRecord> & { status: HandlerStatus },
  ) => {
    const now = clock.now();
    await states.save({
      mailServerId: settings.id,
      lastRunAt: before?.lastRunAt ?? null,
      lastSuccessAt: before?.lastSuccessAt ?? null,
      lastError: null,
      lastCounts: before?.lastCounts ?? null,
      uidValidity: before?.uidValidity ?? null,
      nextRunAt: new Date(now.getTime() + settings.pollIntervalSeconds * 1000).toISOString(),
      updatedAt: now.toISOString(),
      ...change,
    });
    await deps
      .onStatus?.(settings.id, settings.name, change.status, change.lastError ?? null)
      .catch((error: unknown) =>
        log.error({ err: error, mailServerId: settings.id }, 'mail handler notice not recorded'),
      );
  };

  /** One run under the mailbox's lease; undefined when another worker holds it. */
  const runOnce = async (
    id: string,
    onProgress?: (progress: RunProgress) => void,
  ): Promise<HandlerCounts | undefined> => {
    const settings = await settingsOf(id);
    const owner = deps.owner;
    if (!(await deps.leases.tryAcquire(leaseName(id), owner, deps.leaseTtlMs))) return undefined;
    // The heartbeat keeps the lease while a long batch runs; between batches the run checks
    // it was not lost (a paused process whose lease another worker took must stop).
    let lost = false;
    const heartbeat = setInterval(
      () => {
        deps.leases.renew(leaseName(id), owner, deps.leaseTtlMs).then(
          (held) => {
            if (!held) lost = true;
          },
          (error: unknown) => log.warn({ err: error, mailServerId: id }, 'lease renewal failed'),
        );
      },
      Math.max(500, deps.leaseTtlMs / 3),
    );
    heartbeat.unref();
    const before = await states.state(id);
    const startedAt = clock.now().toISOString();
    let source: MailboxSource | undefined;
    let runtime: MailServerRuntime | undefined;
    try {
      if (settings.connectionStatus === 'reauthorization_required') {
        await save(settings, before, {
          status: 'waiting_reauthorization',
          lastRunAt: startedAt,
          lastError: 'reauthorization_required',
        });
        throw new OutlinkError('reauthorization_required', { account: settings.username });
      }
      await save(settings, before, { status: 'running', lastRunAt: startedAt });
      runtime = await deps.runtime(id);
      let uidValidity = before?.uidValidity ?? null;
      if (settings.protocol === 'imap') {
        const { value } = await deps.mail.imap(runtime);
        const imap = await openImapSource(value.client, {
          folder: settings.folder ?? 'INBOX',
          processedAction: settings.processedAction,
          processedFolder: settings.processedFolder,
          errorFolder: settings.errorFolder,
        }).catch((error: unknown) => {
          value.client.close();
          throw error;
        });
        uidValidity = imap.uidValidity;
        source = imap;
      } else {
        const { value } = await deps.mail.pop3(runtime);
        source = await openPop3Source(value.session, settings);
      }
      const ack = settings.ackMailServerId
        ? await states.settings(settings.ackMailServerId)
        : undefined;
      const result = await runMailbox(source, {
        db,
        events: deps.events,
        clock,
        settings,
        ownAddresses: [settings.username, ...(ack ? [ack.username] : [])].map((a) =>
          a.toLowerCase(),
        ),
        prefixes: await states.prefixes(),
        throttle: DEFAULT_THROTTLE,
        acknowledgeWith: ack?.protocol === 'smtp' ? ack.id : null,
        ...(deps.parser ? { parser: deps.parser } : {}),
        ...(onProgress ? { onProgress } : {}),
        between: async () => {
          if (lost) throw new OutlinkError('mail_handler_busy', { name: settings.name });
        },
      });
      await source.close();
      source = undefined;
      const failed = result.storeError !== undefined;
      if (failed)
        log.error(
          { err: result.storeError, mailServerId: id },
          'mail handler could not record a message',
        );
      await save(settings, before, {
        status: failed ? 'failed' : 'idle',
        lastRunAt: startedAt,
        lastSuccessAt: failed ? (before?.lastSuccessAt ?? null) : clock.now().toISOString(),
        lastError: failed ? 'database_unavailable' : null,
        lastCounts: result.counts,
        uidValidity,
      });
      observe.mailPoll(failed ? 'failed' : 'ok', { ...result.counts });
      return result.counts;
    } catch (error) {
      source?.abort();
      const code = errorCode(error);
      const waiting = code === 'reauthorization_required';
      if (!waiting) log.warn({ err: error, mailServerId: id }, 'mail handler run failed');
      observe.mailPoll(waiting ? 'waiting_reauthorization' : 'failed');
      await save(settings, before, {
        status: waiting ? 'waiting_reauthorization' : 'failed',
        lastRunAt: startedAt,
        lastError: JSON.stringify(failureOf(error, code, runtime)),
      }).catch((e: unknown) => log.error({ err: e, mailServerId: id }, 'handler state not saved'));
      throw asOutlinkError(error, settings.name);
    } finally {
      clearInterval(heartbeat);
      await deps.leases.release(leaseName(id), owner).catch(() => undefined);
    }
  };

  const service: MailHandlerService = {
    async poll(_actor, idOrName, options = {}) {
      const { id } = await deps.resolve(idOrName);
      const counts = await runOnce(id, options.onProgress);
      if (!counts) {
        const settings = await settingsOf(id);
        throw new OutlinkError('mail_handler_busy', { name: settings.name });
      }
      return counts;
    },

    async runDue() {
      const due = await states.due(clock.now().toISOString(), 100, leaseName(''));
      let next = 0;
      const worker = async () => {
        while (next < due.length) {
          const id = due[next++]!;
          await runOnce(id).catch(() => undefined);
        }
      };
      await Promise.all(Array.from({ length: deps.concurrency ?? 4 }, worker));
    },

    async runSoon(mailServerId) {
      await runOnce(mailServerId).catch(() => undefined);
    },

    async status(idOrName) {
      const { id } = await deps.resolve(idOrName);
      const settings = await settingsOf(id);
      return statusView(id, settings.enabled, await states.state(id));
    },

    async statuses(mailServerIds) {
      const found = await states.overview(mailServerIds);
      return found.map((o) => statusView(o.mailServerId, o.enabled, o.state));
    },

    watchable: () => states.enabled(['imap']),

    runtime: (id) => deps.runtime(id),

    async sendAcknowledgements() {
      const outbox = createMailOutboxRepository(db);
      const issues = createIssueRepository(db);
      const due = await outbox.due(clock.now().toISOString(), 50);
      let sent = 0;
      for (const item of due) {
        const outcome = await sendOne(item, issues).then(
          (messageId) => ({ sent: true as const, messageId }),
          (error: unknown) => ({ sent: false as const, error }),
        );
        const now = clock.now();
        if (outcome.sent) {
          sent++;
          await inTransaction(db, async (trx) => {
            await createMailOutboxRepository(trx).update(item.id, {
              status: 'sent',
              attempts: item.attempts + 1,
              nextAttemptAt: item.nextAttemptAt,
              lastError: null,
              sentAt: now.toISOString(),
            });
            // A reply to the acknowledgement threads back by its In-Reply-To alone, even
            // when the replier dropped the key from the subject (an auto-responder with a
            // subject of its own would otherwise open an issue, be acknowledged, answer…).
            if (outcome.messageId) {
              await createIssueRepository(trx).addThreadMessages(item.issueId, [outcome.messageId]);
            }
          });
          continue;
        }
        const delay = ACK_BACKOFF_MS[item.attempts];
        log.warn({ err: outcome.error, outboxId: item.id }, 'acknowledgement not sent');
        await outbox.update(item.id, {
          status: delay === undefined ? 'failed' : 'pending',
          attempts: item.attempts + 1,
          nextAttemptAt: new Date(now.getTime() + (delay ?? 0)).toISOString(),
          lastError: errorCode(outcome.error),
          sentAt: null,
        });
      }
      return sent;
    },
  };

  /** Sends one acknowledgement; its Message-ID without brackets (null: the issue is gone). */
  const sendOne = async (
    item: OutboxRecord,
    issues: ReturnType<typeof createIssueRepository>,
  ): Promise<string | null> => {
    const issue = await issues.findById(item.issueId);
    if (!issue) return null;
    const runtime = await deps.runtime(item.mailServerId);
    const { value } = await deps.mail.smtp(runtime);
    try {
      const info = await value.session.send({
        from: runtime.username,
        to: [item.recipient],
        subject: item.subject,
        text: deps.words(item.language, issue).text,
        headers: {
          // RFC 3834 §5: an automatic response says so, so that other responders stay quiet.
          'Auto-Submitted': 'auto-replied',
          'X-Auto-Response-Suppress': 'All',
          ...(item.inReplyTo ? { 'In-Reply-To': `<${item.inReplyTo}>` } : {}),
          ...(item.references ? { References: item.references } : {}),
        },
      });
      return info.messageId.replace(/^<|>$/g, '').trim() || null;
    } finally {
      value.session.quit();
    }
  };

  return service;
}

function statusView(
  mailServerId: string,
  enabled: boolean,
  state: HandlerStateRecord | undefined,
): HandlerStatusView {
  const failure = readFailure(state?.lastError ?? null);
  return {
    mailServerId,
    enabled,
    status: state ? state.status : 'never_run',
    lastRunAt: state?.lastRunAt ?? null,
    lastSuccessAt: state?.lastSuccessAt ?? null,
    nextRunAt: state?.nextRunAt ?? null,
    lastError: failure?.code ?? null,
    lastFailure: failure,
    lastCounts: state?.lastCounts ?? null,
  };
}

/** A failure to keep: a mail server's words (echoed as a test result echoes them) and reading. */
function failureOf(
  error: unknown,
  code: string,
  runtime: MailServerRuntime | undefined,
): HandlerFailure {
  if (!(error instanceof MailError)) return { code };
  const refusal = runtime ? refusalOf(error, runtime) : undefined;
  const remedy =
    error.remedy ??
    (refusal?.definitive && runtime
      ? { id: refusal.remedy, params: remedyParams(runtime) }
      : undefined);
  return {
    code,
    ...(error.serverText ? { serverText: echoText(error.serverText) } : {}),
    ...(error.responseCode ? { serverCode: echoText(error.responseCode) } : {}),
    ...(refusal ? { refusal: refusal.id } : {}),
    ...(remedy ? { remedy } : {}),
  };
}

/** The state row's `last_error`: JSON of a `HandlerFailure`, or a bare code. */
export function readFailure(raw: string | null): HandlerFailure | null {
  if (raw === null) return null;
  if (!raw.startsWith('{')) return { code: raw };
  try {
    const parsed = JSON.parse(raw) as HandlerFailure;
    return typeof parsed.code === 'string' ? parsed : { code: 'internal' };
  } catch {
    return { code: 'internal' };
  }
}

/** A failure's code for the state row: the catalog's, the mail session's, or `internal`. */
function errorCode(error: unknown): string {
  if (error instanceof OutlinkError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[a-z_]{3,40}$/.test(code) ? code : 'internal';
}
