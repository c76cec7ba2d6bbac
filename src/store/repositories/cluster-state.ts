import { type Kysely, sql } from 'kysely';
import type { Database } from '../schema.js';

/** The facts every node must agree on (issue 14). */
export type ClusterStateName = 'schema_version' | 'min_compatible_schema' | 'current_key_id';

/** The `cluster_state` table: one value per name. */
export interface ClusterStateRepository {
  /**
   * Every value, or undefined when the table is not there yet (a database older than
   * migration 0011, or an empty one).
   */
  readAll(): Promise<Partial<Record<ClusterStateName, string>> | undefined>;
  set(name: ClusterStateName, value: string, at: string): Promise<void>;
}

export function createClusterStateRepository(db: Kysely<Database>): ClusterStateRepository {
  return {
    async readAll() {
      // Read before migrating: the table may not exist yet, which is no error here.
      const exists = await sql<{
        n: number;
      }>`select count(*) as n from kysely_migration where name = '0011-cluster-nodes'`
        .execute(db)
        .then(
          (r) => Number(r.rows[0]?.n ?? 0) > 0,
          () => false,
        );
      if (!exists) return undefined;
      const rows = await db.selectFrom('cluster_state').select(['name', 'value']).execute();
      return Object.fromEntries(rows.map((r) => [r.name, r.value]));
    },
    async set(name, value, at) {
      await db
        .insertInto('cluster_state')
        .values({ name, value, updated_at: at })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: at }))
        .execute();
    },
  };
}
