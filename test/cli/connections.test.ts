import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createManualClock } from '../../src/domain/clock.js';
import type { ConnectionView } from '../../src/services/connections.js';
import { oauthError } from '../peers/fault-proxy.js';
import { Dialects } from '../support/harness.js';
import { ALICE, BOB } from '../support/worlds.js';
import { type CliResult, runInProcess } from './cli-harness.js';
import { type OAuthFixture, startOAuthFixture } from './oauth-fixture.js';

const MINUTE = 60_000;

/** The stored instant as the CLI prints it: UTC to the second. */
const seconds = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');

/** Output cells: columns and labels are separated by two spaces or more. */
const cells = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/ {2,}/));

function succeeded(result: CliResult): void {
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
}

function failed(result: CliResult, stderr: readonly string[]): void {
  assert.equal(result.code, 1, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  assert.equal(result.stderr, [...stderr, ''].join('\n'));
}

describe('outlink connections', { concurrency: true }, () => {
  for (const dialect of Dialects) {
    describe(dialect, { concurrency: 1 }, () => {
      let fixture: OAuthFixture;
      before(async () => {
        fixture = await startOAuthFixture(dialect);
      });
      after(() => fixture?.close());

      const get = (id: string) => fixture.outlink.services.connections.get(id);
      const api = async (url: string, method: 'GET' | 'DELETE' = 'GET') =>
        fixture.outlink.app.inject({ method, url, headers: await fixture.outlink.tokenHeaders() });

      /**
       * A clock 58.5 minutes before the connection's expiry: about 90 seconds after it was
       * authorized, mid-unit for both, so the relative times cannot flip on a slow machine.
       */
      const clockFor = (c: ConnectionView) =>
        createManualClock(new Date(Date.parse(c.expiresAt ?? '') - 58.5 * MINUTE));

      test('list shows account, status, expiry, last refresh and last error; --json is the API', async () => {
        const link = await fixture.createLink();
        const alice = await get(await fixture.authorize(link.id, ALICE));
        const bob = await get(await fixture.authorize(link.id, BOB));
        const clock = clockFor(alice);

        const text = await runInProcess(['connections', 'list', link.name], {
          env: fixture.env,
          clock,
        });
        succeeded(text);
        assert.deepEqual(cells(text.stdout), [
          ['ACCOUNT', 'STATUS', 'EXPIRES', 'LAST REFRESH', 'LAST ERROR', 'ID'],
          [
            ALICE,
            'valid',
            `in 58 min (${seconds(alice.expiresAt ?? '')})`,
            '1 min ago',
            '-',
            alice.id,
          ],
          [BOB, 'valid', `in 58 min (${seconds(bob.expiresAt ?? '')})`, '1 min ago', '-', bob.id],
        ]);

        const json = await runInProcess(['connections', 'list', link.id, '--json'], {
          env: fixture.env,
        });
        succeeded(json);
        const listed = await api(`/api/v1/links/${link.id}/connections`);
        assert.equal(listed.statusCode, 200);
        assert.deepEqual(JSON.parse(json.stdout), listed.json());
        assert.deepEqual(
          (JSON.parse(json.stdout) as { items: { id: string }[] }).items.map((c) => c.id),
          [alice.id, bob.id],
        );

        const ja = await runInProcess(['connections', 'list', link.name], {
          env: { ...fixture.env, LANG: 'ja_JP.UTF-8' },
          clock,
        });
        succeeded(ja);
        assert.deepEqual(cells(ja.stdout)[0], [
          'アカウント',
          '状態',
          '有効期限',
          '最終更新',
          '最後のエラー',
          'ID',
        ]);
        assert.deepEqual(cells(ja.stdout)[1]?.slice(2, 4), [
          `58 分後 (${seconds(alice.expiresAt ?? '')})`,
          '1 分前',
        ]);
      });

      test('list of a link without connections says how to authorize', async () => {
        const link = await fixture.createLink();
        const result = await runInProcess(['connections', 'list', link.name], {
          env: fixture.env,
        });
        succeeded(result);
        assert.equal(
          result.stdout,
          `The link "${link.name}" has no connections yet; authorize an account with "outlink links authorize".\n`,
        );
        const json = await runInProcess(['connections', 'list', link.name, '--json'], {
          env: fixture.env,
        });
        succeeded(json);
        assert.deepEqual(JSON.parse(json.stdout), { items: [] });
      });

      test('show prints every field; --json is the API', async () => {
        const link = await fixture.createLink();
        const alice = await get(await fixture.authorize(link.id, ALICE));
        const result = await runInProcess(['connections', 'show', alice.id], {
          env: fixture.env,
          clock: clockFor(alice),
        });
        succeeded(result);
        assert.deepEqual(cells(result.stdout), [
          ['Account', ALICE],
          ['ID', alice.id],
          ['Link', `${link.name} (${link.id})`],
          ['Status', 'valid'],
          ['Expires', `in 58 min (${seconds(alice.expiresAt ?? '')})`],
          ['Scopes', alice.scopes.join(' ')],
          ['Last refresh', `1 min ago (${seconds(alice.lastRefreshedAt ?? '')})`],
          ['Created', alice.createdAt],
          ['Last error', '-'],
        ]);
        assert.deepEqual(alice.scopes, ['openid', 'email', 'offline_access']);

        const json = await runInProcess(['connections', 'show', alice.id, '--json'], {
          env: fixture.env,
        });
        succeeded(json);
        const shown = await api(`/api/v1/connections/${alice.id}`);
        assert.deepEqual(JSON.parse(json.stdout), shown.json());
      });

      test('refresh gets a new token at the provider', async () => {
        const link = await fixture.createLink();
        const id = await fixture.authorize(link.id, ALICE);
        const before = await fixture.apiToken(id);
        const requests = fixture.proxy.count('/token');
        const result = await runInProcess(['connections', 'refresh', id], {
          env: fixture.env,
          fetch: fixture.as.fetch,
        });
        succeeded(result);
        assert.equal(fixture.proxy.count('/token'), requests + 1);
        const refreshed = await get(id);
        assert.equal(refreshed.status, 'valid');
        assert.equal(
          result.stdout,
          `Refreshed the token of ${ALICE} (expires: in 59 min (${seconds(refreshed.expiresAt ?? '')})).\n`,
        );
        assert.notEqual((await fixture.apiToken(id)).accessToken, before.accessToken);

        const json = await runInProcess(['connections', 'refresh', id, '--json'], {
          env: fixture.env,
          fetch: fixture.as.fetch,
        });
        succeeded(json);
        assert.deepEqual(JSON.parse(json.stdout), (await api(`/api/v1/connections/${id}`)).json());
      });

      test('a refused refresh exits 1 with the provider’s cause and remedy; show keeps them', async () => {
        const link = await fixture.createLink();
        const id = await fixture.authorize(link.id, ALICE);
        fixture.proxy.queue(oauthError('invalid_grant', 400, 'grant request is invalid'));
        const result = await runInProcess(['connections', 'refresh', id], {
          env: fixture.env,
          fetch: fixture.as.fetch,
        });
        const invalidGrant = [
          "error invalid_grant: The provider no longer accepts this connection's grant (refresh token revoked, expired or already used).",
          'remedy: Re-authorize this account.',
          'provider: invalid_grant: grant request is invalid',
        ];
        failed(result, invalidGrant);
        assert.equal(result.stdout, '');
        const broken = await get(id);
        assert.equal(broken.status, 'reauthorization_required');

        const at = Date.parse(broken.lastError?.at ?? '');
        const shown = await runInProcess(['connections', 'show', id], {
          env: fixture.env,
          clock: createManualClock(new Date(at + 5_000)),
        });
        succeeded(shown);
        const rows = cells(shown.stdout);
        assert.deepEqual(rows[3], ['Status', 'reauthorization_required']);
        assert.deepEqual(rows.slice(8), [
          ['Last error', `invalid_grant (5 s ago (${seconds(broken.lastError?.at ?? '')}))`],
          [
            'Cause',
            "The provider no longer accepts this connection's grant (refresh token revoked, expired or already used).",
          ],
          ['Remedy', 'Re-authorize this account.'],
          ['Provider said', 'invalid_grant: grant request is invalid'],
        ]);

        const listed = await runInProcess(['connections', 'list', link.id], { env: fixture.env });
        succeeded(listed);
        assert.deepEqual(
          cells(listed.stdout)[1]?.filter((_, i) => i !== 2 && i !== 3),
          [ALICE, 'reauthorization_required', 'invalid_grant', id],
        );

        // --json still prints the connection, so a script sees the new status.
        fixture.proxy.queue(oauthError('invalid_grant', 400, 'grant request is invalid'));
        const json = await runInProcess(['connections', 'refresh', id, '--json'], {
          env: fixture.env,
          fetch: fixture.as.fetch,
        });
        failed(json, invalidGrant);
        assert.deepEqual(JSON.parse(json.stdout), (await api(`/api/v1/connections/${id}`)).json());
      });

      test('a failing provider exits 1 while the token stays usable', async () => {
        const link = await fixture.createLink();
        const id = await fixture.authorize(link.id, ALICE);
        const before = await fixture.apiToken(id);
        const unavailable = { kind: 'respond', status: 503, body: 'down for maintenance' } as const;
        fixture.proxy.queue(unavailable, unavailable, unavailable);
        const result = await runInProcess(['connections', 'refresh', id], {
          env: fixture.env,
          fetch: fixture.as.fetch,
        });
        failed(result, [
          "error provider_unavailable: The provider's token endpoint answered with a server error.",
          'remedy: Nothing to do if it is brief: Outlink retries with backoff.',
        ]);
        assert.equal(result.stdout, '');
        assert.equal((await get(id)).status, 'refresh_failing');
        assert.equal((await fixture.apiToken(id)).accessToken, before.accessToken);
      });

      test('delete removes the connection and its tokens', async () => {
        const link = await fixture.createLink();
        const id = await fixture.authorize(link.id, ALICE);
        const result = await runInProcess(['connections', 'delete', id], { env: fixture.env });
        succeeded(result);
        assert.equal(result.stdout, `Deleted the connection of ${ALICE} (${id}) and its tokens.\n`);
        assert.deepEqual(await fixture.outlink.services.connections.list(link.id), []);
        assert.equal((await api(`/api/v1/connections/${id}`)).statusCode, 404);

        const bob = await fixture.authorize(link.id, BOB);
        const shown = (await api(`/api/v1/connections/${bob}`)).json();
        const json = await runInProcess(['connections', 'delete', bob, '--json'], {
          env: fixture.env,
        });
        succeeded(json);
        assert.deepEqual(JSON.parse(json.stdout), shown);
        assert.equal((await api(`/api/v1/connections/${bob}`)).statusCode, 404);
      });

      test('an unknown connection is connection_not_found for every command', async () => {
        for (const command of ['show', 'refresh', 'delete']) {
          const result = await runInProcess(['connections', command, 'no-such-id'], {
            env: fixture.env,
          });
          failed(result, [
            'error connection_not_found: There is no connection no-such-id.',
            "remedy: List the link's connections with GET /api/v1/links/:id/connections or outlink connections list.",
          ]);
          assert.equal(result.stdout, '');
        }
        const list = await runInProcess(['connections', 'list', 'No such link'], {
          env: fixture.env,
        });
        failed(list, [
          'error link_not_found: There is no application link No such link.',
          'remedy: List the links with GET /api/v1/links or outlink links list.',
        ]);
      });
    });
  }
});
