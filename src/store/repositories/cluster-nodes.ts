import type { Kysely } from 'kysely';
import type { ClusterNodesTable, Database } from '../schema.js';

export type ClusterNodeRow = ClusterNodesTable;

/** A lease a node holds: its name (`refresh:<connection>`, `mail-handler:<mail server>`). */
export interface HeldLease {
  readonly name: string;
  readonly owner: string;
  readonly expiresAt: string;
}

/** The `cluster_nodes` table, and the leases each node holds. */
export interface ClusterNodesRepository {
  register(row: ClusterNodeRow): Promise<void>;
  /** Renews the heartbeat; false when the row is gone (deleted by an admin, say). */
  heartbeat(id: string, at: string): Promise<boolean>;
  markStopped(id: string, at: string): Promise<void>;
  /** Every node, newest start first; `since` drops the ones stopped or silent before it. */
  list(since: string): Promise<ClusterNodeRow[]>;
  /** Nodes that heartbeat after `since` and have not stopped. */
  alive(since: string): Promise<ClusterNodeRow[]>;
  /** The unexpired leases held by any of `owners`. */
  leasesHeldBy(owners: readonly string[], now: string): Promise<HeldLease[]>;
}

export function createClusterNodesRepository(db: Kysely<Database>): ClusterNodesRepository {
  return {
    async register(row) {
      await db.insertInto('cluster_nodes').values(row).execute();
    },
    async heartbeat(id, at) {
      const result = await db
        .updateTable('cluster_nodes')
        .set({ last_heartbeat_at: at })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async markStopped(id, at) {
      await db
        .updateTable('cluster_nodes')
        .set({ stopped_at: at, last_heartbeat_at: at })
        .where('id', '=', id)
        .execute();
    },
    list(since) {
      return db
        .selectFrom('cluster_nodes')
        .selectAll()
        .where('last_heartbeat_at', '>=', since)
        .orderBy('started_at', 'desc')
        .orderBy('id')
        .execute();
    },
    alive(since) {
      return db
        .selectFrom('cluster_nodes')
        .selectAll()
        .where('last_heartbeat_at', '>=', since)
        .where('stopped_at', 'is', null)
        .execute();
    },
    async leasesHeldBy(owners, now) {
      if (owners.length === 0) return [];
      const rows = await db
        .selectFrom('leases')
        .select(['name', 'owner', 'expires_at'])
        .where('owner', 'in', [...owners])
        .where('expires_at', '>', now)
        .orderBy('name')
        .execute();
      return rows.map((r) => ({ name: r.name, owner: r.owner, expiresAt: r.expires_at }));
    },
  };
}
