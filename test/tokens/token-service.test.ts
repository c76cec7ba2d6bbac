import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OutlinkError } from '../../src/domain/errors.js';
import {
  connect,
  createLink,
  type DanceWorld,
  eventsOf,
  getConnection,
  moveIntoMargin,
  movePastExpiry,
  startDance,
  type TokenJson,
  tokenOf,
} from '../oauth/dance-support.js';
import { Dialects } from '../support/harness.js';
import { ALICE, introspect, storedTokens } from '../support/worlds.js';

/** The provider's access tokens live 10 minutes: the margin is min(5 min, 1/10) = 60 s. */
const TTL_S = 600;

for (const dialect of Dialects) {
  describe(`getAccessToken against the real provider on ${dialect}`, () => {
    let world: DanceWorld;
    let linkId: string;

    before(async () => {
      world = await startDance(dialect, { accessTokenTtl: TTL_S });
      linkId = (await createLink(world)).id;
    });
    after(async () => {
      await world?.close();
    });

    const tokens = () => world.outlink.services.tokens;
    const calls = () => world.proxy.count(world.tokenPath);

    it('returns the stored token while it is fresh, without a token request', async () => {
      const id = await connect(world, linkId, ALICE);
      const stored = await storedTokens(world, id);
      const before = calls();
      world.clock.advance((TTL_S - 61) * 1000);
      const got = await tokens().getAccessToken(id);
      assert.equal(got.accessToken, stored.accessToken);
      assert.equal(got.account, ALICE);
      assert.equal(calls(), before);
    });

    it('refreshes inside the margin, stores the rotated refresh token, and the old one is dead', async () => {
      const id = await connect(world, linkId, ALICE);
      const old = await storedTokens(world, id);
      await moveIntoMargin(world, id);
      const before = calls();
      const got = await tokens().getAccessToken(id);
      assert.equal(calls(), before + 1);
      assert.notEqual(got.accessToken, old.accessToken);
      const now = await storedTokens(world, id);
      assert.equal(now.accessToken, got.accessToken);
      assert.ok(now.refreshToken);
      assert.notEqual(now.refreshToken, old.refreshToken);
      assert.equal(now.version, old.version + 1);
      // At the provider: the consumed refresh token is inactive, the rotated one active.
      assert.equal((await introspect(world, old.refreshToken ?? '')).active, false);
      assert.equal((await introspect(world, now.refreshToken)).active, true);
      assert.equal((await introspect(world, got.accessToken)).active, true);
      const c = await getConnection(world, id);
      assert.equal(c.status, 'valid');
      assert.equal(c.lastRefreshedAt, world.clock.now().toISOString());
      assert.equal(c.expiresAt, new Date(world.clock.now().getTime() + TTL_S * 1000).toISOString());
      assert.equal(got.expiresAt, c.expiresAt);
      const refreshed = (await eventsOf(world, 'connection.refreshed')).filter(
        (e) => e.connectionId === id,
      );
      assert.equal(refreshed.length, 1);
      assert.deepEqual(refreshed[0]?.data, { account: ALICE, rotated: true });
      // Fresh again: no further request.
      assert.equal((await tokens().getAccessToken(id)).accessToken, got.accessToken);
      assert.equal(calls(), before + 1);
    });

    it('rotates on every refresh, each refresh token used once; the grant survives', async () => {
      const id = await connect(world, linkId, ALICE);
      const used: string[] = [];
      const seenAccess = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const before = await storedTokens(world, id);
        assert.ok(before.refreshToken);
        assert.ok(!used.includes(before.refreshToken), 'a refresh token sent twice');
        used.push(before.refreshToken);
        const count = calls();
        // Past expiry on alternate rounds: an expired token is refreshed the same way.
        if (i % 2 === 0) await moveIntoMargin(world, id);
        else await movePastExpiry(world, id);
        const res = await tokenOf(world, id);
        assert.equal(res.statusCode, 200, res.body);
        const got = res.json() as TokenJson;
        assert.equal(calls(), count + 1);
        assert.ok(!seenAccess.has(got.accessToken));
        seenAccess.add(got.accessToken);
      }
      const last = await storedTokens(world, id);
      // The provider's reuse detection never fired: the last refresh token and access token
      // are alive, every earlier refresh token is consumed.
      assert.equal((await introspect(world, last.refreshToken ?? '')).active, true);
      assert.equal((await introspect(world, last.accessToken)).active, true);
      for (const t of used) assert.equal((await introspect(world, t)).active, false);
      const failures = (await eventsOf(world)).filter(
        (e) => e.connectionId === id && /failed|reauthorization/.test(e.type),
      );
      assert.deepEqual(failures, []);
    });

    it('keeps the old refresh token when the response carries none', async () => {
      const id = await connect(world, linkId, ALICE);
      const before = await storedTokens(world, id);
      await moveIntoMargin(world, id);
      // A non-rotating provider's answer (Google's): a new access token, no refresh token. The
      // access token is a real one of this grant, so the answer is one the server could give.
      world.proxy.queue({
        kind: 'respond',
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          access_token: before.accessToken,
          token_type: 'Bearer',
          expires_in: TTL_S,
          scope: 'openid email offline_access',
        }),
      });
      await tokens().getAccessToken(id);
      const kept = await storedTokens(world, id);
      assert.equal(kept.refreshToken, before.refreshToken);
      assert.equal(kept.version, before.version + 1);
      const refreshed = (await eventsOf(world, 'connection.refreshed')).at(-1);
      assert.deepEqual(refreshed?.data, { account: ALICE, rotated: false });
      // The kept token is the live one at the provider: the next refresh works with it.
      await moveIntoMargin(world, id);
      const got = await tokens().getAccessToken(id);
      assert.notEqual(got.accessToken, before.accessToken);
      const after = await storedTokens(world, id);
      assert.notEqual(after.refreshToken, before.refreshToken);
      assert.equal((await introspect(world, after.refreshToken ?? '')).active, true);
    });

    it('forces one refresh for a token a server rejected, and none for an older one', async () => {
      const id = await connect(world, linkId, ALICE);
      const first = await storedTokens(world, id);
      const count = calls();
      const second = await tokens().getAccessToken(id, { rejectedToken: first.accessToken });
      assert.notEqual(second.accessToken, first.accessToken);
      assert.equal(calls(), count + 1);
      // A consumer still holding the first token is given the newer one without a request.
      const again = await tokens().getAccessToken(id, { rejectedToken: first.accessToken });
      assert.equal(again.accessToken, second.accessToken);
      assert.equal(calls(), count + 1);
    });

    it('answers 404 connection_not_found for an unknown connection', async () => {
      await assert.rejects(
        tokens().getAccessToken('00000000-0000-4000-8000-000000000000'),
        (error: unknown) => error instanceof OutlinkError && error.code === 'connection_not_found',
      );
    });
  });
}
