import type { Kysely, Selectable } from 'kysely';
import type { Actor } from '../domain/actor.js';
import { OutlinkError } from '../domain/errors.js';
import type { ConnectionJson } from '../schemas/connections.js';
import type { ConnectionsTable, Database } from '../store/schema.js';
import type { StoredError, TokenService } from '../tokens/token-service.js';
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
}

export function toConnectionView(row: Selectable<ConnectionsTable>): ConnectionView {
  return {
    id: row.id,
    linkId: row.link_id,
    account: row.account,
    status: row.status,
    expiresAt: row.expires_at,
    scopes: JSON.parse(row.scopes) as string[],
    lastRefreshedAt: row.last_refreshed_at,
    ...(row.last_error ? { lastError: JSON.parse(row.last_error) as StoredError } : {}),
    createdAt: row.created_at,
  };
}

export function createConnectionService(deps: {
  db: Kysely<Database>;
  events: EventService;
  tokens: TokenService;
}): ConnectionService {
  const { db, events, tokens } = deps;
  const load = async (id: string) => {
    const row = await db
      .selectFrom('connections')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new OutlinkError('connection_not_found', { id });
    return row;
  };
  const service: ConnectionService = {
    async list(linkId) {
      const link = await db
        .selectFrom('links')
        .select('id')
        .where('id', '=', linkId)
        .executeTakeFirst();
      if (!link) throw new OutlinkError('link_not_found', { id: linkId });
      const rows = await db
        .selectFrom('connections')
        .selectAll()
        .where('link_id', '=', linkId)
        .orderBy('created_at')
        .execute();
      return rows.map(toConnectionView);
    },
    get: async (id) => toConnectionView(await load(id)),
    async remove(actor, id) {
      const row = await load(id);
      await db.transaction().execute(async (trx) => {
        // A connection mail servers authenticate with is not deleted (DESIGN §4).
        const users = await mailServersUsing(trx, [id]);
        if (users.length > 0) throw inUseError('connection_in_use', users);
        await trx.deleteFrom('connections').where('id', '=', id).execute();
        await events.record(trx, {
          type: 'connection.deleted',
          actor,
          linkId: row.link_id,
          connectionId: id,
          data: { account: row.account },
        });
      });
    },
    async refresh(actor, id) {
      await load(id);
      await tokens.refreshNow(id, actor);
      return service.get(id);
    },
    async resolveForLink(linkId, account, visible) {
      const all = await service.list(linkId);
      const rows = visible ? all.filter(visible) : all;
      if (visible && rows.length === 0) throw new OutlinkError('forbidden');
      if (account !== undefined) {
        const hit = rows.find((r) => r.account.toLowerCase() === account.toLowerCase());
        if (hit) return hit;
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
  };
  return service;
}
