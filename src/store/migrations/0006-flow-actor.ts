import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Issue 11: an authorization is bound to the actor who started it. A flow records who that
 * was (`actor_kind`, `actor_id`: a user's or an API token's id; `actor` stays the display
 * label). A flow started without a browser session (API token, CLI) gets a one-time start
 * URL: `start_hash` is the hash of its secret, `authorization_url_enc` the provider's
 * authorization URL it redirects to (encrypted: it carries the state), `started_at` when it
 * was opened (once), and `binding_hash` the hash of the flow-binding cookie it set there,
 * which the callback must present.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  for (const column of [
    'actor_kind',
    'actor_id',
    'start_hash',
    'authorization_url_enc',
    'binding_hash',
    'started_at',
  ]) {
    await db.schema.alterTable('authorization_flows').addColumn(column, 'text').execute();
  }
  await db.schema
    .createIndex('authorization_flows_start_hash')
    .on('authorization_flows')
    .column('start_hash')
    .unique()
    .execute();
}
