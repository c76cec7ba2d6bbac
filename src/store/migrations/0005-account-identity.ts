import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Issue 11: a connection is the account of an identity, not of an email address. `identity`
 * keys it within its link — the ID token's issuer and `sub` (Microsoft: `tid` and `oid`), or
 * `label:<label>` for an account the administrator named — and `account` stays as its display
 * name, so two identities sharing an email claim are two connections. Rows from before are
 * backfilled where the identity is known without an ID token (no `issuer`: the account is the
 * administrator's label); the others take their identity at their next authorization.
 *
 * Links get an optional RFC 7009 revocation endpoint, used when a connection is deleted.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') {
    await sql`alter table connections drop constraint connections_link_account`.execute(db);
  } else {
    await rebuildWithoutAccountKey(db);
  }
  await db.schema.alterTable('connections').addColumn('identity', 'text').execute();
  await db.schema
    .createIndex('connections_link_identity')
    .on('connections')
    .columns(['link_id', 'identity'])
    .unique()
    .execute();
  await db.schema
    .createIndex('connections_link_account')
    .on('connections')
    .columns(['link_id', 'account'])
    .execute();
  await sql`update connections set identity = 'label:' || lower(account) where issuer is null`.execute(
    db,
  );
  await db.schema.alterTable('links').addColumn('revocation_endpoint', 'text').execute();
}

/**
 * SQLite cannot drop a table constraint: the table is rebuilt from its own stored definition
 * minus the constraint (the procedure of https://sqlite.org/lang_altertable.html §7), with
 * foreign keys off so that the mail servers' references follow the renamed table.
 */
async function rebuildWithoutAccountKey(db: Kysely<unknown>): Promise<void> {
  const objects = await sql<{ type: string; sql: string | null }>`
    select type, sql from sqlite_master where tbl_name = 'connections'`.execute(db);
  const table = objects.rows.find((r) => r.type === 'table')?.sql ?? '';
  const indexes = objects.rows.filter((r) => r.type === 'index' && r.sql).map((r) => r.sql!);
  const rebuilt = table
    .replace(/,\s*constraint\s+"?connections_link_account"?\s+unique\s*\([^)]*\)/i, '')
    .replace(/^create table\s+"?connections"?/i, 'create table "connections_rebuilt"');
  if (rebuilt === table || /connections_link_account/i.test(rebuilt)) {
    throw new Error('0005: the connections table does not have the expected definition');
  }
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await sql.raw(rebuilt).execute(db);
    await sql`insert into connections_rebuilt select * from connections`.execute(db);
    await sql`drop table connections`.execute(db);
    await sql`alter table connections_rebuilt rename to connections`.execute(db);
    for (const index of indexes) await sql.raw(index).execute(db);
    const broken = await sql`pragma foreign_key_check`.execute(db);
    if (broken.rows.length > 0) throw new Error('0005: foreign keys broken by the rebuild');
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
}
