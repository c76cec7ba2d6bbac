import { Aad } from '../crypto/aad.js';
import type { Cipher } from '../crypto/cipher.js';
import type { Actor } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import type { Fetch } from '../oauth/discovery.js';
import { OAuthFailure, revokeRefreshToken } from '../oauth/token-client.js';
import { presetFor } from '../providers/registry.js';
import type { ConnectionRecord } from '../store/repositories/connections.js';
import { createLinkRepository, type LinkRecord } from '../store/repositories/links.js';
import type { Executor } from '../store/repositories/transaction.js';
import type { RevocationOutcome } from './connections.js';
import type { EventService } from './events.js';

/**
 * Revokes a connection's grant; `link` is given when the caller already holds it (a link
 * being deleted is gone from the database by the time its grants are revoked).
 */
export type Revoker = (
  connection: ConnectionRecord,
  link?: LinkRecord,
) => Promise<RevocationOutcome>;

/** What revoking the grants of deleted connections came to, as a whole. */
export interface RevocationSummary {
  /**
   * `revoked`: every grant revoked; `unsupported`: the provider has no revocation endpoint,
   * the grants stay alive there; `failed`: at least one revocation failed (each is an event);
   * `nothing_to_revoke`: no connection held a refresh token.
   */
  readonly status: 'revoked' | 'unsupported' | 'failed' | 'nothing_to_revoke';
  readonly revoked: number;
  readonly failed: number;
}

/** How many revocations run at once when a link with many connections is deleted. */
const REVOCATION_CONCURRENCY = 4;

/**
 * After connections were deleted (one, or all of a deleted link's), revokes their grants,
 * a few at a time, and records each failure as `connection.revocation_failed`. Never throws
 * for a provider's failure: the deletion stands either way.
 */
export async function revokeDeleted(
  deps: { revoke?: Revoker | undefined; events: EventService; db: Executor },
  actor: Actor,
  deleted: readonly ConnectionRecord[],
  link?: LinkRecord,
): Promise<RevocationSummary> {
  const outcomes: RevocationOutcome[] = [];
  const queue = [...deleted];
  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      const outcome = deps.revoke
        ? await deps.revoke(row, link)
        : ({ status: 'unsupported' } as const);
      outcomes.push(outcome);
      if (outcome.status !== 'failed') continue;
      await deps.events.record(deps.db, {
        type: 'connection.revocation_failed',
        actor,
        linkId: row.linkId,
        connectionId: row.id,
        data: { account: row.account, reason: outcome.reason },
      });
    }
  };
  await Promise.all(Array.from({ length: REVOCATION_CONCURRENCY }, worker));
  const count = (status: RevocationOutcome['status']) =>
    outcomes.filter((o) => o.status === status).length;
  const revoked = count('revoked');
  const failed = count('failed');
  if (failed > 0) return { status: 'failed', revoked, failed };
  if (count('unsupported') > 0) return { status: 'unsupported', revoked, failed };
  if (revoked > 0) return { status: 'revoked', revoked, failed };
  return { status: 'nothing_to_revoke', revoked, failed };
}

/** Where a link's refresh tokens are revoked: its own endpoint, else its preset's, else none. */
export function revocationEndpointOf(
  link: Pick<LinkRecord, 'provider' | 'revocationEndpoint'>,
): string | undefined {
  return link.revocationEndpoint ?? presetFor(link.provider).revocationEndpoint;
}

/**
 * Issue 11: a deleted connection's grant does not stay alive at the provider. Its refresh
 * token is revoked (RFC 7009) where the provider has a revocation endpoint (Google does;
 * Microsoft does not); what happened is returned, never thrown.
 */
export function createRevoker(deps: {
  db: Executor;
  cipher: Cipher;
  clock: Clock;
  fetch: Fetch;
  timeoutMs?: number;
}): Revoker {
  const { cipher } = deps;
  return async (connection, given) => {
    const link = given ?? (await createLinkRepository(deps.db).findById(connection.linkId));
    const endpoint = link && revocationEndpointOf(link);
    if (!link || !endpoint) return { status: 'unsupported' };
    if (!connection.refreshTokenEnc) return { status: 'nothing_to_revoke' };
    try {
      await revokeRefreshToken(
        { fetch: deps.fetch, clock: deps.clock, timeoutMs: deps.timeoutMs ?? 10_000 },
        {
          id: link.id,
          clientId: link.clientId,
          clientSecret: cipher.decrypt(link.clientSecretEnc, Aad.linkClientSecret(link.id)),
          clientAuthMethod: link.clientAuthMethod,
          authorizationEndpoint: link.authorizationEndpoint,
          tokenEndpoint: link.tokenEndpoint,
          issuer: link.issuer,
        },
        endpoint,
        cipher.decrypt(connection.refreshTokenEnc, Aad.refreshToken(connection.id)),
      );
      return { status: 'revoked' };
    } catch (error) {
      if (error instanceof OAuthFailure) return { status: 'failed', reason: error.entry.id };
      return { status: 'failed', reason: 'unknown_provider_error' };
    }
  };
}
