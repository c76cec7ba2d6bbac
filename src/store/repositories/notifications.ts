import type { Executor } from './transaction.js';

/** A subject's row: the state last seen and the state the administrators were last told. */
export interface NoticeStateRecord {
  readonly subject: string;
  readonly state: string;
  readonly notifiedState: string | null;
  readonly notifiedAt: string | null;
  /** The last bad-state event, as recorded (secret-free). */
  readonly event: Record<string, unknown> | null;
}

/** An email owed to the administrators. */
export interface NoticeMailRecord {
  readonly id: string;
  readonly kind: string;
  readonly data: Record<string, unknown>;
  readonly status: 'pending' | 'sent' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly sentAt: string | null;
}

/** A link whose client secret has an expiry date. */
export interface ExpiringSecretRecord {
  readonly linkId: string;
  readonly linkName: string;
  readonly expiresAt: string;
}

/** Statements on `notification_state`, `notification_windows` and `notification_outbox`. */
export interface NotificationRepository {
  /** The subject's row before this call; records `state` (and `event` when given) as current. */
  observe(
    subject: string,
    state: string,
    event: Record<string, unknown> | null,
    now: string,
  ): Promise<NoticeStateRecord | undefined>;
  /**
   * Claims the notice of `state` for `subject`: true when none was sent at or after `cutoff`
   * (then it is recorded as sent at `now`). One statement, so two processes never both win.
   */
  claimWindow(subject: string, state: string, now: string, cutoff: string): Promise<boolean>;
  /** Records `state` as told, unless it already was; true when this call changed it. */
  markNotified(subject: string, state: string, now: string): Promise<boolean>;
  /** Subjects in a bad state the administrators have not been told of yet. */
  untold(okState: string, limit: number): Promise<NoticeStateRecord[]>;
  /** Links with a client secret expiry date. */
  expiringSecrets(): Promise<ExpiringSecretRecord[]>;
  queueMail(record: NoticeMailRecord): Promise<void>;
  dueMail(now: string, limit: number): Promise<NoticeMailRecord[]>;
  updateMail(
    id: string,
    change: Pick<
      NoticeMailRecord,
      'status' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'sentAt'
    >,
  ): Promise<void>;
}

export function createNotificationRepository(db: Executor): NotificationRepository {
  const toState = (row: {
    subject: string;
    state: string;
    notified_state: string | null;
    notified_at: string | null;
    event: string | null;
  }): NoticeStateRecord => ({
    subject: row.subject,
    state: row.state,
    notifiedState: row.notified_state,
    notifiedAt: row.notified_at,
    event: row.event ? (JSON.parse(row.event) as Record<string, unknown>) : null,
  });
  return {
    async observe(subject, state, event, now) {
      const before = await db
        .selectFrom('notification_state')
        .selectAll()
        .where('subject', '=', subject)
        .executeTakeFirst();
      const json = event ? JSON.stringify(event) : null;
      await db
        .insertInto('notification_state')
        .values({ subject, state, notified_state: null, event: json, updated_at: now })
        .onConflict((oc) =>
          oc
            .column('subject')
            .doUpdateSet(
              json ? { state, event: json, updated_at: now } : { state, updated_at: now },
            ),
        )
        .execute();
      return before && toState(before);
    },
    async claimWindow(subject, state, now, cutoff) {
      const result = await db
        .insertInto('notification_windows')
        .values({ subject, state, sent_at: now })
        .onConflict((oc) =>
          oc
            .columns(['subject', 'state'])
            .doUpdateSet({ sent_at: now })
            .where('notification_windows.sent_at', '<=', cutoff),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async markNotified(subject, state, now) {
      const result = await db
        .updateTable('notification_state')
        .set({ notified_state: state, notified_at: now })
        .where('subject', '=', subject)
        .where((eb) => eb.or([eb('notified_state', 'is', null), eb('notified_state', '<>', state)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async untold(okState, limit) {
      const rows = await db
        .selectFrom('notification_state')
        .selectAll()
        .where('state', '<>', okState)
        .where((eb) =>
          eb.or([eb('notified_state', 'is', null), eb('notified_state', '<>', eb.ref('state'))]),
        )
        .orderBy('updated_at')
        .limit(limit)
        .execute();
      return rows.map(toState);
    },
    async expiringSecrets() {
      const rows = await db
        .selectFrom('links')
        .select(['id', 'name', 'client_secret_expires_at'])
        .where('client_secret_expires_at', 'is not', null)
        .execute();
      return rows.map((r) => ({
        linkId: r.id,
        linkName: r.name,
        expiresAt: r.client_secret_expires_at as string,
      }));
    },
    async queueMail(r) {
      await db
        .insertInto('notification_outbox')
        .values({
          id: r.id,
          kind: r.kind,
          data: JSON.stringify(r.data),
          status: r.status,
          attempts: r.attempts,
          next_attempt_at: r.nextAttemptAt,
          last_error: r.lastError,
          created_at: r.createdAt,
          sent_at: r.sentAt,
        })
        .execute();
    },
    async dueMail(now, limit) {
      const rows = await db
        .selectFrom('notification_outbox')
        .selectAll()
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('created_at')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        data: JSON.parse(r.data) as Record<string, unknown>,
        status: r.status,
        attempts: r.attempts,
        nextAttemptAt: r.next_attempt_at,
        lastError: r.last_error,
        createdAt: r.created_at,
        sentAt: r.sent_at,
      }));
    },
    async updateMail(id, c) {
      await db
        .updateTable('notification_outbox')
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
  };
}
