import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createManualClock } from '../../src/domain/clock.js';
import { oauthError } from '../peers/fault-proxy.js';
import { ADMIN_PASSWORD, createTestDatabase, Dialects } from '../support/harness.js';
import { ALICE, BOB } from '../support/worlds.js';
import { type CliResult, databaseEnv, runInProcess, startChild } from './cli-harness.js';
import { type OAuthFixture, startOAuthFixture } from './oauth-fixture.js';

const HOUR = 3_600_000;

/** A failure of `outlink token`: exit 1, the error on stderr, and stdout untouched. */
function failed(result: CliResult, stderr: readonly string[]): void {
  assert.equal(result.code, 1, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, [...stderr, ''].join('\n'));
}

function printed(result: CliResult, token: string): void {
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  assert.equal(result.stdout, `${token}\n`);
}

describe('outlink token', { concurrency: true }, () => {
  for (const dialect of Dialects) {
    describe(dialect, { concurrency: 1 }, () => {
      let fixture: OAuthFixture;
      before(async () => {
        fixture = await startOAuthFixture(dialect);
      });
      after(() => fixture?.close());

      const api = async (url: string) => {
        const res = await fixture.outlink.app.inject({
          method: 'GET',
          url,
          headers: await fixture.outlink.tokenHeaders(),
        });
        assert.equal(res.statusCode, 200, res.body);
        return res.json() as { accessToken: string; account: string };
      };

      test('prints the token alone, by link name, link id or connection; --json is the API', async () => {
        const link = await fixture.createLink();
        const id = await fixture.authorize(link.id, ALICE);
        const byName = await runInProcess(['token', link.name], { env: fixture.env });
        const expected = await fixture.apiToken(id);
        printed(byName, expected.accessToken);
        printed(await runInProcess(['token', link.id], { env: fixture.env }), expected.accessToken);
        printed(
          await runInProcess(['token', '--connection', id], { env: fixture.env }),
          expected.accessToken,
        );
        printed(
          await runInProcess(['token', link.name, '--account', ALICE.toUpperCase()], {
            env: fixture.env,
          }),
          expected.accessToken,
        );

        const json = await runInProcess(['token', '--connection', id, '--json'], {
          env: fixture.env,
        });
        assert.equal(json.code, 0, json.stderr);
        assert.deepEqual(JSON.parse(json.stdout), expected);
      });

      test('several accounts need --account: ambiguous_connection, then the named one', async () => {
        const link = await fixture.createLink();
        await fixture.authorize(link.id, ALICE);
        const bob = await fixture.authorize(link.id, BOB);
        failed(await runInProcess(['token', link.name], { env: fixture.env }), [
          `error ambiguous_connection: The link has several connections: ${ALICE}, ${BOB}.`,
          'remedy: Name one with ?account= (or --account).',
        ]);
        const named = await runInProcess(['token', link.name, '--account', BOB], {
          env: fixture.env,
        });
        const expected = await api(
          `/api/v1/links/${link.id}/token?account=${encodeURIComponent(BOB)}`,
        );
        printed(named, expected.accessToken);
        assert.equal(expected.accessToken, (await fixture.apiToken(bob)).accessToken);
        failed(
          await runInProcess(['token', link.name, '--account', 'carol@example.test'], {
            env: fixture.env,
          }),
          [
            'error connection_not_found: There is no connection carol@example.test.',
            "remedy: List the link's connections with GET /api/v1/links/:id/connections or outlink connections list.",
          ],
        );
      });

      test('a link nobody authorized is not_authorized; unknown names are not found', async () => {
        const link = await fixture.createLink();
        failed(await runInProcess(['token', link.name], { env: fixture.env }), [
          `error not_authorized: The link ${link.id} has no authorized account yet.`,
          'remedy: Authorize the link: POST /api/v1/links/:id/authorizations, outlink links authorize, or the Authorize button.',
        ]);
        failed(await runInProcess(['token', 'No such link'], { env: fixture.env }), [
          'error link_not_found: There is no application link No such link.',
          'remedy: List the links with GET /api/v1/links or outlink links list.',
        ]);
        failed(await runInProcess(['token', '--connection', 'no-such-id'], { env: fixture.env }), [
          'error connection_not_found: There is no connection no-such-id.',
          "remedy: List the link's connections with GET /api/v1/links/:id/connections or outlink connections list.",
        ]);
      });

      test('a revoked grant is reauthorization_required', async () => {
        const link = await fixture.createLink();
        const id = await fixture.authorize(link.id, ALICE);
        fixture.proxy.queue(oauthError('invalid_grant', 400, 'grant request is invalid'));
        await assert.rejects(
          fixture.outlink.services.connections.refresh({ kind: 'cli' }, id),
          (error: Error & { code?: string }) => error.code === 'reauthorization_required',
        );
        failed(await runInProcess(['token', link.name], { env: fixture.env }), [
          `error reauthorization_required: The connection of ${ALICE} needs to be authorized again.`,
          "remedy: Re-authorize the account (or fix the link if its last error says so); see the connection's last error.",
        ]);
      });

      test('an expired token is refreshed first; a failing provider is provider_unavailable', async () => {
        const link = await fixture.createLink();
        const id = await fixture.authorize(link.id, ALICE);
        const before = await fixture.apiToken(id);
        const { expiresAt } = await fixture.outlink.services.connections.get(id);
        const later = () => createManualClock(new Date(Date.parse(expiresAt ?? '') + HOUR));

        fixture.proxy.always({ kind: 'respond', status: 503, body: 'down for maintenance' });
        let retryAt = '';
        try {
          const requests = fixture.proxy.count('/token');
          const clock = later();
          const result = await runInProcess(['token', link.name], {
            env: fixture.env,
            fetch: fixture.as.fetch,
            clock,
          });
          // Retried with backoff before giving up (DESIGN §7), never marked for re-authorization;
          // the next try is when the scheduler will make it.
          assert.equal(fixture.proxy.count('/token'), requests + 3);
          const row = await fixture.outlink.services.store.db
            .selectFrom('connections')
            .select(['status', 'retry_at'])
            .where('id', '=', id)
            .executeTakeFirstOrThrow();
          assert.equal(row.status, 'refresh_failing');
          retryAt = row.retry_at ?? '';
          const retryAfter = Math.ceil(
            (Date.parse(row.retry_at ?? '') - clock.now().getTime()) / 1000,
          );
          failed(result, [
            'error provider_unavailable: The provider could not refresh the token just now (provider_unavailable).',
            `remedy: Outlink retries with backoff; try again in ${retryAfter} seconds.`,
          ]);
        } finally {
          fixture.proxy.always({ kind: 'pass' });
        }

        // Until the retry time the provider is left alone: the same answer, no request.
        const requests = fixture.proxy.count('/token');
        const waiting = await runInProcess(['token', link.name], {
          env: fixture.env,
          fetch: fixture.as.fetch,
          clock: later(),
        });
        assert.equal(waiting.code, 1);
        assert.equal(waiting.stdout, '');
        assert.match(waiting.stderr, /^error provider_unavailable: /);
        assert.equal(fixture.proxy.count('/token'), requests);

        const refreshed = await runInProcess(['token', link.name], {
          env: fixture.env,
          fetch: fixture.as.fetch,
          clock: createManualClock(new Date(Date.parse(retryAt) + 1)),
        });
        const now = await fixture.apiToken(id);
        assert.notEqual(now.accessToken, before.accessToken);
        printed(refreshed, now.accessToken);
        assert.equal((await fixture.outlink.services.connections.get(id)).status, 'valid');
      });

      if (dialect === 'sqlite') {
        test('the entry point prints nothing but the token, even with the log at trace', async () => {
          const link = await fixture.createLink();
          const id = await fixture.authorize(link.id, ALICE);
          const result = await startChild(['token', '--connection', id], {
            env: { ...fixture.env, OUTLINK_LOG_LEVEL: 'trace' },
          }).done;
          assert.equal(result.code, 0, result.stderr);
          assert.equal(result.stdout, `${(await fixture.apiToken(id)).accessToken}\n`);

          const missing = await startChild(['token', 'No such link'], { env: fixture.env }).done;
          failed(missing, [
            'error link_not_found: There is no application link No such link.',
            'remedy: List the links with GET /api/v1/links or outlink links list.',
          ]);
        });
      }
    });
  }

  test('a generated admin password goes to stderr, never into the token output', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const env = databaseEnv(database);
      delete env.OUTLINK_ADMIN_PASSWORD;
      const result = await runInProcess(['token', 'Gmail'], { env });
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      const lines = result.stderr.split('\n');
      assert.match(
        lines[0] ?? '',
        /^Generated the password of user "admin" \(shown once; also in .+initial-admin-password, which is deleted when the password is changed\): \S+$/,
      );
      assert.ok(!result.stderr.includes(ADMIN_PASSWORD));
      assert.equal(lines[1], 'error link_not_found: There is no application link Gmail.');
    } finally {
      await database.drop();
    }
  });
});

describe('outlink token usage', () => {
  const env = { OUTLINK_DATA_DIR: '/nonexistent/outlink-usage-only' };
  const cases: readonly (readonly [string[], string])[] = [
    [['token'], 'The argument <link> is missing.'],
    [['token', 'Gmail', '--connection', 'c1'], 'Give only one of <link>, --connection.'],
    [
      ['token', '--connection', 'c1', '--account', 'a@example.test'],
      'Give only one of --account, --connection.',
    ],
    [['token', 'Gmail', 'Outlook'], 'Unexpected argument "Outlook".'],
    [['token', 'Gmail', '--account'], 'The option --account needs a value'],
  ];
  for (const [args, message] of cases) {
    test(`outlink ${args.join(' ')} exits 2 with nothing on stdout`, async () => {
      const result = await runInProcess(args, { env });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.ok(result.stderr.startsWith(`error usage: ${message}`), result.stderr);
      assert.ok(result.stderr.endsWith('remedy: See "outlink token --help".\n'), result.stderr);
    });
  }
});
