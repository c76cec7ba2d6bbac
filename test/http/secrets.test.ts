import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import {
  ADMIN_PASSWORD,
  Dialects,
  googleLink,
  startOutlink,
  type TestOutlink,
} from '../support/harness.js';

/** Every spelling of `value` a careless store might write: clear, base64, hex, UTF-16. */
function spellings(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  return [
    bytes,
    Buffer.from(bytes.toString('base64')),
    Buffer.from(bytes.toString('base64url')),
    Buffer.from(bytes.toString('hex')),
    Buffer.from(value, 'utf16le'),
  ];
}

function assertAbsent(haystack: Buffer, needles: readonly string[], where: string) {
  for (const needle of needles) {
    for (const spelling of spellings(needle)) {
      assert.equal(haystack.indexOf(spelling), -1, `${needle} found in ${where}`);
    }
  }
}

/** The SQLite database file and its WAL, as bytes on disk (missing files read as empty). */
function sqliteFiles(file: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const name of [file, `${file}-wal`, `${file}-shm`]) {
    out[name] = existsSync(name) ? readFileSync(name) : Buffer.alloc(0);
  }
  return out;
}

for (const dialect of Dialects) {
  describe(`secrets at rest on ${dialect}`, () => {
    let outlink: TestOutlink;
    const run = randomBytes(6).toString('hex');
    const markers = {
      created: `GOCSPX-MARKER-created-${run}`,
      second: `GOCSPX-MARKER-second-${run}`,
      updated: `GOCSPX-MARKER-updated-${run}`,
      refused: `GOCSPX-MARKER-refused-${run}`,
    };
    const other: string[] = [ADMIN_PASSWORD];

    before(async () => {
      outlink = await startOutlink(dialect);
      const headers = await outlink.adminHeaders();
      other.push(headers.cookie!.split('=')[1]!);
      const token = await outlink.tokenHeaders();
      other.push(token.authorization!.replace('Bearer ', ''));

      const create = async (clientSecret: string) => {
        const res = await outlink.app.inject({
          method: 'POST',
          url: '/api/v1/links',
          headers,
          payload: googleLink({ clientSecret }),
        });
        assert.equal(res.statusCode, 201, res.body);
        return (res.json() as { id: string }).id;
      };
      const first = await create(markers.created);
      await create(markers.second);
      const patch = await outlink.app.inject({
        method: 'PATCH',
        url: `/api/v1/links/${first}`,
        headers: token,
        payload: { clientSecret: markers.updated },
      });
      assert.equal(patch.statusCode, 200, patch.body);
      const refused = await outlink.app.inject({
        method: 'PATCH',
        url: `/api/v1/links/${first}`,
        headers: token,
        payload: { clientSecret: markers.refused, tokenEndpoint: 'http://plain.example/token' },
      });
      assert.equal(refused.statusCode, 422, refused.body);
      // The service still reads what it stored, so the markers really went in.
      assert.equal(await outlink.services.links.clientSecret(first), markers.updated);
    });
    after(() => outlink.close());

    if (dialect === 'sqlite') {
      it('never writes a client secret in clear to the database file or its WAL', async () => {
        const target = outlink.config.database;
        assert.equal(target.kind, 'sqlite');
        const file = target.kind === 'sqlite' ? target.file : '';
        const before = sqliteFiles(file);
        assert.ok(before[`${file}-wal`]!.length > 0, 'the WAL is empty: nothing to search');
        for (const [name, bytes] of Object.entries(before)) {
          assertAbsent(bytes, [...Object.values(markers), ...other], `${name} (before checkpoint)`);
        }
        // The ciphertexts, on the other hand, are there: the search looks at the right bytes.
        const row = await outlink.services.store.db
          .selectFrom('links')
          .select('client_secret_enc')
          .executeTakeFirstOrThrow();
        const all = Buffer.concat(Object.values(before));
        assert.notEqual(all.indexOf(Buffer.from(row.client_secret_enc)), -1);

        await sql`pragma wal_checkpoint(TRUNCATE)`.execute(outlink.services.store.db);
        for (const [name, bytes] of Object.entries(sqliteFiles(file))) {
          assertAbsent(bytes, [...Object.values(markers), ...other], `${name} (after checkpoint)`);
        }
        assert.notEqual(readFileSync(file).indexOf(Buffer.from(row.client_secret_enc)), -1);
      });
    } else {
      it('never stores a client secret in clear in any column of any table', async () => {
        const db = outlink.services.store.db;
        const tables = await sql<{ table_name: string }>`
          select table_name from information_schema.tables
          where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db);
        const names = tables.rows.map((t) => t.table_name);
        assert.ok(names.includes('links') && names.includes('events'), names.join(','));
        let dumped = 0;
        for (const table of names) {
          const rows = await sql<{ row: string }>`
            select row_to_json(t)::text as row from ${sql.table(table)} t`.execute(db);
          for (const { row } of rows.rows) {
            assertAbsent(Buffer.from(row), [...Object.values(markers), ...other], table);
            dumped += 1;
          }
        }
        assert.ok(dumped > 5, `only ${dumped} rows dumped`);
        const link = await db
          .selectFrom('links')
          .select('client_secret_enc')
          .executeTakeFirstOrThrow();
        assert.match(link.client_secret_enc, /^ol1\.[0-9a-f]{16}\./);
      });
    }
  });
}
