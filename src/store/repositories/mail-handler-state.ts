import { type Selectable, sql } from 'kysely';
import { HANDLER_DEFAULTS } from '../../domain/mail-handler-settings.js';
import type { MailHandlerStateTable } from '../schema.js';
import type { Executor } from './transaction.js';

/** Where a mailbox's handler stands. */
export type HandlerStatus = 'idle' | 'running' | 'failed' | 'waiting_reauthorization' | 'paused';

/** What a run did (DESIGN §8 `POST …/poll`). */
export interface HandlerCounts {
  readonly fetched: number;
  readonly created: number;
  readonly commented: number;
  readonly skipped: number;
  readonly failed: number;
}

export interface HandlerStateRecord {
  readonly mailServerId: string;
  readonly status: HandlerStatus;
  readonly lastRunAt: string | null;
  readonly lastSuccessAt: string | null;
  readonly nextRunAt: string;
  /** The catalog code of the last failure. */
  readonly lastError: string | null;
  readonly lastCounts: HandlerCounts | null;
  readonly uidValidity: string | null;
  readonly updatedAt: string;
}

/** A mail server's settings as the handler reads them. */
export interface HandlerSettingsRecord {
  readonly id: string;
  readonly name: string;
  readonly protocol: 'imap' | 'pop3' | 'smtp';
  readonly username: string;
  readonly enabled: boolean;
  readonly issueKeyPrefix: string;
  readonly defaultReporter: string | null;
  readonly maxMessageBytes: number;
  readonly ackMailServerId: string | null;
  readonly errorFolder: string | null;
  readonly folder: string | null;
  readonly pollIntervalSeconds: number;
  readonly processedAction: 'seen' | 'move' | 'delete';
  readonly processedFolder: string | null;
  /** The status of the connection it authenticates with (`oauth2`), else null. */
  readonly connectionStatus: string | null;
}

/** An incoming mail server's handler switch and state row (none before its first run). */
export interface HandlerOverviewRecord {
  readonly mailServerId: string;
  readonly enabled: boolean;
  readonly state: HandlerStateRecord | undefined;
}

/** Statements on `mail_handler_state`, and the handler's reading of `mail_servers`. */
export interface MailHandlerStateRepository {
  settings(mailServerId: string): Promise<HandlerSettingsRecord | undefined>;
  state(mailServerId: string): Promise<HandlerStateRecord | undefined>;
  /** The incoming mail servers among `mailServerIds` (a page of a list), in one statement. */
  overview(mailServerIds: readonly string[]): Promise<HandlerOverviewRecord[]>;
  /** Inserts or replaces the state row. */
  save(state: HandlerStateRecord): Promise<void>;
  /**
   * Enabled incoming mail servers whose next run is due at `now` (or that never ran), those
   * waiting for a re-authorization of their connection that has happened since, and those
   * left `running` by a run whose lease (`<runLeasePrefix><id>`) is gone or has run out: its
   * holder died mid-run, and the mailbox moves now rather than at its next poll.
   */
  due(now: string, limit: number, runLeasePrefix: string): Promise<string[]>;
  /** Enabled incoming mail servers of these protocols. */
  enabled(protocols: readonly ('imap' | 'pop3')[]): Promise<string[]>;
  /** Every issue key prefix in use: a subject may name an issue of any mailbox. */
  prefixes(): Promise<string[]>;
}

export function createMailHandlerStateRepository(db: Executor): MailHandlerStateRepository {
  return {
    async settings(mailServerId) {
      const row = await db
        .selectFrom('mail_servers')
        .leftJoin('connections', 'connections.id', 'mail_servers.connection_id')
        .select([
          'mail_servers.id as id',
          'mail_servers.name as name',
          'mail_servers.protocol as protocol',
          'mail_servers.username as username',
          'mail_servers.handler_enabled as enabled',
          'mail_servers.issue_key_prefix as prefix',
          'mail_servers.default_reporter as defaultReporter',
          'mail_servers.max_message_bytes as maxMessageBytes',
          'mail_servers.ack_mail_server_id as ackMailServerId',
          'mail_servers.error_folder as errorFolder',
          'mail_servers.folder as folder',
          'mail_servers.poll_interval_seconds as pollIntervalSeconds',
          'mail_servers.processed_action as processedAction',
          'mail_servers.processed_folder as processedFolder',
          'connections.status as connectionStatus',
        ])
        .where('mail_servers.id', '=', mailServerId)
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        id: row.id,
        name: row.name,
        protocol: row.protocol as HandlerSettingsRecord['protocol'],
        username: row.username,
        enabled: Number(row.enabled) === 1,
        issueKeyPrefix: row.prefix ?? HANDLER_DEFAULTS.issueKeyPrefix,
        defaultReporter: row.defaultReporter,
        maxMessageBytes: row.maxMessageBytes ?? HANDLER_DEFAULTS.maxMessageBytes,
        ackMailServerId: row.ackMailServerId,
        errorFolder: row.errorFolder,
        folder: row.folder,
        pollIntervalSeconds: row.pollIntervalSeconds ?? 300,
        processedAction: (row.processedAction ??
          'seen') as HandlerSettingsRecord['processedAction'],
        processedFolder: row.processedFolder,
        connectionStatus: row.connectionStatus ?? null,
      };
    },

    async state(mailServerId) {
      const row = await db
        .selectFrom('mail_handler_state')
        .selectAll()
        .where('mail_server_id', '=', mailServerId)
        .executeTakeFirst();
      return row && toState(row);
    },

    async overview(mailServerIds) {
      if (mailServerIds.length === 0) return [];
      const rows = await db
        .selectFrom('mail_servers')
        .leftJoin('mail_handler_state', 'mail_handler_state.mail_server_id', 'mail_servers.id')
        .select([
          'mail_servers.id as id',
          'mail_servers.handler_enabled as enabled',
          'mail_handler_state.mail_server_id as mail_server_id',
          'mail_handler_state.status as status',
          'mail_handler_state.last_run_at as last_run_at',
          'mail_handler_state.last_success_at as last_success_at',
          'mail_handler_state.next_run_at as next_run_at',
          'mail_handler_state.last_error as last_error',
          'mail_handler_state.last_counts as last_counts',
          'mail_handler_state.uid_validity as uid_validity',
          'mail_handler_state.updated_at as updated_at',
        ])
        .where('mail_servers.id', 'in', [...mailServerIds])
        .where('mail_servers.protocol', 'in', ['imap', 'pop3'])
        .execute();
      return rows.map((row) => ({
        mailServerId: row.id,
        enabled: Number(row.enabled) === 1,
        state:
          row.mail_server_id === null || row.status === null || row.next_run_at === null
            ? undefined
            : toState({
                ...row,
                mail_server_id: row.mail_server_id,
                status: row.status,
                next_run_at: row.next_run_at,
                updated_at: row.updated_at ?? row.next_run_at,
              }),
      }));
    },

    async save(s) {
      const values = {
        mail_server_id: s.mailServerId,
        status: s.status,
        last_run_at: s.lastRunAt,
        last_success_at: s.lastSuccessAt,
        next_run_at: s.nextRunAt,
        last_error: s.lastError,
        last_counts: s.lastCounts ? JSON.stringify(s.lastCounts) : null,
        uid_validity: s.uidValidity,
        updated_at: s.updatedAt,
      };
      const { mail_server_id: _, ...rest } = values;
      await db
        .insertInto('mail_handler_state')
        .values(values)
        .onConflict((oc) => oc.column('mail_server_id').doUpdateSet(rest))
        .execute();
    },

    async due(now, limit, runLeasePrefix) {
      const rows = await db
        .selectFrom('mail_servers')
        .leftJoin('mail_handler_state', 'mail_handler_state.mail_server_id', 'mail_servers.id')
        .leftJoin('connections', 'connections.id', 'mail_servers.connection_id')
        .leftJoin('leases', (join) =>
          join.onRef(
            'leases.name',
            '=',
            sql<string>`cast(${runLeasePrefix} as text) || ${sql.ref('mail_servers.id')}`,
          ),
        )
        .select('mail_servers.id as id')
        .where('mail_servers.handler_enabled', '=', 1)
        .where('mail_servers.protocol', 'in', ['imap', 'pop3'])
        .where((eb) =>
          eb.or([
            eb('mail_handler_state.next_run_at', 'is', null),
            eb('mail_handler_state.next_run_at', '<=', now),
            // Waiting for a re-authorization that has happened since: at once, not at the
            // next interval.
            eb.and([
              eb('mail_handler_state.status', '=', 'waiting_reauthorization'),
              eb('connections.status', '!=', 'reauthorization_required'),
            ]),
            // A run that died with its holder (issue 14: a killed cluster node).
            eb.and([
              eb('mail_handler_state.status', '=', 'running'),
              eb.or([eb('leases.name', 'is', null), eb('leases.expires_at', '<=', now)]),
            ]),
          ]),
        )
        .orderBy('mail_handler_state.next_run_at')
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },

    async enabled(protocols) {
      if (protocols.length === 0) return [];
      const rows = await db
        .selectFrom('mail_servers')
        .select('id')
        .where('handler_enabled', '=', 1)
        .where('protocol', 'in', [...protocols])
        .orderBy('name_key')
        .execute();
      return rows.map((r) => r.id);
    },

    async prefixes() {
      const rows = await db
        .selectFrom('mail_servers')
        .select('issue_key_prefix')
        .distinct()
        .where('protocol', 'in', ['imap', 'pop3'])
        .execute();
      const found = new Set(rows.map((r) => r.issue_key_prefix ?? HANDLER_DEFAULTS.issueKeyPrefix));
      return [...found].sort();
    },
  };
}

function toState(row: Selectable<MailHandlerStateTable>): HandlerStateRecord {
  return {
    mailServerId: row.mail_server_id,
    status: row.status as HandlerStatus,
    lastRunAt: row.last_run_at,
    lastSuccessAt: row.last_success_at,
    nextRunAt: row.next_run_at,
    lastError: row.last_error,
    lastCounts: row.last_counts ? (JSON.parse(row.last_counts) as HandlerCounts) : null,
    uidValidity: row.uid_validity,
    updatedAt: row.updated_at,
  };
}
