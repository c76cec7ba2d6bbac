import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALICE, TEST_CLIENT } from '../support/worlds.js';
import { runInProcess } from './cli-harness.js';
import { type OAuthFixture, startOAuthFixture } from './oauth-fixture.js';

/**
 * `outlink doctor [link]` (issue 13 item 1): the checks of the diagnose route, for one link
 * or all, as text or `--json`, against oidc-provider; exit 1 when a check fails.
 */
describe('outlink doctor', () => {
  let fixture: OAuthFixture;
  let good: { id: string; name: string };
  let bad: { id: string; name: string };
  before(async () => {
    fixture = await startOAuthFixture('sqlite');
    good = await fixture.createLink();
    await fixture.authorize(good.id, ALICE);
    bad = await fixture.createLink();
    await fixture.outlink.services.links.update({ kind: 'cli' }, bad.id, {
      clientSecret: 'a-wrong-secret',
    });
  });
  after(() => fixture?.close());

  const run = (args: string[]) =>
    runInProcess(['doctor', ...args], { env: fixture.env, fetch: fixture.as.fetch });

  test('a healthy link: every check a line, exit 0', async () => {
    const result = await run([good.name]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`^Diagnosis of ${good.name}\n`));
    assert.match(result.stdout, /\[PASS\] client_credentials: The token endpoint accepts/);
    assert.match(result.stdout, /\[PASS\] connection_token \(alice@example\.test\): /);
    assert.match(result.stdout, / 0 failed\n$/);
    assert.ok(!result.stdout.includes(TEST_CLIENT.clientSecret));
  });

  test('a wrong secret fails, with its remedy, exit 1; --json is the API shape', async () => {
    const text = await run([bad.id]);
    assert.equal(text.code, 1, text.stdout + text.stderr);
    assert.match(
      text.stdout,
      /\[FAIL\] client_credentials: The token endpoint rejects the client credentials: invalid_client/,
    );
    assert.match(text.stdout, /\n {6}remedy: Copy the client ID/);
    const json = await run([bad.name, '--json']);
    assert.equal(json.code, 1);
    const body = JSON.parse(json.stdout) as {
      linkId: string;
      checks: { id: string; status: string }[];
    };
    assert.equal(body.linkId, bad.id);
    assert.deepEqual(
      body.checks.filter((c) => c.id === 'client_credentials').map((c) => c.status),
      ['fail'],
    );
    assert.ok(!json.stdout.includes('a-wrong-secret'));
  });

  test('without a link: every link, exit 1 when any fails', async () => {
    const all = await run(['--json']);
    assert.equal(all.code, 1);
    const { items } = JSON.parse(all.stdout) as { items: { linkId: string }[] };
    assert.deepEqual(items.map((i) => i.linkId).sort(), [good.id, bad.id].sort());
  });
});
