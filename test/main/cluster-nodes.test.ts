/**
 * Issue 14, cluster mode, with real `outlink serve` processes on the real PostgreSQL: the
 * node registry and `GET /api/v1/cluster`, a SIGKILLed node shown as gone, a node with a
 * different key set refused, and a database whose schema is newer than a node's code.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { GENERATED_CERT_FILE } from '../../src/crypto/tls-certificate.js';
import { CODE_SCHEMA_VERSION } from '../../src/store/migrations/index.js';
import { databaseEnv, errorCode, runCli, spawnCli } from '../cli/cli-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/harness.js';

const LEASE_SECONDS = 3;
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

interface Node {
  readonly pid: number;
  readonly port: number;
  readonly ca: string;
  readonly exited: Promise<unknown>;
  kill(signal: NodeJS.Signals): void;
}

const children: { kill(signal: NodeJS.Signals): boolean; exitCode: number | null }[] = [];
const dirs: string[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `outlink serve` in a data dir of its own (its own certificate), on a shared database. */
async function startNode(env: Record<string, string>): Promise<Node> {
  const dataDir = mkdtempSync(join(tmpdir(), 'outlink-node-'));
  dirs.push(dataDir);
  const child = spawnCli(['serve'], { ...env, OUTLINK_DATA_DIR: dataDir });
  children.push(child);
  child.stdin.end();
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (/fingerprint: .*\n/.test(out)) resolve();
    });
    exited.then(() => reject(new Error(`serve exited:\n${out}\n${err}`)));
    setTimeout(() => reject(new Error(`no banner:\n${out}\n${err}`)), 60_000).unref();
  });
  const port = Number(/listening on https:\/\/127\.0\.0\.1:(\d+)\)/.exec(out)?.[1]);
  return {
    pid: child.pid as number,
    port,
    ca: readFileSync(join(dataDir, GENERATED_CERT_FILE), 'utf8'),
    exited,
    kill: (signal) => child.kill(signal),
  };
}

interface ClusterBody {
  items: {
    id: string;
    pid: number;
    version: string;
    role: string;
    schemaVersion: number;
    status: string;
    lastHeartbeatAt: string;
    holds: { connections: string[]; mailServers: string[] };
  }[];
  leaseSeconds: number;
}

async function getJson(node: Node, path: string, token: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: node.port,
        path,
        ca: node.ca,
        agent: false,
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject).end();
  });
}

async function cluster(node: Node, token: string): Promise<ClusterBody> {
  const res = await getJson(node, '/api/v1/cluster', token);
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body) as ClusterBody;
}

describe('cluster nodes on PostgreSQL', { concurrency: 1 }, () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let token: string;
  before(async () => {
    database = await createTestDatabase('postgres');
    env = databaseEnv(database, {
      OUTLINK_MASTER_KEY: randomBytes(32).toString('base64'),
      OUTLINK_LEASE_SECONDS: String(LEASE_SECONDS),
      OUTLINK_LISTEN: '127.0.0.1:0',
    });
    const created = await runCli(['api-tokens', 'create', '--name', 'cluster-test'], {
      env,
      timeoutMs: 120_000,
    });
    assert.equal(created.code, 0, created.stderr);
    token = created.stdout.trim();
  });
  after(() => database.drop());

  test('two serve processes register; a SIGKILLed one is shown as gone', async () => {
    const [a, b] = await Promise.all([startNode(env), startNode(env)]);
    const seen = await cluster(a, token);
    assert.equal(seen.leaseSeconds, LEASE_SECONDS);
    const alive = seen.items.filter((n) => n.status === 'alive');
    assert.deepEqual(alive.map((n) => n.pid).sort(), [a.pid, b.pid].sort());
    for (const node of alive) {
      assert.equal(node.version, VERSION);
      assert.equal(node.role, 'serve');
      assert.equal(node.schemaVersion, CODE_SCHEMA_VERSION);
      assert.deepEqual(node.holds, { connections: [], mailServers: [] });
    }
    // Any node answers for the whole cluster, and heartbeats move on.
    const fromB = await cluster(b, token);
    assert.deepEqual(fromB.items.map((n) => n.id).sort(), alive.map((n) => n.id).sort());
    await sleep(1_500);
    const later = await cluster(b, token);
    const beatA = (body: ClusterBody) => body.items.find((n) => n.pid === a.pid)!.lastHeartbeatAt;
    assert.ok(beatA(later) > beatA(seen), 'the heartbeat was renewed');

    b.kill('SIGKILL');
    await b.exited;
    const killedAt = Date.now();
    let status = 'alive';
    while (status === 'alive' && Date.now() - killedAt < 15_000) {
      await sleep(250);
      status = (await cluster(a, token)).items.find((n) => n.pid === b.pid)!.status;
    }
    assert.equal(status, 'gone');
    // Silent for the lease timeout (plus the heartbeat it may have just missed), not minutes.
    assert.ok(Date.now() - killedAt <= (LEASE_SECONDS + 2) * 1000, `${Date.now() - killedAt} ms`);
    const survivor = (await cluster(a, token)).items.find((n) => n.pid === a.pid)!;
    assert.equal(survivor.status, 'alive');

    // A clean shutdown is "stopped", not "gone".
    a.kill('SIGTERM');
    await a.exited;
    const c = await startNode(env);
    const final = await cluster(c, token);
    assert.equal(final.items.find((n) => n.pid === a.pid)?.status, 'stopped');
    c.kill('SIGTERM');
    await c.exited;
  });

  test('a node with a different key set refuses to start, in English and Japanese', async () => {
    const other = { ...env, OUTLINK_MASTER_KEY: randomBytes(32).toString('base64') };
    const en = await runCli(['serve'], { env: other, timeoutMs: 120_000 });
    assert.notEqual(en.code, 0);
    assert.equal(errorCode(en), 'key_set_outdated', en.stderr);
    assert.match(en.stderr, /do not include the key the cluster writes secrets under/);
    assert.match(en.stderr, /remedy: Give this node the same OUTLINK_MASTER_KEY/);
    const ja = await runCli(['serve'], {
      env: { ...other, LANG: 'ja_JP.UTF-8' },
      timeoutMs: 120_000,
    });
    assert.equal(errorCode(ja), 'key_set_outdated', ja.stderr);
    assert.match(ja.stderr, /クラスターがシークレットの暗号化に使うキー/);
    // The cluster's own key still starts (the check compares key sets, not luck).
    const same = await runCli(['links', 'list', '--json'], { env, timeoutMs: 120_000 });
    assert.equal(same.code, 0, same.stderr);
  });

  test('a database migrated by newer code refuses an older node; a compatible one runs', async () => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const future = CODE_SCHEMA_VERSION + 1;
      await admin.query(
        `insert into kysely_migration (name, timestamp) values ('${String(future).padStart(4, '0')}-future', now()::text)`,
      );
      await admin.query(`update cluster_state set value = $1 where name = 'schema_version'`, [
        String(future),
      ]);
      await admin.query(
        `update cluster_state set value = $1 where name = 'min_compatible_schema'`,
        [String(future)],
      );
      const refused = await runCli(['serve'], { env, timeoutMs: 120_000 });
      assert.equal(errorCode(refused), 'schema_too_new', refused.stderr);
      assert.match(
        refused.stderr,
        new RegExp(
          `schema \\(version ${future}\\) is newer than this node's code knows \\(version ${CODE_SCHEMA_VERSION}\\)`,
        ),
      );
      assert.match(refused.stderr, /remedy: Upgrade this node/);
      // The newer code says older nodes can live with it: a rolling upgrade, the node runs.
      await admin.query(
        `update cluster_state set value = $1 where name = 'min_compatible_schema'`,
        [String(CODE_SCHEMA_VERSION)],
      );
      const runs = await runCli(['links', 'list', '--json'], { env, timeoutMs: 120_000 });
      assert.equal(runs.code, 0, runs.stderr);
    } finally {
      await admin.end();
    }
  });

  test('a migration that a running older node cannot live with is refused', async () => {
    const db2 = await createTestDatabase('postgres');
    const env2 = databaseEnv(db2, { OUTLINK_MASTER_KEY: randomBytes(32).toString('base64') });
    const admin = new pg.Client({ connectionString: db2.url });
    try {
      assert.equal((await runCli(['migrate'], { env: env2, timeoutMs: 120_000 })).code, 0);
      await admin.connect();
      // The database as code older than the minimum left it, with such a node alive.
      await admin.query(
        `update cluster_state set value = '5' where name = 'min_compatible_schema'`,
      );
      await admin.query(
        `insert into cluster_nodes (id, role, hostname, pid, version, schema_version, started_at, last_heartbeat_at)
         values ('old-node', 'serve', 'old-host', 4242, '0.9.0', 5, $1, $1)`,
        [new Date().toISOString()],
      );
      const refused = await runCli(['migrate'], { env: env2, timeoutMs: 120_000 });
      assert.equal(errorCode(refused), 'migration_blocked', refused.stderr);
      assert.match(refused.stderr, /old-host:4242 \(0\.9\.0\)/);
      // Once that node has been silent for the lease timeout, it is gone and no longer blocks.
      await admin.query(`update cluster_nodes set last_heartbeat_at = $1`, [
        new Date(Date.now() - 3_600_000).toISOString(),
      ]);
      const migrated = await runCli(['migrate'], { env: env2, timeoutMs: 120_000 });
      assert.equal(migrated.code, 0, migrated.stderr);
    } finally {
      await admin.end().catch(() => undefined);
      await db2.drop();
    }
  });
});
