import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../src/domain/clock.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';
import {
  authorizeAccount,
  createTestLink,
  expireToken,
  startTestProvider,
  type TestProvider,
} from '../support/worlds.js';

const WORKER = fileURLToPath(new URL('./fixtures/token-worker.ts', import.meta.url));
const CALLERS_PER_PROCESS = 200;

/** An Outlink process of its own, driven by JSON lines (see the fixture). */
interface Worker {
  readonly pid: number;
  request(message: unknown): Promise<{ tokens: string[]; errors: string[] }>;
  stop(): Promise<void>;
}

async function startWorker(env: Record<string, string>): Promise<Worker> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--import', 'tsx', WORKER],
    {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('the worker did not start');
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error(`worker ${pid} ended: ${stderr}`);
    return JSON.parse(line.value) as Record<string, unknown>;
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    assert.equal((await next()).ready, true);
  } catch (error) {
    if (child.exitCode === null) process.kill(pid, 'SIGKILL');
    throw error;
  }
  return {
    pid,
    async request(message) {
      child.stdin.write(`${JSON.stringify(message)}\n`);
      return (await next()) as { tokens: string[]; errors: string[] };
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin.end();
      const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

for (const dialect of Dialects) {
  describe(`two Outlink processes on one ${dialect} database`, () => {
    let provider: TestProvider;
    let outlink: TestOutlink;
    let connectionId: string;
    const workers: Worker[] = [];

    before(async () => {
      provider = await startTestProvider({ accounts: ['alice@example.test'] });
      outlink = await startOutlink(dialect, { fetch: provider.as.fetch });
      const linkId = await createTestLink(outlink, provider);
      connectionId = await authorizeAccount(outlink, provider, linkId, 'alice@example.test');
      const caFile = join(outlink.database.dataDir, 'test-ca.pem');
      writeFileSync(caFile, provider.as.caPem);
      // Same database and data dir: the processes share the master key file.
      const env = {
        OUTLINK_DATA_DIR: outlink.database.dataDir,
        OUTLINK_DATABASE_URL: outlink.database.url,
        TEST_CA_FILE: caFile,
      };
      // Each one recorded as soon as it runs, so cleanup stops it whatever happens next.
      await Promise.all([1, 2].map(async () => workers.push(await startWorker(env))));
    });
    after(async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await outlink?.close();
      await provider?.close();
    });

    const version = async () =>
      (
        await outlink.services.store.db
          .selectFrom('connections')
          .select('token_version')
          .where('id', '=', connectionId)
          .executeTakeFirstOrThrow()
      ).token_version;

    /** Expires the token, says go to both processes at once, returns every token they got. */
    const race = async () => {
      await expireToken(outlink.services.store.db, connectionId, systemClock);
      // A slow provider keeps the winner's lease held while the other process arrives.
      provider.proxy.queue({ kind: 'delay', ms: 300 });
      const answers = await Promise.all(
        workers.map((w) => w.request({ go: connectionId, callers: CALLERS_PER_PROCESS })),
      );
      for (const a of answers) assert.deepEqual(a.errors, []);
      return answers.map((a) => a.tokens);
    };

    it('runs in two separate processes', () => {
      assert.equal(workers.length, 2);
      assert.notEqual(workers[0]?.pid, workers[1]?.pid);
      assert.ok(workers.every((w) => w.pid !== process.pid));
    });

    it('makes exactly one token request per expiry, and every caller gets the new token', async () => {
      const start = provider.proxy.count(provider.tokenPath);
      const startVersion = await version();
      const old = (await outlink.services.tokens.getAccessToken(connectionId)).accessToken;
      assert.equal(provider.proxy.count(provider.tokenPath), start);

      const first = await race();
      assert.equal(provider.proxy.count(provider.tokenPath) - start, 1);
      assert.deepEqual(
        first.map((t) => t.length),
        [CALLERS_PER_PROCESS, CALLERS_PER_PROCESS],
      );
      const firstTokens = new Set(first.flat());
      assert.equal(firstTokens.size, 1);
      assert.ok(!firstTokens.has(old));
      assert.equal(await version(), startVersion + 1);

      const second = await race();
      assert.equal(provider.proxy.count(provider.tokenPath) - start, 2);
      const secondTokens = new Set(second.flat());
      assert.equal(secondTokens.size, 1);
      assert.ok(!secondTokens.has(old));
      assert.ok(!secondTokens.has([...firstTokens][0] ?? ''));
      assert.equal(await version(), startVersion + 2);

      // Rotation never fired the provider's reuse detection: the grant still refreshes.
      await outlink.services.tokens.refreshNow(connectionId, { kind: 'system' });
      assert.equal(provider.proxy.count(provider.tokenPath) - start, 3);
      const row = await outlink.services.connections.get(connectionId);
      assert.equal(row.status, 'valid');
      assert.equal(await version(), startVersion + 3);
      const leases = await outlink.services.store.db.selectFrom('leases').selectAll().execute();
      assert.deepEqual(leases, []);
    });
  });
}
