import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { LOGIN_ATTEMPTS_PER_MINUTE } from '../../src/http/routes/session.js';
import { INITIAL_ADMIN_PASSWORD_FILE } from '../../src/main/compose.js';
import { ADMIN_PASSWORD, Dialects, startOutlink, type TestOutlink } from '../support/harness.js';

interface Login {
  readonly res: LightMyRequestResponse;
  /** `cookie` and `x-csrf-token` of the new session (only when it succeeded). */
  readonly headers: Record<string, string>;
}

async function login(
  outlink: TestOutlink,
  password: string,
  options: { username?: string; ip?: string } = {},
): Promise<Login> {
  const res = await outlink.app.inject({
    method: 'POST',
    url: '/api/v1/session',
    remoteAddress: options.ip ?? '127.0.0.1',
    payload: { username: options.username ?? 'admin', password },
  });
  if (res.statusCode !== 200) return { res, headers: {} };
  const cookie = String(res.headers['set-cookie']).split(';')[0] ?? '';
  return {
    res,
    headers: { cookie, 'x-csrf-token': (res.json() as { csrfToken: string }).csrfToken },
  };
}

function errorCode(res: LightMyRequestResponse): string {
  return (res.json() as { error: { code: string } }).error.code;
}

async function whoAmI(outlink: TestOutlink, headers: Record<string, string>) {
  return outlink.app.inject({ method: 'GET', url: '/api/v1/session', headers });
}

async function eventsOfType(outlink: TestOutlink, type: string) {
  const res = await outlink.app.inject({
    method: 'GET',
    url: `/api/v1/events?type=${type}`,
    headers: await outlink.tokenHeaders(),
  });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { items: { type: string; actor: string; data: Record<string, unknown> }[] })
    .items;
}

for (const dialect of Dialects) {
  describe(`session on ${dialect}`, () => {
    let outlink: TestOutlink;
    before(async () => {
      outlink = await startOutlink(dialect);
    });
    after(() => outlink.close());

    it('signs in with a Secure, HttpOnly, SameSite=Lax cookie and returns the CSRF token', async () => {
      const { res, headers } = await login(outlink, ADMIN_PASSWORD);
      assert.equal(res.statusCode, 200, res.body);
      const setCookie = String(res.headers['set-cookie']);
      assert.match(setCookie, /^__Host-outlink_session=ols_[\w-]+;/);
      assert.match(setCookie, /; Secure/);
      assert.match(setCookie, /; HttpOnly/);
      assert.match(setCookie, /; SameSite=Lax/);
      assert.match(setCookie, /; Path=\//);
      const body = res.json() as { csrfToken: string; username: string; expiresAt: string };
      assert.match(body.csrfToken, /^olc_/);
      assert.equal(body.username, 'admin');
      assert.ok(Date.parse(body.expiresAt) > Date.now());
      // The session token itself is only in the cookie, never in the body.
      assert.ok(!res.body.includes(headers.cookie!.split('=')[1]!));
      const me = await whoAmI(outlink, headers);
      assert.equal(me.statusCode, 200);
      assert.deepEqual(me.json(), { kind: 'user', actor: 'admin' });
    });

    it('refuses a wrong password and an unknown user alike, and records the attempts without the password', async () => {
      const wrongPassword = 'wrong-password-Zq81x';
      const wrong = await login(outlink, wrongPassword, { ip: '10.0.0.1' });
      assert.equal(wrong.res.statusCode, 401);
      assert.equal(errorCode(wrong.res), 'invalid_credentials');
      assert.equal(wrong.res.headers['set-cookie'], undefined);

      const stranger = await login(outlink, wrongPassword, { username: 'mallory', ip: '10.0.0.1' });
      assert.equal(stranger.res.statusCode, 401);
      assert.equal(errorCode(stranger.res), 'invalid_credentials');

      // The first failure is recorded at once; the rest of its window in one summary.
      await outlink.services.users.flushLoginFailures();
      const failed = await eventsOfType(outlink, 'session.login_failed');
      const usernames = failed.flatMap((e) => [
        e.data.username,
        ...((e.data.usernames as string[] | undefined) ?? []),
      ]);
      assert.ok(usernames.includes('admin'), JSON.stringify(failed));
      assert.ok(usernames.includes('mallory'), JSON.stringify(failed));
      assert.ok(failed.every((e) => e.type === 'session.login_failed'));
      assert.ok(!JSON.stringify(failed).includes(wrongPassword));
      assert.ok(!outlink.logLines.some((l) => l.includes(wrongPassword)));
    });

    it('requires the x-csrf-token on state-changing cookie requests, not on reads', async () => {
      const { headers } = await login(outlink, ADMIN_PASSWORD);
      const cookieOnly = { cookie: headers.cookie! };
      const create = (h: Record<string, string>) =>
        outlink.app.inject({
          method: 'POST',
          url: '/api/v1/api-tokens',
          headers: h,
          payload: { name: 'csrf-probe' },
        });

      const missing = await create(cookieOnly);
      assert.equal(missing.statusCode, 403, missing.body);
      assert.equal(errorCode(missing), 'csrf_token_invalid');

      const wrong = await create({ ...cookieOnly, 'x-csrf-token': 'olc_not-the-right-one' });
      assert.equal(wrong.statusCode, 403);
      assert.equal(errorCode(wrong), 'csrf_token_invalid');

      // Another session's CSRF token does not fit this session.
      const other = await login(outlink, ADMIN_PASSWORD);
      const crossed = await create({
        ...cookieOnly,
        'x-csrf-token': other.headers['x-csrf-token']!,
      });
      assert.equal(crossed.statusCode, 403);
      assert.equal(errorCode(crossed), 'csrf_token_invalid');

      const logoutWithout = await outlink.app.inject({
        method: 'DELETE',
        url: '/api/v1/session',
        headers: cookieOnly,
      });
      assert.equal(logoutWithout.statusCode, 403);
      assert.equal(errorCode(logoutWithout), 'csrf_token_invalid');

      const ok = await create(headers);
      assert.equal(ok.statusCode, 201, ok.body);

      const read = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/api-tokens',
        headers: cookieOnly,
      });
      assert.equal(read.statusCode, 200, read.body);
    });

    it('compares the CSRF token in constant time, on equal-length buffers', async () => {
      const { headers } = await login(outlink, ADMIN_PASSWORD);
      const real = headers['x-csrf-token']!;
      // Same length, one character off at the end: a naive comparison would run longest here.
      const nearMiss = `${real.slice(0, -1)}${real.endsWith('A') ? 'B' : 'A'}`;
      const spy = mock.method(crypto, 'timingSafeEqual');
      syncBuiltinESMExports();
      try {
        const res = await outlink.app.inject({
          method: 'POST',
          url: '/api/v1/api-tokens',
          headers: { ...headers, 'x-csrf-token': nearMiss },
          payload: { name: 'timing-probe' },
        });
        assert.equal(res.statusCode, 403, res.body);
        assert.equal(errorCode(res), 'csrf_token_invalid');
        const compared = spy.mock.calls.map((c) =>
          c.arguments.map((b) => Buffer.from(b as Uint8Array).toString()),
        );
        assert.deepEqual(compared, [[nearMiss, real]]);
      } finally {
        spy.mock.restore();
        syncBuiltinESMExports();
      }
    });

    it('does not ask a bearer token for a CSRF token', async () => {
      const res = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers: await outlink.tokenHeaders(),
        payload: { name: 'bearer-made' },
      });
      assert.equal(res.statusCode, 201, res.body);
    });

    it('ends the session on logout', async () => {
      const { headers } = await login(outlink, ADMIN_PASSWORD);
      const out = await outlink.app.inject({ method: 'DELETE', url: '/api/v1/session', headers });
      assert.equal(out.statusCode, 204);
      assert.match(
        String(out.headers['set-cookie']),
        /^__Host-outlink_session=;.*; Path=\/;.*Expires=Thu, 01 Jan 1970.*; Secure/,
      );
      const me = await whoAmI(outlink, headers);
      assert.equal(me.statusCode, 401);
      assert.equal(errorCode(me), 'not_authenticated');
      const again = await outlink.app.inject({ method: 'DELETE', url: '/api/v1/session', headers });
      assert.equal(again.statusCode, 401);
    });

    it(`rate-limits the ${LOGIN_ATTEMPTS_PER_MINUTE + 1}th attempt a minute per address, whatever the user name`, async () => {
      const ip = '192.0.2.10';
      for (let i = 0; i < LOGIN_ATTEMPTS_PER_MINUTE; i += 1) {
        const attempt = await login(outlink, `wrong-${i}`, { ip, username: `user-${i}` });
        assert.equal(attempt.res.statusCode, 401, `attempt ${i + 1}`);
        assert.equal(errorCode(attempt.res), 'invalid_credentials');
      }
      // Even the right password is refused now: the limit stops guessing, not just failures.
      const limited = await login(outlink, ADMIN_PASSWORD, { ip });
      assert.equal(limited.res.statusCode, 429, limited.res.body);
      assert.equal(errorCode(limited.res), 'rate_limited');
      const retryAfter = Number(limited.res.headers['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      assert.equal(limited.res.headers['set-cookie'], undefined);

      // Another user name from this address is limited too; another address is not.
      const otherUser = await login(outlink, 'whatever', { username: 'someone', ip });
      assert.equal(otherUser.res.statusCode, 429);
      const elsewhere = await login(outlink, ADMIN_PASSWORD, { ip: '192.0.2.11' });
      assert.equal(elsewhere.res.statusCode, 200, elsewhere.res.body);
    });

    it('counts an IPv6 client by its /64, and an IPv4-mapped address as its IPv4', async () => {
      for (let i = 0; i < LOGIN_ATTEMPTS_PER_MINUTE; i += 1) {
        const ip = `2001:db8:1:2::${(i + 1).toString(16)}`;
        const attempt = await login(outlink, `wrong-${i}`, { ip, username: `v6-${i}` });
        assert.equal(attempt.res.statusCode, 401, `attempt ${i + 1}`);
      }
      const sameNet = await login(outlink, ADMIN_PASSWORD, { ip: '2001:db8:1:2:ffff:1:2:3' });
      assert.equal(sameNet.res.statusCode, 429, sameNet.res.body);
      const nextNet = await login(outlink, ADMIN_PASSWORD, { ip: '2001:db8:1:3::1' });
      assert.equal(nextNet.res.statusCode, 200, nextNet.res.body);

      for (let i = 0; i < LOGIN_ATTEMPTS_PER_MINUTE; i += 1) {
        await login(outlink, `wrong-${i}`, { ip: '203.0.113.9', username: `v4-${i}` });
      }
      const mapped = await login(outlink, ADMIN_PASSWORD, { ip: '::ffff:203.0.113.9' });
      assert.equal(mapped.res.statusCode, 429, mapped.res.body);
    });

    it('limits failures per user name across addresses', async () => {
      const username = 'target-user';
      for (let i = 0; i < 30; i += 1) {
        const attempt = await login(outlink, `wrong-${i}`, { username, ip: `198.18.0.${i + 1}` });
        assert.equal(attempt.res.statusCode, 401, `attempt ${i + 1}`);
      }
      const limited = await login(outlink, 'anything', { username, ip: '198.18.1.1' });
      assert.equal(limited.res.statusCode, 429, limited.res.body);
      assert.equal(errorCode(limited.res), 'rate_limited');
      const retryAfter = Number(limited.res.headers['retry-after']);
      assert.ok(retryAfter > 60 && retryAfter <= 15 * 60, `Retry-After ${retryAfter}`);
      // The user name is compared without case; other user names are untouched.
      const upper = await login(outlink, 'anything', { username: 'TARGET-USER', ip: '198.18.1.2' });
      assert.equal(upper.res.statusCode, 429);
      const admin = await login(outlink, ADMIN_PASSWORD, { ip: '198.18.1.3' });
      assert.equal(admin.res.statusCode, 200, admin.res.body);
    });

    it('needs authentication for the password change, and a user session for it', async () => {
      const anonymous = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/session/password',
        payload: { currentPassword: ADMIN_PASSWORD, newPassword: 'a-brand-new-password' },
      });
      assert.equal(anonymous.statusCode, 401);
      assert.equal(errorCode(anonymous), 'not_authenticated');

      const byToken = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/session/password',
        headers: await outlink.tokenHeaders(),
        payload: { currentPassword: ADMIN_PASSWORD, newPassword: 'a-brand-new-password' },
      });
      assert.equal(byToken.statusCode, 403);
      assert.equal(errorCode(byToken), 'forbidden');
    });
  });

  describe(`password change on ${dialect}`, () => {
    let outlink: TestOutlink;
    before(async () => {
      outlink = await startOutlink(dialect);
    });
    after(() => outlink.close());

    it('refuses a wrong current password and a short new one, then ends every session', async () => {
      const first = await login(outlink, ADMIN_PASSWORD);
      const second = await login(outlink, ADMIN_PASSWORD);
      const change = (body: Record<string, unknown>) =>
        outlink.app.inject({
          method: 'POST',
          url: '/api/v1/session/password',
          headers: first.headers,
          payload: body,
        });
      const newPassword = 'correct-horse-battery-staple';

      const wrong = await change({ currentPassword: 'not-the-password', newPassword });
      assert.equal(wrong.statusCode, 403, wrong.body);
      assert.equal(errorCode(wrong), 'password_incorrect');

      const short = await change({ currentPassword: ADMIN_PASSWORD, newPassword: 'short' });
      assert.equal(short.statusCode, 422, short.body);
      assert.equal(errorCode(short), 'field_invalid');
      assert.equal((short.json() as { error: { field?: string } }).error.field, 'newPassword');

      const empty = await change({ currentPassword: ADMIN_PASSWORD, newPassword: '' });
      assert.equal(empty.statusCode, 422);
      assert.equal(errorCode(empty), 'field_empty');

      // Neither refusal changed anything.
      assert.equal((await whoAmI(outlink, second.headers)).statusCode, 200);
      assert.equal(
        (await login(outlink, ADMIN_PASSWORD, { ip: '198.51.100.1' })).res.statusCode,
        200,
      );

      // A generated first password's file (as compose writes it) goes with the old password.
      const passwordFile = join(outlink.config.dataDir, INITIAL_ADMIN_PASSWORD_FILE);
      writeFileSync(passwordFile, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });

      const ok = await change({ currentPassword: ADMIN_PASSWORD, newPassword });
      assert.equal(ok.statusCode, 204, ok.body);
      assert.equal(existsSync(passwordFile), false);

      for (const session of [first, second]) {
        const me = await whoAmI(outlink, session.headers);
        assert.equal(me.statusCode, 401);
        assert.equal(errorCode(me), 'not_authenticated');
      }
      const old = await login(outlink, ADMIN_PASSWORD, { ip: '198.51.100.2' });
      assert.equal(old.res.statusCode, 401);
      assert.equal(errorCode(old.res), 'invalid_credentials');
      const fresh = await login(outlink, newPassword, { ip: '198.51.100.3' });
      assert.equal(fresh.res.statusCode, 200, fresh.res.body);

      const events = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/events?type=user.password_changed',
        headers: fresh.headers,
      });
      const items = (events.json() as { items: { type: string; actor: string }[] }).items;
      assert.equal(items.length, 1);
      assert.equal(items[0]!.actor, 'admin');
      assert.ok(!events.body.includes(newPassword));
      assert.ok(!events.body.includes(ADMIN_PASSWORD));
      for (const line of outlink.logLines) {
        assert.ok(!line.includes(newPassword), line);
        assert.ok(!line.includes(ADMIN_PASSWORD), line);
      }
    });
  });
}
