import { randomUUID } from 'node:crypto';
import { type Actor, actorLabel } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import type { EventType } from '../domain/events.js';
import type { EventView } from '../schemas/events.js';
import { createEventRepository, type LoggedEvent } from '../store/repositories/events.js';
import type { Executor } from '../store/repositories/transaction.js';

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
  record(db: Executor, event: NewEvent): Promise<void>;
  list(filter: EventFilter): Promise<{ items: EventView[]; nextCursor?: string }>;
}

/** Called inside the recording transaction, e.g. to queue webhook deliveries with the event. */
export type EventSubscriber = (db: Executor, event: EventView) => Promise<void>;

export function createEventService(deps: {
  db: Executor;
  clock: Clock;
  subscribers?: readonly EventSubscriber[];
}): EventService {
  const log = createEventRepository(deps.db);
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
      await createEventRepository(db).insert({
        id: view.id,
        type: view.type,
        at: view.at,
        actor: view.actor,
        linkId: view.linkId ?? null,
        connectionId: view.connectionId ?? null,
        mailServerId: view.mailServerId ?? null,
        data: view.data,
      });
      for (const subscriber of deps.subscribers ?? []) await subscriber(db, view);
    },
    async list(filter) {
      const records = await log.list({
        ...(filter.type ? { type: filter.type } : {}),
        ...(filter.linkId ? { linkId: filter.linkId } : {}),
        ...(filter.cursor !== undefined ? { beforeSeq: filter.cursor } : {}),
        limit: filter.limit + 1,
      });
      const page = records.slice(0, filter.limit);
      const items = page.map(toView);
      const last = page.at(-1);
      return records.length > filter.limit && last
        ? { items, nextCursor: Buffer.from(String(last.seq)).toString('base64url') }
        : { items };
    },
  };
}

function toView(r: LoggedEvent): EventView {
  return {
    id: r.id,
    type: r.type,
    at: r.at,
    actor: r.actor,
    ...(r.linkId ? { linkId: r.linkId } : {}),
    ...(r.connectionId ? { connectionId: r.connectionId } : {}),
    ...(r.mailServerId ? { mailServerId: r.mailServerId } : {}),
    data: { ...r.data },
  };
}

/** Decodes a cursor produced by `list`; undefined when it is not one. */
export function decodeEventCursor(cursor: string): number | undefined {
  const n = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
