import type { Actor } from '../domain/actor.js';
import { OutlinkError } from '../domain/errors.js';
import type { ConnectionJson } from '../schemas/connections.js';
import {
  type ConnectionRecord,
  connectionRecordOf,
  createConnectionRepository,
} from '../store/repositories/connections.js';
import { createLinkRepository } from '../store/repositories/links.js';
import { type Executor, inTransaction } from '../store/repositories/transaction.js';
import type { StoredError, TokenService } from '../tokens/token-service.js';
import { type Revoker, revokeDeleted } from './connection-revocation.js';
import type { EventService } from './events.js';
import { inUseError, mailServersUsing } from './mail-servers.js';

/**
 * A connection as the API shows it (DESIGN §8), never a token, with its last failure as
 * stored: `presenters/connections.ts` puts that into words.
 */
export type ConnectionView = Omit<ConnectionJson, 'lastError'> & { lastError?: StoredError };

export interface ConnectionService {
  list(linkId: string): Promise<ConnectionView[]>;
  get(id: string): Promise<ConnectionView>;
  remove(actor: Actor, id: string): Promise<void>;
  refresh(actor: Actor, id: string): Promise<ConnectionView>;
  /**
   * The link's only connection, or the one of `account` (DESIGN §8 link token route).
   * `visible` narrows the choice to the connections the caller may read (a `token:read`
   * token granted single connections): the others are neither chosen nor named.
   */
  resolveForLink(
    linkId: string,
    account?: string,
    visible?: (connection: ConnectionView) => boolean,
  ): Promise<ConnectionView>;
  /**
   * DESIGN §7: after a link is fixed (new client secret …), its connections that failed
   * because of the link are refreshed at once, and recover if their grants are still good.
   */
  retryLinkFailures(linkId: string): Promise<void>;
}

/** What revoking a deleted connection's grant came to. */
export type RevocationOutcome =
  | { readonly status: 'revoked' | 'unsupported' | 'nothing_to_revoke' }
  | { readonly status: 'failed'; readonly reason: string };

export function toConnectionView(row: ConnectionRecord): ConnectionView {
  return {
    id: row.id,
    linkId: row.linkId,
    account: row.account,
    status: row.status,
    expiresAt: row.expiresAt,
    scopes: [...row.scopes],
    lastRefreshedAt: row.lastRefreshedAt,
    ...(row.lastError ? { lastError: row.lastError as StoredError } : {}),
    createdAt: row.createdAt,
  };
}

export function createConnectionService(deps: {
  db: Executor;
  events: EventService;
  tokens: TokenService;
  /** Revokes a deleted connection's refresh token at its provider (RFC 7009). */
  revoke?: Revoker;
}): ConnectionService {
  const { db, events, tokens } = deps;
  const connections = createConnectionRepository(db);
  const links = createLinkRepository(db);
  const load = async (id: string) => {
    const row = await connections.findById(id);
    if (!row) throw new OutlinkError('connection_not_found', { id });
    return row;
  };
  const service: ConnectionService = {
    async list(linkId) {
      if ((await links.existingIds([linkId])).size === 0) {
        throw new OutlinkError('link_not_found', { id: linkId });
      }
      return (await connections.listOfLink(linkId)).map(toConnectionView);
    },
    get: async (id) => toConnectionView(await load(id)),
    async remove(actor, id) {
      const row = await load(id);
      await inTransaction(db, async (trx) => {
        // A connection mail servers authenticate with is not deleted (DESIGN §4).
        const users = await mailServersUsing(trx, [id]);
        if (users.length > 0) throw inUseError('connection_in_use', users);
        await createConnectionRepository(trx).delete(id);
        await events.record(trx, {
          type: 'connection.deleted',
          actor,
          linkId: row.linkId,
          connectionId: id,
          data: { account: row.account },
        });
      });
      // After the deletion, outside its transaction: a provider that fails or hangs does
      // not keep the connection, and a failure is recorded for the administrator.
      await revokeDeleted({ revoke: deps.revoke, events, db }, actor, [row]);
    },
    // The row as the refresh stored it (or as found by it): no read before or after.
    refresh: async (actor, id) =>
      toConnectionView(connectionRecordOf(await tokens.refreshNow(id, actor))),
    async resolveForLink(linkId, account, visible) {
      const all = await service.list(linkId);
      const rows = visible ? all.filter(visible) : all;
      if (visible && rows.length === 0) throw new OutlinkError('forbidden');
      if (account !== undefined) {
        const hits = rows.filter((r) => r.account.toLowerCase() === account.toLowerCase());
        // Two identities may share an account name (issue 11): the caller must pick by id.
        if (hits.length > 1) {
          throw new OutlinkError('ambiguous_connection', {
            accounts: hits.map((r) => `${r.account} (${r.id})`).join(', '),
          });
        }
        if (hits[0]) return hits[0];
        // Whether another account the caller may not read exists is not the caller's business.
        if (visible) throw new OutlinkError('forbidden');
        throw new OutlinkError('connection_not_found', { id: account });
      }
      if (rows.length === 0) throw new OutlinkError('not_authorized', { id: linkId });
      if (rows.length > 1) {
        throw new OutlinkError('ambiguous_connection', {
          accounts: rows.map((r) => r.account).join(', '),
        });
      }
      return rows[0]!;
    },
    async retryLinkFailures(linkId) {
      const failed = await connections.listReauthorizationRequired(linkId);
      const linkFaults = failed.filter((c) => c.lastError?.scope === 'link');
      await Promise.allSettled(linkFaults.map((c) => tokens.refreshNow(c.id, { kind: 'system' })));
    },
  };
  return service;
}
