import type { Kysely } from 'kysely';
import type { Actor } from '../domain/actor.js';
import type { Database } from '../store/schema.js';

/** The events the token lifecycle reports (DESIGN §7 "Events", §8 event types). */
export type TokenEventType =
  | 'connection.refreshed'
  | 'connection.refresh_failed'
  | 'connection.recovered'
  | 'connection.reauthorization_required';

export interface TokenEvent {
  readonly type: TokenEventType;
  readonly actor: Actor;
  readonly linkId: string;
  readonly connectionId: string;
  /** Never a secret: account, catalog ids, times, HTTP status. */
  readonly data: Record<string, unknown>;
}

/**
 * Where the token lifecycle's events go. `db` is the transaction that changed the
 * connection, so an event is recorded exactly when its change is. The composition root
 * wires this to the event service (which also queues the webhooks); tokens/ knows no more.
 */
export interface TokenEventSink {
  record(db: Kysely<Database>, event: TokenEvent): Promise<void>;
}
