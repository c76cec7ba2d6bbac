import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  connect,
  createLink,
  type DanceWorld,
  startDance,
  type TokenJson,
} from '../oauth/dance-support.js';
import { ALICE } from '../support/worlds.js';

/**
 * Issue 11: `x-rejected-token` forces at most one refresh per rejected token value and per
 * 30 seconds per connection; beyond that a consumer gets 429 with `Retry-After`, and the
 * provider (oidc-provider behind the counting proxy) sees no token request.
 */
describe('forced refreshes with x-rejected-token are bounded', () => {
  let world: DanceWorld;
  let connectionId: string;

  const grants = () => world.proxy.count(world.tokenPath);
  const token = async (rejected?: string, lang?: string) =>
    world.outlink.app.inject({
      method: 'GET',
      url: `/api/v1/connections/${connectionId}/token`,
      headers: {
        ...(await world.outlink.tokenHeaders()),
        ...(rejected ? { 'x-rejected-token': rejected } : {}),
        ...(lang ? { 'accept-language': lang } : {}),
      },
    });

  before(async () => {
    world = await startDance('sqlite');
    const link = await createLink(world);
    connectionId = await connect(world, link.id, ALICE);
  });
  after(() => world?.close());

  it('refuses a forced refresh right after the last refresh, with Retry-After', async () => {
    const first = (await token()).json() as TokenJson;
    const before = grants();
    for (let i = 0; i < 10; i++) {
      const res = await token(first.accessToken);
      assert.equal(res.statusCode, 429, res.body);
      const retryAfter = Number(res.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 30, String(res.headers['retry-after']));
      const { error } = res.json() as { error: { code: string; remedy: string } };
      assert.equal(error.code, 'token_refresh_throttled');
      assert.match(error.remedy, new RegExp(`Wait ${retryAfter} seconds`));
    }
    const ja = await token(first.accessToken, 'ja');
    assert.equal(ja.statusCode, 429);
    assert.match((ja.json() as { error: { message: string } }).error.message, /更新されたばかり/);
    assert.equal(grants(), before, 'no refresh grant reached the provider');
  });

  it('allows one forced refresh per interval, and one per rejected token value', async () => {
    const old = ((await token()).json() as TokenJson).accessToken;
    world.clock.advance(31_000);
    const before = grants();
    const refreshed = await token(old);
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const fresh = (refreshed.json() as TokenJson).accessToken;
    assert.notEqual(fresh, old);
    assert.equal(grants(), before + 1);
    // The same rejected value again: the newer token is handed out, nothing is refreshed.
    const again = await token(old);
    assert.equal(again.statusCode, 200);
    assert.equal((again.json() as TokenJson).accessToken, fresh);
    // The new token sent straight back: bounded by the interval.
    const bounced = await token(fresh);
    assert.equal(bounced.statusCode, 429);
    assert.equal(grants(), before + 1);
    // After the interval the consumer may force once more.
    world.clock.advance(Number(bounced.headers['retry-after']) * 1000);
    const later = await token(fresh);
    assert.equal(later.statusCode, 200, later.body);
    assert.equal(grants(), before + 2);
  });
});
