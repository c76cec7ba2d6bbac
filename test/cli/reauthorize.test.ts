import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Dialects } from '../support/harness.js';
import { ALICE, BOB } from '../support/worlds.js';
import { errorCode, runInProcess } from './cli-harness.js';
import { type OAuthFixture, startOAuthFixture } from './oauth-fixture.js';

/**
 * Issue 13: `outlink connections reauthorize <connection>` prints a one-time re-authorization
 * link (in the server's database, through the same service as the API); the link then opens
 * the dance at the server and re-authorizes that connection; `--revoke` revokes it.
 */
for (const dialect of Dialects)
  describe(`outlink connections reauthorize (${dialect})`, { concurrency: 1 }, () => {
    let fixture: OAuthFixture;
    before(async () => {
      fixture = await startOAuthFixture(dialect);
    });
    after(() => fixture?.close());

    const open = (url: string) =>
      fixture.outlink.app.inject({ method: 'GET', url: new URL(url).pathname });

    test('prints a link that re-authorizes that connection once', async () => {
      const link = await fixture.createLink();
      const alice = await fixture.authorize(link.id, ALICE);
      const result = await runInProcess(['connections', 'reauthorize', alice], {
        env: fixture.env,
      });
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trimEnd().split('\n');
      assert.match(lines[0] ?? '', new RegExp(`^Re-authorization link for ${ALICE} \\(works once`));
      const url = lines[1] ?? '';
      assert.match(url, /^https:\/\/localhost:8443\/oauth2\/reauthorize\/[A-Za-z0-9_-]{43}$/);

      const opened = await open(url);
      assert.equal(opened.statusCode, 303, opened.body);
      const cookie = opened.cookies.find((c) => c.name.startsWith('__Host-outlink-flow-'));
      assert.ok(cookie);
      const callback = await fixture.as.login(String(opened.headers.location), { email: ALICE });
      const page = await fixture.deliver(callback, `${cookie.name}=${cookie.value}`);
      assert.equal(page.statusCode, 200, page.body);
      assert.equal((await open(url)).statusCode, 410);
    });

    test('--json, --hours within bounds, and --revoke', async () => {
      const link = await fixture.createLink();
      const bob = await fixture.authorize(link.id, BOB);
      const json = await runInProcess(
        ['connections', 'reauthorize', bob, '--hours', '3', '--json'],
        { env: fixture.env },
      );
      assert.equal(json.code, 0, json.stderr);
      const body = JSON.parse(json.stdout) as { url: string; status: string; connectionId: string };
      assert.equal(body.status, 'active');
      assert.equal(body.connectionId, bob);

      const revoked = await runInProcess(['connections', 'reauthorize', bob, '--revoke'], {
        env: fixture.env,
      });
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(
        revoked.stdout,
        new RegExp(`Revoked 1 active re-authorization link\\(s\\) of ${BOB}`),
      );
      const late = await open(body.url);
      assert.equal(late.statusCode, 410);
      assert.match(late.body, /reauthorization_link_revoked/);

      const bad = await runInProcess(['connections', 'reauthorize', bob, '--hours', '200'], {
        env: fixture.env,
      });
      assert.equal(bad.code, 1, bad.stdout);
      assert.equal(errorCode(bad), 'reauthorization_hours_invalid');
    });
  });
