/**
 * Issue 14: PostgreSQL going away, simulated by cutting a TCP proxy between Outlink and the
 * machine's PostgreSQL. Requests fail fast with 503 `database_unavailable` (never a 500),
 * background work pauses and resumes by itself, and a refresh whose rotated tokens could not
 * be stored keeps them in memory and writes them once the database is back: no token lost.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../../src/domain/clock.js';
import type { Fetch } from '../../src/oauth/discovery.js';
import { isDatabaseUnavailable } from '../../src/store/db.js';
import { createConnectionTokensRepository } from '../../src/store/repositories/connection-tokens.js';
import { createRefresher } from '../../src/tokens/refresher.js';
import { DEFAULT_TOKEN_OPTIONS } from '../../src/tokens/token-service.js';
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
  expireToken,
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
  /** The provider's fetch, severing the database when `severAfterToken` says so. */
  let severingFetch: Fetch;

  before(async () => {
    database = await createTestDatabase('postgres');
    const direct = new URL(database.url);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(database.url);
    proxied.port = String(proxy.port);
    provider = await startTestProvider();
    severingFetch = async (input, init) => {
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
      fetch: severingFetch,
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
    // The refresh lease went with the kept tokens' write, not before it (another node could
    // then refresh from the spent refresh token) nor long after (until it expired).
    assert.deepEqual(
      await outlink.services.store.db
        .selectFrom('leases')
        .select('name')
        .where('name', '=', `refresh:${alice}`)
        .execute(),
      [],
    );
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

  test('a scheduled refresh whose tokens the database refused keeps its lease until they are written', async () => {
    const { store, scheduler } = outlink.services;
    const before = await storedTokens({ outlink }, alice);
    await expireToken(store.db, alice, systemClock);
    const grantsBefore = provider.proxy.count(provider.tokenPath);
    severAfterToken = true;
    assert.deepEqual(await scheduler.tick(), { due: 1, refreshed: 0, failed: 1 });
    assert.equal(provider.proxy.count(provider.tokenPath), grantsBefore + 1, 'one grant');
    proxy.restore();
    let after = before;
    for (let i = 0; i < 40 && after.version === before.version; i++) {
      await sleep(250);
      after = await storedTokens({ outlink }, alice);
    }
    assert.equal(after.version, before.version + 1, 'the kept tokens were written');
    assert.notEqual(after.refreshToken, before.refreshToken);
    // Freed by that write, not left to expire: the next tick finds nothing due and nothing held.
    assert.deepEqual(
      await store.db
        .selectFrom('leases')
        .select('name')
        .where('name', '=', `refresh:${alice}`)
        .execute(),
      [],
    );
    assert.deepEqual(await scheduler.tick(), { due: 0, refreshed: 0, failed: 0 });
    assert.equal(provider.proxy.count(provider.tokenPath), grantsBefore + 1, 'no second grant');
  });

  test('a row read before the kept tokens were written refreshes nothing: the stored row is the answer', async () => {
    // The race of a node whose own scheduler read the connection (the database just back)
    // while the kept tokens were still being written, and asks for a refresh just after the
    // write landed: its row holds the spent refresh token, which the provider would refuse
    // and the connection would need re-authorization.
    const { db } = outlink.services.store;
    const refresher = createRefresher({
      db,
      cipher: outlink.services.cipher,
      clock: systemClock,
      events: outlink.services.events,
      fetch: severingFetch,
      sleep: async () => undefined,
      isUnavailable: isDatabaseUnavailable,
      options: { ...DEFAULT_TOKEN_OPTIONS, writeRetryMs: 100 },
    });
    const tokens = createConnectionTokensRepository(db);
    const stale = await tokens.find(alice);
    assert.ok(stale);
    const grantsBefore = provider.proxy.count(provider.tokenPath);
    severAfterToken = true;
    await assert.rejects(refresher.refresh(stale, { kind: 'system' }), {
      code: 'database_unavailable',
    });
    proxy.restore();
    let stored = stale;
    for (let i = 0; i < 40 && stored.token_version === stale.token_version; i++) {
      await sleep(100);
      stored = (await tokens.find(alice)) ?? stale;
    }
    assert.equal(stored.token_version, stale.token_version + 1, 'the kept tokens were written');

    const outcome = await refresher.refresh(stale, { kind: 'system' });
    assert.equal(outcome.refreshed, false);
    assert.equal(outcome.row.token_version, stored.token_version);
    assert.equal(outcome.row.refresh_token_enc, stored.refresh_token_enc);
    assert.equal(provider.proxy.count(provider.tokenPath), grantsBefore + 1, 'no second grant');
    const row = await tokens.find(alice);
    assert.equal(row?.status, 'valid');
    assert.equal(row?.token_version, stored.token_version);
    // A row read after the write refreshes as usual, with the live refresh token.
    const again = await refresher.refresh(stored, { kind: 'system' });
    assert.equal(again.refreshed, true);
    assert.equal(again.row.token_version, stored.token_version + 1);
    assert.equal(provider.proxy.count(provider.tokenPath), grantsBefore + 2);
  });
});
