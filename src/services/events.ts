import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type Actor, actorLabel } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import type { EventType } from '../domain/events.js';
import type { EventView } from '../schemas/events.js';
import type { Database } from '../store/schema.js';

export interface NewEvent {
  type: EventType;
  actor: Actor;
  linkId?: string;
  connectionId?: string;
  mailServerId?: string;
  /** Never a secret: callers pass names, ids and field names only. */
  data?: Record<string, unknown>;
}

export interface EventFilter {
  type?: string;
  linkId?: string;
  limit: number;
  cursor?: number;
}

export interface EventService {
  /** Writes an event, inside the caller's transaction when `db` is one. */
  record(db: Kysely<Database>, event: NewEvent): Promise<void>;
  list(filter: EventFilter): Promise<{ items: EventView[]; nextCursor?: string }>;
}

/** Called inside the recording transaction, e.g. to queue webhook deliveries with the event. */
export type EventSubscriber = (db: Kysely<Database>, event: EventView) => Promise<void>;

export function createEventService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  subscribers?: readonly EventSubscriber[];
}): EventService {
  return {
    async record(db, event) {
      const view: EventView = {
        id: randomUUID(),
        type: event.type,
        at: deps.clock.now().toISOString(),
        actor: actorLabel(event.actor),
        ...(event.linkId ? { linkId: event.linkId } : {}),
        ...(event.connectionId ? { connectionId: event.connectionId } : {}),
        ...(event.mailServerId ? { mailServerId: event.mailServerId } : {}),
        data: event.data ?? {},
      };
      await db
        .insertInto('events')
        .values({
          id: view.id,
          type: view.type,
          at: view.at,
          actor: view.actor,
          link_id: view.linkId ?? null,
          connection_id: view.connectionId ?? null,
          mail_server_id: view.mailServerId ?? null,
          data: JSON.stringify(view.data),
        })
        .execute();
      for (const subscriber of deps.subscribers ?? []) await subscriber(db, view);
    },
    async list(filter) {
      let q = deps.db
        .selectFrom('events')
        .selectAll()
        .orderBy('seq', 'desc')
        .limit(filter.limit + 1);
      if (filter.type) q = q.where('type', '=', filter.type);
      if (filter.linkId) q = q.where('link_id', '=', filter.linkId);
      if (filter.cursor !== undefined) q = q.where('seq', '<', filter.cursor);
      const rows = await q.execute();
      const page = rows.slice(0, filter.limit);
      const items = page.map((r) => ({
        id: r.id,
        type: r.type,
        at: r.at,
        actor: r.actor,
        ...(r.link_id ? { linkId: r.link_id } : {}),
        ...(r.connection_id ? { connectionId: r.connection_id } : {}),
        ...(r.mail_server_id ? { mailServerId: r.mail_server_id } : {}),
        data: JSON.parse(r.data) as Record<string, unknown>,
      }));
      const last = page.at(-1);
      return rows.length > filter.limit && last
        ? { items, nextCursor: Buffer.from(String(last.seq)).toString('base64url') }
        : { items };
    },
  };
}

/** Decodes a cursor produced by `list`; undefined when it is not one. */
export function decodeEventCursor(cursor: string): number | undefined {
  const n = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
