import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../../src/domain/clock.js';
import type { Fetch } from '../../src/oauth/discovery.js';
import { OAuthFailure, type OAuthLink, refreshGrant } from '../../src/oauth/token-client.js';
import { ALICE, storedTokens, TEST_CLIENT } from '../support/worlds.js';
import { connect, createLink, type DanceWorld, startDance } from './dance-support.js';

/**
 * Issue 12: a token request's timeout ends with the request. `AbortSignal.timeout` could not
 * be cleared: every refresh left a timer that fired `timeoutMs` later and built an error nobody
 * read. The grant goes to the real test provider through the fault proxy.
 */
describe('the token client times out a request, and only while it runs', () => {
  let world: DanceWorld;
  let link: OAuthLink;
  let connectionId: string;
  const TIMEOUT_MS = 300;

  before(async () => {
    world = await startDance('sqlite');
    const created = await createLink(world);
    connectionId = await connect(world, created.id, ALICE);
    const db = world.outlink.services.store.db;
    const row = await db
      .selectFrom('links')
      .selectAll()
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    const connection = await db
      .selectFrom('connections')
      .select('issuer')
      .where('id', '=', connectionId)
      .executeTakeFirstOrThrow();
    link = {
      id: row.id,
      clientId: TEST_CLIENT.clientId,
      clientSecret: TEST_CLIENT.clientSecret,
      clientAuthMethod: row.client_auth_method,
      authorizationEndpoint: row.authorization_endpoint,
      tokenEndpoint: row.token_endpoint,
      issuer: connection.issuer ?? row.issuer,
    };
  });
  after(() => world?.close());

  /** The world's fetch, noting the signal each request carried. */
  const watched = () => {
    const signals: AbortSignal[] = [];
    const fetch: Fetch = (input, init) => {
      if (init?.signal) signals.push(init.signal);
      return world.as.fetch(input, init);
    };
    return { fetch, signals };
  };

  it('clears its timer once the answer is in', async () => {
    const { refreshToken } = await storedTokens(world, connectionId);
    assert.ok(refreshToken);
    const { fetch, signals } = watched();
    const set = await refreshGrant(
      { fetch, clock: systemClock, timeoutMs: TIMEOUT_MS },
      link,
      refreshToken,
    );
    assert.ok(set.accessToken);
    assert.equal(signals.length, 1);
    await sleep(TIMEOUT_MS * 2);
    assert.equal(signals[0]!.aborted, false, 'no timeout fired after the request ended');
  });

  it('still times out a provider that does not answer: a transient failure', async () => {
    const { refreshToken } = await storedTokens(world, connectionId);
    assert.ok(refreshToken);
    const { fetch, signals } = watched();
    world.proxy.queue({ kind: 'hang' });
    const started = performance.now();
    await assert.rejects(
      refreshGrant({ fetch, clock: systemClock, timeoutMs: TIMEOUT_MS }, link, refreshToken),
      (error: unknown) => {
        assert.ok(error instanceof OAuthFailure, String(error));
        assert.equal(error.entry.id, 'timeout');
        assert.equal(error.scope, 'transient');
        return true;
      },
    );
    const took = performance.now() - started;
    assert.ok(took >= TIMEOUT_MS - 20 && took < TIMEOUT_MS * 10, `took ${took} ms`);
    assert.equal(signals[0]?.aborted, true);
  });
});
