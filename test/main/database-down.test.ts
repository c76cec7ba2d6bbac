/**
 * Issue 14: PostgreSQL going away, simulated by cutting a TCP proxy between Outlink and the
 * machine's PostgreSQL. Requests fail fast with 503 `database_unavailable` (never a 500),
 * background work pauses and resumes by itself, and a refresh whose rotated tokens could not
 * be stored keeps them in memory and writes them once the database is back: no token lost.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Fetch } from '../../src/oauth/discovery.js';
import { startTcpProxy, type TcpProxy } from '../peers/tcp-proxy.js';
import {
  createTestDatabase,
  startOutlink,
  type TestDatabase,
  type TestOutlink,
} from '../support/harness.js';
import {
  ALICE,
  authorizeAccount,
  createTestLink,
  startTestProvider,
  storedTokens,
  type TestProvider,
} from '../support/worlds.js';

describe('PostgreSQL unreachable', { concurrency: 1 }, () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let provider: TestProvider;
  let outlink: TestOutlink;
  let alice: string;
  /** Set by a test: the next token response severs the database before Outlink sees it. */
  let severAfterToken = false;

  before(async () => {
    database = await createTestDatabase('postgres');
    const direct = new URL(database.url);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(database.url);
    proxied.port = String(proxy.port);
    provider = await startTestProvider();
    const fetch: Fetch = async (input, init) => {
      const res = await provider.as.fetch(input, init);
      const url = input instanceof Request ? input.url : String(input);
      if (severAfterToken && url.endsWith(provider.tokenPath)) {
        severAfterToken = false;
        proxy.sever();
      }
      return res;
    };
    outlink = await startOutlink('postgres', {
      database: { ...database, url: proxied.href },
      fetch,
      env: { OUTLINK_DATABASE_CONNECT_TIMEOUT_SECONDS: '2' },
    });
    const linkId = await createTestLink(outlink, provider);
    alice = await authorizeAccount(outlink, provider, linkId, ALICE);
  });
  after(async () => {
    proxy.restore();
    await outlink?.close({ drop: false });
    await provider?.close();
    await proxy?.close();
    await database?.drop();
  });

  test('requests fail fast with 503 database_unavailable and recover by themselves', async () => {
    const headers = await outlink.tokenHeaders();
    assert.equal((await outlink.app.inject({ url: '/api/v1/links', headers })).statusCode, 200);
    proxy.sever();
    try {
      for (const lang of ['en', 'ja']) {
        const started = Date.now();
        const res = await outlink.app.inject({ url: `/api/v1/links?lang=${lang}`, headers });
        assert.ok(Date.now() - started < 2_000, `answered in ${Date.now() - started} ms`);
        assert.equal(res.statusCode, 503, res.body);
        assert.equal(res.headers['retry-after'], '5');
        const { error } = res.json() as {
          error: { code: string; message: string; remedy: string };
        };
        assert.equal(error.code, 'database_unavailable');
        assert.equal(
          error.message,
          lang === 'en' ? 'The database is not reachable.' : 'データベースに接続できません。',
        );
        assert.ok(error.remedy.length > 0);
      }
      const ready = await outlink.app.inject({ url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      // Background work pauses (one log line), instead of failing tick after tick.
      assert.deepEqual(await outlink.services.scheduler.tick(), {
        due: 0,
        refreshed: 0,
        failed: 0,
      });
      await outlink.services.mailPoller.tick();
      assert.equal(outlink.logLines.filter((l) => l.includes('background work paused')).length, 1);
    } finally {
      proxy.restore();
    }
    assert.equal((await outlink.app.inject({ url: '/api/v1/links', headers })).statusCode, 200);
    await outlink.services.scheduler.tick();
    assert.ok(outlink.logLines.some((l) => l.includes('background work resumed')));
  });

  test('rotated tokens that could not be stored are kept and written when it returns', async () => {
    const headers = await outlink.tokenHeaders();
    const before = await storedTokens({ outlink }, alice);
    const grantsBefore = provider.proxy.count(provider.tokenPath);
    severAfterToken = true;
    let res = await outlink.app.inject({
      method: 'POST',
      url: `/api/v1/connections/${alice}/refresh`,
      headers,
    });
    assert.equal(res.statusCode, 503, res.body);
    assert.equal((res.json() as { error: { code: string } }).error.code, 'database_unavailable');
    assert.equal(provider.proxy.count(provider.tokenPath), grantsBefore + 1, 'one grant');
    await sleep(1_000);
    proxy.restore();
    // Written by the process's own retry, not by a new grant.
    let after = before;
    for (let i = 0; i < 40 && after.version === before.version; i++) {
      await sleep(250);
      after = await storedTokens({ outlink }, alice);
    }
    assert.equal(after.version, before.version + 1);
    assert.notEqual(
      after.refreshToken,
      before.refreshToken,
      'the rotated refresh token was stored',
    );
    assert.equal(provider.proxy.count(provider.tokenPath), grantsBefore + 1);
    // The stored refresh token is the live one: the provider (which rotates and refuses a used
    // one) accepts it.
    res = await outlink.app.inject({
      method: 'POST',
      url: `/api/v1/connections/${alice}/refresh`,
      headers,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((res.json() as { status: string }).status, 'valid');
    assert.equal(provider.proxy.count(provider.tokenPath), grantsBefore + 2);
  });
});
