import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { NotificationSettings } from '../config/config.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import type { EventType } from '../domain/events.js';
import type { MailServerRuntime } from '../domain/mail-server.js';
import {
  daysLeft,
  NOTICE_WINDOW_MS,
  type NoticeKind,
  noticeSubjects,
  OK_STATE,
  secretExpiryThreshold,
} from '../domain/notices.js';
import type { MailClient } from '../mail/mail-client.js';
import type { EventView } from '../schemas/events.js';
import { createLinkRepository } from '../store/repositories/links.js';
import { createNotificationRepository } from '../store/repositories/notifications.js';
import { type Executor, inTransaction } from '../store/repositories/transaction.js';
import type { EventService, EventSubscriber } from './events.js';

/** What an email notice says, in one language; `presenters/notifications.ts` words it. */
export type NoticeWords = (
  language: 'en' | 'ja',
  kind: NoticeKind,
  data: Readonly<Record<string, unknown>>,
) => { readonly subject: string; readonly text: string };

/**
 * What a notice delivers once it is claimed, stored with the subject's state so that a notice
 * held back by the window can go out later exactly as it would have: a recorded event to
 * forward to the webhooks, or a notice event to record (which queues its own webhooks), and
 * an email. Never a secret: event data and names only.
 */
interface Notice {
  readonly forward?: EventView;
  readonly record?: {
    readonly type: EventType;
    readonly linkId?: string;
    readonly mailServerId?: string;
    readonly data: Record<string, unknown>;
  };
  readonly mail?: { readonly kind: NoticeKind; readonly data: Record<string, unknown> };
}

/** Where a mail handler stands, as the notices see it. */
export type HandlerNoticeStatus =
  | 'idle'
  | 'running'
  | 'failed'
  | 'waiting_reauthorization'
  | string;

export interface NotificationService {
  /**
   * The event subscriber in front of the webhooks: connection failures and recoveries reach
   * the webhooks (and the administrators' mailbox) only as de-duplicated notices; every other
   * event goes to the webhooks as before. The event log keeps every attempt either way.
   */
  readonly subscriber: EventSubscriber;
  /** Told by the mail handler after each run: a stopped handler is a notice, so is its recovery. */
  handlerStatus(
    mailServerId: string,
    name: string,
    status: HandlerNoticeStatus,
    error: string | null,
  ): Promise<void>;
  /**
   * One pass of the notifier job: client secret reminders that are due, notices the window
   * held back for a state that still holds, and the emails that are due. Returns counts.
   */
  tick(): Promise<{ reminders: number; late: number; sent: number }>;
}

/** The state of a connection that needs re-authorization because its link's credentials failed. */
const LINK_FAULT = 'reauthorization_required_by_link';

/** Email retries: 1 min, 5 min, 30 min, 2 h, then given up (recorded on the outbox row). */
const MAIL_BACKOFF_MS = [60_000, 300_000, 1_800_000, 7_200_000] as const;

export function createNotificationService(deps: {
  db: Executor;
  clock: Clock;
  log: Logger;
  settings: NotificationSettings;
  baseUrl: URL;
  /** The webhook service's subscriber: what the notices forward to. */
  webhooks: EventSubscriber;
  /** Set after construction: the event service depends on this service's subscriber. */
  events: () => EventService;
  /** Only `smtp` is used: the notices are sent, never read. */
  mail: Pick<MailClient, 'smtp'>;
  /** The outgoing mail server named by `OUTLINK_NOTIFY_MAIL_SERVER`, ready to connect. */
  mailServer(idOrName: string): Promise<MailServerRuntime>;
  words: NoticeWords;
}): NotificationService {
  const { db, clock, log, settings } = deps;
  const mailing = settings.mailServer !== undefined && settings.recipients.length > 0;
  const url = (path: string) => `${deps.baseUrl.href.replace(/\/$/, '')}${path}`;

  const deliver = async (trx: Executor, notice: Notice) => {
    if (notice.forward) await deps.webhooks(trx, notice.forward);
    if (notice.record) {
      await deps.events().record(trx, { ...notice.record, actor: { kind: 'system' } });
    }
    if (notice.mail && mailing) {
      const now = clock.now().toISOString();
      await createNotificationRepository(trx).queueMail({
        id: randomUUID(),
        kind: notice.mail.kind,
        data: notice.mail.data,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        lastError: null,
        createdAt: now,
        sentAt: null,
      });
    }
  };

  /**
   * A subject entered a bad `state`: the notice goes out unless the administrators were told
   * of this state already, or were told of it less than an hour ago (then the notifier sends
   * it late if the state still holds when the hour is over).
   */
  const fail = async (trx: Executor, subject: string, state: string, notice: Notice) => {
    const repo = createNotificationRepository(trx);
    const now = clock.now();
    const before = await repo.observe(subject, state, { ...notice }, now.toISOString());
    if (before?.notifiedState === state) return;
    const cutoff = new Date(now.getTime() - NOTICE_WINDOW_MS).toISOString();
    if (!(await repo.claimWindow(subject, state, now.toISOString(), cutoff))) return;
    if (!(await repo.markNotified(subject, state, now.toISOString()))) return;
    await deliver(trx, notice);
  };

  /** A subject is well again: a recovery notice when (and only when) a failure was told. */
  const recover = async (
    trx: Executor,
    subject: string,
    notice: Notice | ((told: string) => Notice),
  ) => {
    const repo = createNotificationRepository(trx);
    const now = clock.now().toISOString();
    const before = await repo.observe(subject, OK_STATE, null, now);
    const told = before?.notifiedState;
    if (!told || told === OK_STATE) return;
    if (!(await repo.markNotified(subject, OK_STATE, now))) return;
    await deliver(trx, typeof notice === 'function' ? notice(told) : notice);
  };

  const linkName = async (trx: Executor, linkId: string | undefined) =>
    (linkId && (await createLinkRepository(trx).findById(linkId))?.name) || '';

  /** The secret-free facts of a connection event an email words. */
  const connectionFacts = async (trx: Executor, event: EventView) => ({
    linkId: event.linkId ?? '',
    linkName: await linkName(trx, event.linkId),
    account: typeof event.data.account === 'string' ? event.data.account : '',
    reason: typeof event.data.reason === 'string' ? event.data.reason : '',
    ...(typeof event.data.status === 'number' ? { status: event.data.status } : {}),
    url: url(`/admin/applinks/${event.linkId ?? ''}`),
  });

  const subscriber: EventSubscriber = async (trx, event) => {
    const connectionId = event.connectionId;
    if (!connectionId) return deps.webhooks(trx, event);
    const subject = noticeSubjects.connection(connectionId);
    switch (event.type) {
      case 'connection.refresh_failed': {
        const facts = await connectionFacts(trx, event);
        return fail(trx, subject, 'refresh_failing', {
          forward: event,
          mail: { kind: 'connection_failing', data: facts },
        });
      }
      case 'connection.reauthorization_required': {
        const facts = await connectionFacts(trx, event);
        // The link's registration is at fault (invalid_client, an expired secret): one email
        // about the link, not one per mailbox; each connection's webhook still goes out.
        const linkFault = event.data.scope === 'link';
        if (linkFault && event.linkId) {
          await fail(trx, noticeSubjects.linkCredentials(event.linkId), 'credentials_failed', {
            record: {
              type: 'link.credentials_failed',
              linkId: event.linkId,
              data: { linkName: facts.linkName, reason: facts.reason },
            },
            mail: { kind: 'link_credentials_failed', data: facts },
          });
        }
        return fail(trx, subject, linkFault ? LINK_FAULT : 'reauthorization_required', {
          forward: event,
          ...(linkFault
            ? {}
            : { mail: { kind: 'connection_reauthorization_required' as const, data: facts } }),
        });
      }
      case 'connection.recovered':
      case 'connection.authorized': {
        // An authorization is always sent to the webhooks; a recovery only as a notice.
        if (event.type === 'connection.authorized') await deps.webhooks(trx, event);
        const facts = await connectionFacts(trx, event);
        if (event.linkId) {
          await recover(trx, noticeSubjects.linkCredentials(event.linkId), {
            record: {
              type: 'link.credentials_recovered',
              linkId: event.linkId,
              data: { linkName: facts.linkName },
            },
            mail: { kind: 'link_credentials_recovered', data: facts },
          });
        }
        // A mailbox that failed with its link was emailed about through the link: its own
        // recovery goes to the webhooks only.
        return recover(trx, subject, (told) => ({
          ...(event.type === 'connection.recovered' ? { forward: event } : {}),
          ...(told === LINK_FAULT
            ? {}
            : { mail: { kind: 'connection_recovered' as const, data: facts } }),
        }));
      }
      default:
        return deps.webhooks(trx, event);
    }
  };

  const handlerStatus: NotificationService['handlerStatus'] = async (
    mailServerId,
    name,
    status,
    error,
  ) => {
    if (status === 'running') return;
    const subject = noticeSubjects.mailHandler(mailServerId);
    const facts = {
      mailServerId,
      mailServerName: name,
      status,
      error: error ?? '',
      url: url('/admin/mail-servers'),
    };
    await inTransaction(db, async (trx) => {
      if (status === 'failed' || status === 'waiting_reauthorization') {
        return fail(trx, subject, status, {
          record: {
            type: 'mail_server.handler_stopped',
            mailServerId,
            data: { name, status, error: error ?? null },
          },
          mail: { kind: 'mail_handler_stopped', data: facts },
        });
      }
      return recover(trx, subject, {
        record: { type: 'mail_server.handler_recovered', mailServerId, data: { name } },
        mail: { kind: 'mail_handler_recovered', data: facts },
      });
    });
  };

  /** Client secrets within 30, 14 or 3 days of their expiry: one reminder per threshold. */
  const remindSecrets = async (): Promise<number> => {
    const now = clock.now();
    let reminded = 0;
    for (const link of await createNotificationRepository(db).expiringSecrets()) {
      const expiresAt = new Date(link.expiresAt);
      if (Number.isNaN(expiresAt.getTime())) continue;
      const threshold = secretExpiryThreshold(expiresAt, now);
      if (threshold === undefined) continue;
      const sent = await inTransaction(db, async (trx) => {
        const repo = createNotificationRepository(trx);
        const subject = noticeSubjects.secretExpiry(link.linkId, link.expiresAt);
        // Never again for this expiry date and threshold: the window is "since ever".
        if (!(await repo.claimWindow(subject, `${threshold}d`, now.toISOString(), ''))) {
          return false;
        }
        const data = {
          linkId: link.linkId,
          linkName: link.linkName,
          expiresAt: link.expiresAt,
          daysLeft: daysLeft(expiresAt, now),
          threshold,
          url: url(`/admin/applinks/${link.linkId}`),
        };
        await deliver(trx, {
          record: {
            type: 'link.client_secret_expiring',
            linkId: link.linkId,
            data: {
              linkName: link.linkName,
              expiresAt: link.expiresAt,
              daysLeft: data.daysLeft,
              threshold,
            },
          },
          mail: { kind: 'client_secret_expiring', data },
        });
        return true;
      });
      if (sent) reminded++;
    }
    return reminded;
  };

  /** Bad states the window held back, still standing after the hour: told now. */
  const sendLate = async (): Promise<number> => {
    let late = 0;
    for (const row of await createNotificationRepository(db).untold(OK_STATE, 100)) {
      if (!row.event) continue;
      const notice = row.event as Notice;
      const told = await inTransaction(db, async (trx) => {
        const repo = createNotificationRepository(trx);
        const now = clock.now();
        const cutoff = new Date(now.getTime() - NOTICE_WINDOW_MS).toISOString();
        if (!(await repo.claimWindow(row.subject, row.state, now.toISOString(), cutoff))) {
          return false;
        }
        if (!(await repo.markNotified(row.subject, row.state, now.toISOString()))) return false;
        await deliver(trx, notice);
        return true;
      });
      if (told) late++;
    }
    return late;
  };

  const sendMail = async (): Promise<number> => {
    if (!mailing) return 0;
    const repo = createNotificationRepository(db);
    const due = await repo.dueMail(clock.now().toISOString(), 20);
    if (due.length === 0) return 0;
    let sent = 0;
    for (const item of due) {
      const words = deps.words(settings.language, item.kind as NoticeKind, item.data);
      const outcome = await (async () => {
        const runtime = await deps.mailServer(settings.mailServer as string);
        if (runtime.protocol !== 'smtp') {
          throw new OutlinkError('notify_mail_server_not_outgoing', {
            name: settings.mailServer ?? '',
          });
        }
        const { value } = await deps.mail.smtp(runtime);
        try {
          await value.session.send({
            from: runtime.username,
            to: [...settings.recipients],
            subject: words.subject,
            text: words.text,
            // RFC 3834: an automatic message says so, so that responders stay quiet.
            headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
          });
        } finally {
          value.session.quit();
        }
      })().then(
        () => undefined,
        (error: unknown) => error,
      );
      const now = clock.now();
      if (outcome === undefined) {
        sent++;
        await repo.updateMail(item.id, {
          status: 'sent',
          attempts: item.attempts + 1,
          nextAttemptAt: item.nextAttemptAt,
          lastError: null,
          sentAt: now.toISOString(),
        });
        continue;
      }
      const delay = MAIL_BACKOFF_MS[item.attempts];
      log.warn({ err: outcome, notificationId: item.id }, 'notification email not sent');
      await repo.updateMail(item.id, {
        status: delay === undefined ? 'failed' : 'pending',
        attempts: item.attempts + 1,
        nextAttemptAt: new Date(now.getTime() + (delay ?? 0)).toISOString(),
        lastError: errorCode(outcome),
        sentAt: null,
      });
    }
    return sent;
  };

  return {
    subscriber,
    handlerStatus,
    async tick() {
      const reminders = await remindSecrets();
      const late = await sendLate();
      const sent = await sendMail();
      return { reminders, late, sent };
    },
  };
}

/** A failure's code for the outbox row: the catalog's, the mail session's, or `internal`. */
function errorCode(error: unknown): string {
  if (error instanceof OutlinkError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[a-zA-Z_]{3,40}$/.test(code) ? code : 'internal';
}
