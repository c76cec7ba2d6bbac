import type { TestOutlink } from '../support/harness.js';

const TABLES = ['links', 'connections', 'events', 'authorization_flows', 'mail_servers'] as const;

/** Every row of the tables diagnose could touch, sorted, to compare before and after. */
export async function snapshot(outlink: TestOutlink): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of TABLES) {
    const rows = await outlink.services.store.db.selectFrom(table).selectAll().execute();
    out[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}
