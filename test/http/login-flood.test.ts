import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LightMyRequestResponse } from 'fastify';
import { LOGIN_ATTEMPTS_PER_MINUTE } from '../../src/http/routes/session.js';
import type { LoginGuardOptions } from '../../src/services/login-guard.js';
import { ADMIN_PASSWORD } from '../support/harness.js';
import { type AuthorizedWorld, startAuthorizedWorld } from '../support/worlds.js';

/**
 * Issue 11, login flood: every sign-in attempt costs a 32 MiB scrypt on libuv's thread pool.
 * A flood that varies the user name (and the address) must meet a limit before the hash, the
 * hashes it does cost are bounded, the event log does not grow per attempt, and token calls,
 * refreshes and DNS lookups keep answering while it runs.
 */

/** Attackers sending at once (each waits for its answer), and the probe rounds while they do. */
const ATTACKERS = 40;
const PROBE_ROUNDS = 3;
/**
 * Slowest answer a token call, a refresh or a DNS lookup may take while the flood runs: this,
 * or three times the slowest without a flood on a busy machine. Without the bound on hashes a
 * refresh waits behind the whole flood's queue (about 9 s here).
 */
const MAX_LATENCY_MS = 2_500;

function code(res: LightMyRequestResponse): string {
  return (res.json() as { error: { code: string } }).error.code;
}

async function startWorld(loginGuard?: Partial<LoginGuardOptions>): Promise<AuthorizedWorld> {
  return startAuthorizedWorld('sqlite', { outlink: { loginGuard } });
}

describe('login flood', () => {
  let world: AuthorizedWorld;
  let bearer: Record<string, string>;
  before(async () => {
    world = await startWorld();
    bearer = await world.outlink.tokenHeaders();
  });
  after(async () => {
    await world?.close();
  });

  const login = (username: string, password: string, ip: string) =>
    world.outlink.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      remoteAddress: ip,
      payload: { username, password },
    });

  const failureEvents = async () => {
    await world.outlink.services.users.flushLoginFailures();
    const res = await world.outlink.app.inject({
      method: 'GET',
      url: '/api/v1/events?type=session.login_failed&limit=200',
      headers: bearer,
    });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { items: { data: Record<string, unknown> }[] }).items;
  };

  it('limits a flood from one address that varies the user name', async () => {
    const ip = '192.0.2.77';
    const answers: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      answers.push((await login(`guess-${i}`, 'wrong-password', ip)).statusCode);
    }
    assert.deepEqual(answers.slice(0, LOGIN_ATTEMPTS_PER_MINUTE), Array(10).fill(401));
    assert.deepEqual(
      answers.slice(LOGIN_ATTEMPTS_PER_MINUTE),
      Array(40 - LOGIN_ATTEMPTS_PER_MINUTE).fill(429),
    );
    // The right password from there is refused too until the window ends.
    const res = await login('admin', ADMIN_PASSWORD, ip);
    assert.equal(res.statusCode, 429);
    assert.equal(code(res), 'rate_limited');
  });

  it('bounds the password hashes of a flood from many addresses; token calls, refreshes and DNS keep answering; events do not grow per attempt', async () => {
    const already = (await failureEvents()).length;
    const outcomes = new Map<string, number>();
    let sent = 0;
    let stop = false;

    const attacker = async (n: number) => {
      for (let i = 0; !stop; i += 1) {
        sent += 1;
        // A fresh address and user name every time: no per-address or per-name limit applies.
        const ip = `10.${n}.${(i >> 8) & 255}.${i & 255}`;
        const res = await login(`flood-${n}-${i}`, 'not-the-password', ip);
        const key = res.statusCode === 401 ? '401' : `${res.statusCode} ${code(res)}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        if (res.statusCode === 503) {
          assert.equal(res.headers['retry-after'], '5');
          const body = res.json() as { error: { message: string; remedy: string } };
          assert.ok(body.error.message && body.error.remedy, res.body);
        }
        await sleep(50);
      }
    };

    const latencies = { token: [] as number[], refresh: [] as number[], dns: [] as number[] };
    const timed = async <T>(into: number[], work: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      const result = await work();
      into.push(performance.now() - started);
      return result;
    };
    const probe = async (into: typeof latencies) => {
      const token = await timed(into.token, () =>
        world.outlink.app.inject({
          method: 'GET',
          url: `/api/v1/connections/${world.alice}/token`,
          headers: bearer,
        }),
      );
      assert.equal(token.statusCode, 200, token.body);
      const refreshed = await timed(into.refresh, () =>
        world.outlink.app.inject({
          method: 'POST',
          url: `/api/v1/connections/${world.alice}/refresh`,
          headers: bearer,
        }),
      );
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      // Providers are reached by name: a refresh starts with a lookup on the thread pool.
      await timed(into.dns, () => lookup('localhost'));
    };

    const quiet = { token: [] as number[], refresh: [] as number[], dns: [] as number[] };
    for (let round = 0; round < PROBE_ROUNDS; round += 1) await probe(quiet);
    const limit = (kind: keyof typeof latencies) =>
      Math.max(MAX_LATENCY_MS, 3 * Math.max(...quiet[kind]));

    const attackers = Array.from({ length: ATTACKERS }, (_, n) => attacker(n));
    // Let the flood fill the queue first, then probe while it runs.
    await sleep(500);
    try {
      for (let round = 0; round < PROBE_ROUNDS; round += 1) {
        await probe(latencies);
        await sleep(100);
      }
    } finally {
      stop = true;
      await Promise.all(attackers);
    }

    const summary = JSON.stringify({
      sent,
      outcomes: Object.fromEntries(outcomes),
      quiet,
      latencies,
    });
    // Most of the flood was turned away before hashing, with the catalog's code.
    assert.ok((outcomes.get('503 login_busy') ?? 0) > sent / 2, summary);
    assert.deepEqual(
      [...outcomes.keys()].filter((k) => k !== '401' && k !== '503 login_busy'),
      [],
      summary,
    );
    for (const kind of ['token', 'refresh', 'dns'] as const) {
      assert.ok(Math.max(...latencies[kind]) < limit(kind), `${kind} too slow: ${summary}`);
    }

    // A handful of events for the whole flood, not one per attempt.
    const events = await failureEvents();
    assert.ok(
      events.length - already <= 3,
      `${events.length - already} events for ${sent} attempts`,
    );
    const total = events
      .slice(0, events.length - already)
      .reduce((sum, e) => sum + Number(e.data.attempts ?? 0) + Number(e.data.refused ?? 0), 0);
    assert.equal(total, sent, JSON.stringify(events.slice(0, 3)));
    assert.ok(!JSON.stringify(events).includes('not-the-password'));

    // The flood over, the admin signs in (from an address the flood did not use).
    const admin = await login('admin', ADMIN_PASSWORD, '192.0.2.200');
    assert.equal(admin.statusCode, 200, admin.body);
  });
});
