import { OutlinkError } from './errors.js';

/**
 * What an API token may do: everything, read the tokens of what it was granted, or read the
 * Prometheus metrics (`/metrics`, issue 13).
 */
export const ApiTokenScopes = ['admin', 'token:read', 'metrics:read'] as const;
export type ApiTokenScope = (typeof ApiTokenScopes)[number];

/** Who did something, as the event log records it. */
export type Actor =
  | { readonly kind: 'user'; readonly id: string; readonly name: string }
  | {
      readonly kind: 'api-token';
      readonly id: string;
      readonly name: string;
      readonly scopes: readonly string[];
      readonly linkIds: readonly string[];
      readonly connectionIds: readonly string[];
    }
  | { readonly kind: 'cli' }
  | { readonly kind: 'system' };

export function actorLabel(actor: Actor): string {
  switch (actor.kind) {
    case 'user':
      return actor.name;
    case 'api-token':
      return `api-token:${actor.name}`;
    case 'cli':
      return 'cli';
    case 'system':
      return 'system';
  }
}

export function isAdmin(actor: Actor): boolean {
  return actor.kind !== 'api-token' || actor.scopes.includes('admin');
}

/** An administrator, or an API token with the `metrics:read` scope. */
export function mayReadMetrics(actor: Actor): boolean {
  return isAdmin(actor) || (actor.kind === 'api-token' && actor.scopes.includes('metrics:read'));
}

/** `token:read` reaches the connections and links it was granted; an administrator all. */
export function mayReadToken(
  actor: Actor,
  connection: { readonly id: string; readonly linkId: string },
): boolean {
  if (isAdmin(actor)) return true;
  return (
    actor.kind === 'api-token' &&
    actor.scopes.includes('token:read') &&
    (actor.connectionIds.includes(connection.id) || actor.linkIds.includes(connection.linkId))
  );
}

/** Refuses (`forbidden`) an actor that may not read `connection`'s token. */
export function assertMayReadToken(
  actor: Actor,
  connection: { readonly id: string; readonly linkId: string },
): void {
  if (!mayReadToken(actor, connection)) throw new OutlinkError('forbidden');
}
