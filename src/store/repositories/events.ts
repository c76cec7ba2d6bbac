import type { Insertable, Selectable } from 'kysely';
import { prepare } from '../prepared.js';
import type { EventsTable } from '../schema.js';
import type { Executor } from './transaction.js';

/** One entry of the event log (DESIGN §8). */
export interface EventRecord {
  readonly id: string;
  readonly type: string;
  readonly at: string;
  readonly actor: string;
  readonly linkId: string | null;
  readonly connectionId: string | null;
  readonly mailServerId: string | null;
  /** Never a secret: names, ids and field names only. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** A logged event with its place in the log, which orders events of the same instant. */
export interface LoggedEvent extends EventRecord {
  readonly seq: number;
}

export interface EventQuery {
  readonly type?: string;
  readonly linkId?: string;
  /** Only events logged before this sequence number (the page before). */
  readonly beforeSeq?: number;
  readonly limit: number;
}

/** Statements on `events`. */
export interface EventRepository {
  insert(event: EventRecord): Promise<void>;
  /** Newest first. */
  list(query: EventQuery): Promise<LoggedEvent[]>;
  /** Deletes up to `limit` events recorded before `cutoff`, oldest first; returns how many. */
  deleteBefore(cutoff: string, limit: number): Promise<number>;
}

// Every event goes through it: the handler writes one per issue and comment (issue 10).
const insertEvent = prepare((db, row: Insertable<EventsTable>) =>
  db.insertInto('events').values(row),
);

export function createEventRepository(db: Executor): EventRepository {
  return {
    async insert(event) {
      await insertEvent(db, {
        id: event.id,
        type: event.type,
        at: event.at,
        actor: event.actor,
        link_id: event.linkId,
        connection_id: event.connectionId,
        mail_server_id: event.mailServerId,
        data: JSON.stringify(event.data),
      });
    },
    async deleteBefore(cutoff, limit) {
      // By `seq`, oldest first, a batch at a time: a short statement each, however many there are.
      const result = await db
        .deleteFrom('events')
        .where('seq', 'in', (eb) =>
          eb
            .selectFrom('events')
            .select('seq')
            .where('at', '<', cutoff)
            .orderBy('seq')
            .limit(limit),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async list(query) {
      let q = db.selectFrom('events').selectAll().orderBy('seq', 'desc').limit(query.limit);
      if (query.type) q = q.where('type', '=', query.type);
      if (query.linkId) q = q.where('link_id', '=', query.linkId);
      if (query.beforeSeq !== undefined) q = q.where('seq', '<', query.beforeSeq);
      return (await q.execute()).map(toRecord);
    },
  };
}

function toRecord(row: Selectable<EventsTable>): LoggedEvent {
  return {
    id: row.id,
    seq: Number(row.seq),
    type: row.type,
    at: row.at,
    actor: row.actor,
    linkId: row.link_id,
    connectionId: row.connection_id,
    mailServerId: row.mail_server_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}
