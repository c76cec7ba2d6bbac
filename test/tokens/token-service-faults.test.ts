import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OutlinkError } from '../../src/domain/errors.js';
import {
  authorize,
  CLIENT_SECRET,
  connect,
  createLink,
  type DanceWorld,
  type EventRow,
  eventsOf,
  getConnection,
  moveIntoMargin,
  movePastExpiry,
  startDance,
  type TokenJson,
  tokenOf,
} from '../oauth/dance-support.js';
import { type Fault, oauthError } from '../peers/fault-proxy.js';
import { Dialects } from '../support/harness.js';
import { ALICE, BOB, introspect, storedTokens } from '../support/worlds.js';

const TTL_S = 600;
const ATTEMPTS = 3;
const BASE_DELAY_MS = 100;
/** Short, so a hanging provider costs the suite little real time. */
const TIMEOUT_MS = 1_200;

const serverError = (status = 500, headers: Record<string, string> = {}): Fault => ({
  kind: 'respond',
  status,
  contentType: 'text/html',
  body: '<html><body>Internal Server Error</body></html>',
  headers,
});

for (const dialect of Dialects) {
  describe(`token refresh through a faulty provider on ${dialect}`, () => {
    let world: DanceWorld;

    before(async () => {
      world = await startDance(dialect, {
        accessTokenTtl: TTL_S,
        tokenOptions: {
          attempts: ATTEMPTS,
          baseDelayMs: BASE_DELAY_MS,
          maxDelayMs: 10_000,
          requestTimeoutMs: TIMEOUT_MS,
        },
      });
    });
    after(async () => {
      await world?.close();
    });

    const tokens = (w = world) => w.outlink.services.tokens;
    const calls = (w = world) => w.proxy.count(w.tokenPath);

    /** A fresh link with alice connected, the clock inside her refresh margin. */
    const due = async (w = world) => {
      const link = await createLink(w);
      const id = await connect(w, link.id, ALICE);
      const old = await storedTokens(w, id);
      await moveIntoMargin(w, id);
      return { linkId: link.id, id, old, calls: calls(w), sleeps: w.sleeps.length };
    };

    const eventsFor = async (id: string, type: string, w = world): Promise<EventRow[]> =>
      (await eventsOf(w, type)).filter((e) => e.connectionId === id);

    /** The provider is fine again: the connection recovers on the next call, and says so. */
    const recovers = async (id: string, from: string) => {
      world.proxy.always({ kind: 'pass' });
      // Until the retry time the stored token is handed out without asking the provider.
      const { retry_at } = await world.outlink.services.store.db
        .selectFrom('connections')
        .select('retry_at')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      if (retry_at && Date.parse(retry_at) > world.clock.now().getTime()) {
        world.clock.set(new Date(Date.parse(retry_at)));
      }
      const before = calls();
      const res = await tokenOf(world, id);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(calls(), before + 1);
      const c = await getConnection(world, id);
      assert.equal(c.status, 'valid');
      assert.equal(c.lastError, undefined);
      const recovered = await eventsFor(id, 'connection.recovered');
      assert.equal(recovered.length, 1);
      assert.deepEqual(recovered[0]?.data, { account: ALICE, from });
      const stored = await storedTokens(world, id);
      assert.equal((res.json() as TokenJson).accessToken, stored.accessToken);
      assert.equal((await introspect(world, stored.refreshToken ?? '')).active, true);
    };

    /** A transient fault on every attempt: refresh_failing, never reauthorization_required. */
    const failsTransiently = async (fault: Fault, reason: string, status?: number) => {
      const d = await due();
      world.proxy.always(fault);
      try {
        // The stored token has not expired yet: the caller still gets it.
        const got = await tokens().getAccessToken(d.id);
        assert.equal(got.accessToken, d.old.accessToken);
        assert.equal(calls(), d.calls + ATTEMPTS);
        assert.equal(world.sleeps.length, d.sleeps + ATTEMPTS - 1);
        const c = await getConnection(world, d.id);
        assert.equal(c.status, 'refresh_failing');
        assert.equal(c.lastError?.code, reason);
        assert.equal(c.lastError?.scope, 'transient');
        const failed = await eventsFor(d.id, 'connection.refresh_failed');
        assert.equal(failed.length, 1);
        assert.equal(failed[0]?.data.reason, reason);
        assert.equal(failed[0]?.data.transient, true);
        assert.equal(failed[0]?.data.status, status);
        assert.deepEqual(await eventsFor(d.id, 'connection.reauthorization_required'), []);
        // The refresh token was never consumed: the one stored is still the live one.
        assert.equal((await storedTokens(world, d.id)).refreshToken, d.old.refreshToken);
        return d;
      } finally {
        world.proxy.always({ kind: 'pass' });
      }
    };

    it('retries a 500 within the call and succeeds when the next attempt passes', async () => {
      const d = await due();
      world.proxy.queue(serverError(500));
      const got = await tokens().getAccessToken(d.id);
      assert.notEqual(got.accessToken, d.old.accessToken);
      assert.equal(calls(), d.calls + 2);
      const waits = world.sleeps.slice(d.sleeps);
      assert.equal(waits.length, 1);
      assert.ok(waits[0]! >= BASE_DELAY_MS / 2 && waits[0]! <= BASE_DELAY_MS, String(waits[0]));
      assert.equal((await getConnection(world, d.id)).status, 'valid');
      assert.deepEqual(await eventsFor(d.id, 'connection.refresh_failed'), []);
    });

    it('marks refresh_failing after every attempt failed with 500; 503 once expired; recovers', async () => {
      const d = await failsTransiently(serverError(500), 'provider_unavailable', 500);
      const waits = world.sleeps.slice(d.sleeps);
      assert.ok(waits[1]! > waits[0]! / 2, 'backoff grows');
      // Once the stored token has expired there is nothing to hand out: 503 with Retry-After.
      await movePastExpiry(world, d.id);
      world.proxy.always(serverError(500));
      const before = calls();
      const retryAt = (
        await world.outlink.services.store.db
          .selectFrom('connections')
          .select('retry_at')
          .where('id', '=', d.id)
          .executeTakeFirstOrThrow()
      ).retry_at;
      if (retryAt && Date.parse(retryAt) > world.clock.now().getTime()) {
        // Still inside the provider's wait: answered at once, the provider is not asked.
        const waiting = await tokenOf(world, d.id);
        assert.equal(waiting.statusCode, 503, waiting.body);
        assert.equal(waiting.json().error.code, 'provider_unavailable');
        const left = Math.ceil((Date.parse(retryAt) - world.clock.now().getTime()) / 1000);
        assert.equal(Number(waiting.headers['retry-after']), Math.max(1, left));
        assert.equal(calls(), before);
        world.clock.set(new Date(Date.parse(retryAt) + 1));
      }
      const res = await tokenOf(world, d.id);
      world.proxy.always({ kind: 'pass' });
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.json().error.code, 'provider_unavailable');
      assert.match(String(res.headers['retry-after']), /^\d+$/);
      assert.equal(calls(), before + ATTEMPTS);
      assert.equal((await getConnection(world, d.id)).status, 'refresh_failing');
      await recovers(d.id, 'refresh_failing');
    });

    it('honours Retry-After of a 503 within the call', async () => {
      const d = await due();
      world.proxy.queue(serverError(503, { 'retry-after': '3' }));
      const got = await tokens().getAccessToken(d.id);
      assert.notEqual(got.accessToken, d.old.accessToken);
      assert.equal(calls(), d.calls + 2);
      const waits = world.sleeps.slice(d.sleeps);
      assert.equal(waits.length, 1);
      assert.ok(waits[0]! >= 3_000, `waited ${waits[0]} ms`);
      assert.equal((await getConnection(world, d.id)).status, 'valid');
    });

    it('does not wait in the call for a Retry-After beyond its limit: the next retry is not before it', async () => {
      const d = await due();
      world.proxy.queue(serverError(429, { 'retry-after': '120' }));
      const got = await tokens().getAccessToken(d.id);
      assert.equal(got.accessToken, d.old.accessToken);
      assert.equal(calls(), d.calls + 1);
      assert.equal(world.sleeps.length, d.sleeps);
      const row = await world.outlink.services.store.db
        .selectFrom('connections')
        .selectAll()
        .where('id', '=', d.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'refresh_failing');
      assert.ok(row.retry_at);
      assert.ok(
        Date.parse(row.retry_at) >= world.clock.now().getTime() + 120_000,
        `retry at ${row.retry_at}`,
      );
      assert.equal((await getConnection(world, d.id)).lastError?.code, 'rate_limited_by_provider');
      // While the stored token is usable, callers get it without asking the provider again.
      assert.equal((await tokens().getAccessToken(d.id)).accessToken, d.old.accessToken);
      assert.equal(calls(), d.calls + 1);
      await recovers(d.id, 'refresh_failing');
    });

    it('retries a connection reset, and marks refresh_failing (network_error) when it persists', async () => {
      const once = await due();
      world.proxy.queue({ kind: 'reset' });
      const got = await tokens().getAccessToken(once.id);
      assert.notEqual(got.accessToken, once.old.accessToken);
      assert.equal(calls(), once.calls + 2);
      const d = await failsTransiently({ kind: 'reset' }, 'network_error');
      await recovers(d.id, 'refresh_failing');
    });

    it('gives up on a hanging provider after the request timeout, retries, and recovers', async () => {
      const once = await due();
      world.proxy.queue({ kind: 'hang' });
      const got = await tokens().getAccessToken(once.id);
      assert.notEqual(got.accessToken, once.old.accessToken);
      assert.equal(calls(), once.calls + 2);
      const d = await failsTransiently({ kind: 'hang' }, 'timeout');
      await recovers(d.id, 'refresh_failing');
    });

    it('treats a malformed 200 answer as transient', async () => {
      const malformed: Fault = {
        kind: 'respond',
        status: 200,
        contentType: 'application/json',
        body: '{"access_token": "abc", "token_type": ',
      };
      const once = await due();
      world.proxy.queue(malformed);
      const got = await tokens().getAccessToken(once.id);
      assert.notEqual(got.accessToken, once.old.accessToken);
      assert.equal(calls(), once.calls + 2);
      const d = await failsTransiently(malformed, 'malformed_response', 200);
      await recovers(d.id, 'refresh_failing');
    });

    it('treats a 200 without an access token as transient (malformed_response)', async () => {
      const d = await failsTransiently(
        {
          kind: 'respond',
          status: 200,
          contentType: 'application/json',
          body: JSON.stringify({ token_type: 'Bearer', expires_in: 600 }),
        },
        'malformed_response',
        200,
      );
      await recovers(d.id, 'refresh_failing');
    });

    it('marks reauthorization_required at once on invalid_grant, without retrying', async () => {
      const d = await due();
      world.proxy.queue(oauthError('invalid_grant', 400, 'grant request is invalid'));
      await assert.rejects(
        tokens().getAccessToken(d.id),
        (error: unknown) =>
          error instanceof OutlinkError && error.code === 'reauthorization_required',
      );
      assert.equal(calls(), d.calls + 1);
      assert.equal(world.sleeps.length, d.sleeps);
      const c = await getConnection(world, d.id);
      assert.equal(c.status, 'reauthorization_required');
      assert.equal(c.lastError?.code, 'invalid_grant');
      assert.equal(c.lastError?.scope, 'connection');
      assert.equal(c.lastError?.providerError, 'invalid_grant');
      assert.equal(c.lastError?.providerDescription, 'grant request is invalid');
      assert.equal(c.lastError?.remedy, 'Re-authorize this account.');
      const marked = await eventsFor(d.id, 'connection.reauthorization_required');
      assert.equal(marked.length, 1);
      assert.deepEqual(marked[0]?.data, {
        account: ALICE,
        reason: 'invalid_grant',
        scope: 'connection',
        error: 'invalid_grant',
      });
      // Consumers are told a human must act, without another token request.
      const res = await tokenOf(world, d.id);
      assert.equal(res.statusCode, 409, res.body);
      assert.equal(res.json().error.code, 'reauthorization_required');
      assert.match(res.json().error.message, /alice@example\.test/);
      assert.equal(calls(), d.calls + 1);
      // Re-authorizing the account is the remedy; the connection is valid again.
      const again = await authorize(world, d.linkId, ALICE, { connectionId: d.id });
      assert.equal(again.flow.status, 'succeeded');
      assert.equal((await getConnection(world, d.id)).status, 'valid');
      const recovered = await eventsFor(d.id, 'connection.recovered');
      assert.deepEqual(recovered[0]?.data, { account: ALICE, from: 'reauthorization_required' });
      assert.equal((await tokenOf(world, d.id)).statusCode, 200);
    });

    it('marks every connection of the link on invalid_client; a new client secret brings them back', async () => {
      const link = await createLink(world);
      const alice = await connect(world, link.id, ALICE);
      const bob = await connect(world, link.id, BOB);
      const other = await connect(world, (await createLink(world)).id, BOB);
      const patch = async (clientSecret: string) => {
        const res = await world.outlink.app.inject({
          method: 'PATCH',
          url: `/api/v1/links/${link.id}`,
          headers: await world.outlink.adminHeaders(),
          payload: { clientSecret },
        });
        assert.equal(res.statusCode, 200, res.body);
        return (res.json() as { connections: { id: string; status: string }[] }).connections;
      };
      // The provider's real answer to a wrong secret.
      await patch('not-the-secret');
      await moveIntoMargin(world, alice);
      const before = calls();
      await assert.rejects(
        tokens().getAccessToken(alice),
        (error: unknown) =>
          error instanceof OutlinkError && error.code === 'reauthorization_required',
      );
      assert.equal(calls(), before + 1);
      for (const id of [alice, bob]) {
        const c = await getConnection(world, id);
        assert.equal(c.status, 'reauthorization_required', id);
        assert.equal(c.lastError?.code, 'invalid_client');
        assert.equal(c.lastError?.scope, 'link');
        assert.match(
          c.lastError?.remedy ?? '',
          /client secret from the provider's console, enter them in the link/,
        );
        assert.match(c.lastError?.remedy ?? '', /without re-authorizing/);
        assert.equal((await eventsFor(id, 'connection.reauthorization_required')).length, 1);
      }
      // Another link's connection is untouched.
      assert.equal((await getConnection(world, other)).status, 'valid');
      const res = await world.outlink.app.inject({
        method: 'GET',
        url: `/api/v1/links/${link.id}/token?account=${encodeURIComponent(BOB)}`,
        headers: await world.outlink.adminHeaders(),
      });
      assert.equal(res.statusCode, 409, res.body);
      assert.equal(res.json().error.code, 'reauthorization_required');

      // Fixing the link retries both at once; their grants were never harmed.
      const fixing = calls();
      const shown = await patch(CLIENT_SECRET);
      assert.equal(calls(), fixing + 2);
      // The answer to the update already shows them recovered.
      assert.deepEqual(
        shown.map((c) => [c.id, c.status]),
        [
          [alice, 'valid'],
          [bob, 'valid'],
        ],
      );
      for (const id of [alice, bob]) {
        const c = await getConnection(world, id);
        assert.equal(c.status, 'valid', id);
        assert.equal(c.lastError, undefined);
        const recovered = await eventsFor(id, 'connection.recovered');
        assert.equal(recovered.length, 1);
        assert.equal(recovered[0]?.data.from, 'reauthorization_required');
        assert.equal((await tokenOf(world, id)).statusCode, 200);
      }
    });

    it('after the link is fixed, a connection whose grant died meanwhile now needs its own re-authorization', async () => {
      const link = await createLink(world);
      const alice = await connect(world, link.id, ALICE);
      const bob = await connect(world, link.id, BOB);
      await moveIntoMargin(world, alice);
      world.proxy.queue(oauthError('invalid_client', 401, 'client authentication failed'));
      await assert.rejects(tokens().getAccessToken(alice), OutlinkError);
      // Bob removes the app's access at the provider (RFC 7009 revocation of the grant).
      const bobTokens = await storedTokens(world, bob);
      const revoked = await world.as.fetch(world.as.endpoints.revocation, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          token: bobTokens.refreshToken ?? '',
          token_type_hint: 'refresh_token',
          client_id: 'outlink',
          client_secret: CLIENT_SECRET,
        }).toString(),
      });
      assert.equal(revoked.status, 200);
      assert.equal((await introspect(world, bobTokens.refreshToken ?? '')).active, false);
      const res = await world.outlink.app.inject({
        method: 'PATCH',
        url: `/api/v1/links/${link.id}`,
        headers: await world.outlink.adminHeaders(),
        payload: { clientSecret: CLIENT_SECRET },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await getConnection(world, alice)).status, 'valid');
      const b = await getConnection(world, bob);
      assert.equal(b.status, 'reauthorization_required');
      assert.equal(b.lastError?.code, 'invalid_grant');
      assert.equal(b.lastError?.scope, 'connection');
      assert.equal(b.lastError?.remedy, 'Re-authorize this account.');
    });

    // A world of its own: the refresh's answer is held until the re-authorization is done,
    // however long the dance takes on a loaded machine, so its request must not time out.
    describe('a re-authorization while a refresh is out', () => {
      let slow: DanceWorld;
      before(async () => {
        slow = await startDance(dialect, {
          accessTokenTtl: TTL_S,
          tokenOptions: { attempts: 1, requestTimeoutMs: 60_000 },
        });
      });
      after(async () => {
        await slow?.close();
      });

      /** Starts a refresh whose answer waits for `reauthorized`, and waits until it is out. */
      const refreshHeldUntil = async (
        d: Awaited<ReturnType<typeof due>>,
        fault: (until: Promise<unknown>) => Fault,
      ) => {
        let release: (value?: unknown) => void = () => undefined;
        const until = new Promise((resolve) => {
          release = resolve;
        });
        slow.proxy.queue(fault(until));
        const refreshing = tokens(slow).refreshNow(d.id, { kind: 'system' });
        // Observed whatever happens first, so a rejection is never left unhandled.
        const outcome = refreshing.then(
          () => undefined,
          (error: unknown) => error,
        );
        while (calls(slow) === d.calls) await new Promise((resolve) => setTimeout(resolve, 10));
        assert.equal(calls(slow), d.calls + 1, 'the refresh asked the provider');
        return { outcome, release };
      };

      it('keeps it: the refresh that was in flight stands aside', async () => {
        // The refresh read the row, then the administrator authorized the account again (new
        // grant, new tokens) before the provider answered the refresh: its write must not put
        // the old grant's tokens back over the new ones (it stores only over the version read).
        const d = await due(slow);
        const refreshedBefore = (await eventsFor(d.id, 'connection.refreshed', slow)).length;
        const held = await refreshHeldUntil(d, (until) => ({ kind: 'delay', ms: 0, until }));
        assert.equal(await connect(slow, d.linkId, ALICE), d.id, 'the same connection');
        const reauthorized = await storedTokens(slow, d.id);
        assert.notEqual(reauthorized.accessToken, d.old.accessToken);
        const afterDance = calls(slow);
        held.release();
        assert.equal(await held.outcome, undefined, 'the refresh ended without an error');
        assert.equal(calls(slow), afterDance, 'the refresh asked once, and nothing was retried');
        assert.deepEqual(await storedTokens(slow, d.id), reauthorized);
        assert.equal((await getConnection(slow, d.id)).status, 'valid');
        assert.equal((await eventsFor(d.id, 'connection.refreshed', slow)).length, refreshedBefore);
        assert.equal(
          (await tokens(slow).getAccessToken(d.id)).accessToken,
          reauthorized.accessToken,
        );
        const leases = await slow.outlink.services.store.db
          .selectFrom('leases')
          .select('name')
          .where('name', '=', `refresh:${d.id}`)
          .execute();
        assert.deepEqual(leases, [], 'the lease was freed');
      });

      it("does not mark it for the old grant's invalid_grant", async () => {
        // The refresh's grant died because the administrator authorized the account again
        // while the request was out: the answer is about the old grant, not the new one.
        const d = await due(slow);
        const held = await refreshHeldUntil(d, (until) => ({
          ...oauthError('invalid_grant', 400, 'Token has been revoked'),
          until,
        }));
        assert.equal(await connect(slow, d.linkId, ALICE), d.id);
        const reauthorized = await storedTokens(slow, d.id);
        held.release();
        assert.equal(await held.outcome, undefined, 'the refresh ended without an error');
        const c = await getConnection(slow, d.id);
        assert.equal(c.status, 'valid');
        assert.equal(c.lastError, undefined);
        assert.deepEqual(await eventsFor(d.id, 'connection.reauthorization_required', slow), []);
        assert.deepEqual(await storedTokens(slow, d.id), reauthorized);
        assert.equal(
          (await tokens(slow).getAccessToken(d.id)).accessToken,
          reauthorized.accessToken,
        );
      });
    });

    it('marks every connection of the link on a proxied invalid_client (401), without retrying', async () => {
      const link = await createLink(world);
      const alice = await connect(world, link.id, ALICE);
      const bob = await connect(world, link.id, BOB);
      await moveIntoMargin(world, alice);
      const before = calls();
      const sleeps = world.sleeps.length;
      world.proxy.queue(oauthError('invalid_client', 401, 'client authentication failed'));
      await assert.rejects(tokens().getAccessToken(alice), OutlinkError);
      assert.equal(calls(), before + 1);
      assert.equal(world.sleeps.length, sleeps);
      for (const id of [alice, bob]) {
        assert.equal((await getConnection(world, id)).status, 'reauthorization_required');
      }
    });
  });
}
