import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LinkView } from '../../src/schemas/links.js';
import { Dialects } from '../support/harness.js';
import { ALICE, BOB } from '../support/worlds.js';
import {
  type CliResult,
  type RunningCli,
  runInProcess,
  startChild,
  startInProcess,
} from './cli-harness.js';
import { type OAuthFixture, startOAuthFixture } from './oauth-fixture.js';

/** The URL the CLI printed: Outlink's one-time start URL (issue 11), not the provider's. */
const AUTHORIZATION_URL = /^https:\/\/\S+\/oauth2\/start\/[A-Za-z0-9_-]{43}$/m;

const OPEN =
  "Open this Outlink start URL (it works once, for 10 minutes) in the browser where you will sign in as the mailbox's account, and finish there:";
const redirectLine = (link: LinkView) =>
  `The provider then sends the browser to ${link.redirectUrl}: that redirect URL must be ` +
  'registered with the provider, and "outlink serve" must be running there to receive it.';
const waiting = (seconds: number) =>
  `Waiting for the authorization (up to ${seconds} s; Ctrl-C stops waiting)…\n`;

const ACCESS_DENIED = [
  'error access_denied: The sign-in was cancelled or consent was refused at the provider.',
  "remedy: Start the authorization again and accept the requested permissions with the mailbox's account.",
  'provider: access_denied: End-User aborted interaction',
];

/**
 * Plays the browser: takes the URL the CLI printed on `stream`, signs in at the provider and
 * lands on the in-test server, whose page says 200 (connected) or 400 (failed).
 */
async function browse(
  fixture: OAuthFixture,
  cli: RunningCli,
  login: { email: string; consent?: boolean },
  expect: { stream?: 'stdout' | 'stderr'; status?: 200 | 400 } = {},
): Promise<{ url: string; providerUrl: string }> {
  const url = await cli.waitFor(AUTHORIZATION_URL, expect.stream ?? 'stdout');
  const { providerUrl, cookie } = await fixture.open(url);
  const page = await fixture.deliver(await fixture.as.login(providerUrl, login), cookie);
  assert.equal(page.statusCode, expect.status ?? 200, page.body);
  // Issue 11: the start URL works once.
  assert.equal((await fixture.outlink.app.inject(new URL(url).pathname)).statusCode, 410);
  return { url, providerUrl };
}

async function connectionOf(fixture: OAuthFixture, link: LinkView, account: string) {
  const all = await fixture.outlink.services.connections.list(link.id);
  const found = all.find((c) => c.account === account);
  assert.ok(found, `no connection of ${account}`);
  return found;
}

function exitedWith(result: CliResult, code: number): void {
  assert.equal(result.code, code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
}

describe('outlink links authorize', { concurrency: true }, () => {
  for (const dialect of Dialects) {
    describe(dialect, { concurrency: 1 }, () => {
      let fixture: OAuthFixture;
      before(async () => {
        fixture = await startOAuthFixture(dialect);
      });
      after(() => fixture?.close());

      test('the entry point prints the URL, waits for the server, and the token works', async () => {
        const link = await fixture.createLink();
        const cli = startChild(['links', 'authorize', link.name, '--timeout', '60'], {
          env: fixture.env,
        });
        try {
          const { url, providerUrl } = await browse(fixture, cli, { email: ALICE });
          const result = await cli.done;
          exitedWith(result, 0);
          const connection = await connectionOf(fixture, link, ALICE);
          assert.equal(connection.status, 'valid');
          assert.equal(
            result.stdout,
            [
              OPEN,
              url,
              redirectLine(link),
              `Authorized ${ALICE} for link "${link.name}": connection ${connection.id}.`,
              '',
            ].join('\n'),
          );
          assert.equal(result.stderr, waiting(60));
          const params = new URL(providerUrl).searchParams;
          assert.equal(params.get('redirect_uri'), link.redirectUrl);
          assert.equal(params.get('code_challenge_method'), 'S256');
        } finally {
          cli.kill();
        }

        // The token a mail client gets from `passwordeval`: the token and a newline, nothing
        // else, and the same one the API hands out.
        const token = await startChild(['token', link.name], { env: fixture.env }).done;
        exitedWith(token, 0);
        assert.equal(token.stderr, '');
        const connection = await connectionOf(fixture, link, ALICE);
        const api = await fixture.apiToken(connection.id);
        assert.equal(token.stdout, `${api.accessToken}\n`);
        assert.equal(api.account, ALICE);
      });

      if (dialect === 'sqlite') {
        test('a refused consent exits 1 with the code, cause, remedy and provider text', async () => {
          const link = await fixture.createLink();
          const cli = startChild(['links', 'authorize', link.id, '--timeout', '60', '--json'], {
            env: fixture.env,
          });
          try {
            // With --json the instructions go to stderr and stdout carries the outcome alone.
            const { url } = await browse(
              fixture,
              cli,
              { email: ALICE, consent: false },
              { stream: 'stderr', status: 400 },
            );
            const result = await cli.done;
            exitedWith(result, 1);
            assert.equal(
              result.stderr,
              [OPEN, url, redirectLine(link), waiting(60).trimEnd(), ...ACCESS_DENIED, ''].join(
                '\n',
              ),
            );
            const outcome = JSON.parse(result.stdout) as { flowId: string };
            const api = await fixture.outlink.app.inject({
              method: 'GET',
              url: `/api/v1/authorizations/${outcome.flowId}`,
              headers: await fixture.outlink.tokenHeaders(),
            });
            assert.deepEqual(outcome, api.json());
            assert.deepEqual(outcome, {
              flowId: outcome.flowId,
              linkId: link.id,
              status: 'failed',
              error: {
                code: 'access_denied',
                message: 'The sign-in was cancelled or consent was refused at the provider.',
                remedy:
                  "Start the authorization again and accept the requested permissions with the mailbox's account.",
                providerError: 'access_denied',
                providerDescription: 'End-User aborted interaction',
              },
            });
            assert.deepEqual(await fixture.outlink.services.connections.list(link.id), []);
          } finally {
            cli.kill();
          }
        });
      }

      if (dialect === 'sqlite') {
        test("the provider's words cannot write control characters to the terminal", async () => {
          const link = await fixture.createLink();
          const cli = startInProcess(['links', 'authorize', link.name], { env: fixture.env });
          const opened = await fixture.open(await cli.waitFor(AUTHORIZATION_URL));
          const url = new URL(opened.providerUrl);
          // What a hostile or broken provider could send the browser back with.
          const callback = new URL(link.redirectUrl);
          callback.search = new URLSearchParams({
            error: 'access_denied',
            error_description: 'Denied\u001b[2J by\npolicy\u009b',
            state: url.searchParams.get('state') ?? '',
          }).toString();
          assert.equal((await fixture.deliver(callback, opened.cookie)).statusCode, 400);
          const result = await cli.done;
          exitedWith(result, 1);
          assert.deepEqual(result.stderr.split('\n').slice(1), [
            ...ACCESS_DENIED.slice(0, 2),
            'provider: access_denied: Denied by policy',
            '',
          ]);
        });
      }

      test('--json prints the succeeded outcome with the account', async () => {
        const link = await fixture.createLink();
        const cli = startInProcess(['links', 'authorize', link.name, '--json'], {
          env: fixture.env,
        });
        const { url } = await browse(fixture, cli, { email: BOB }, { stream: 'stderr' });
        const result = await cli.done;
        exitedWith(result, 0);
        const connection = await connectionOf(fixture, link, BOB);
        const outcome = JSON.parse(result.stdout) as { flowId: string };
        assert.deepEqual(outcome, {
          flowId: outcome.flowId,
          linkId: link.id,
          status: 'succeeded',
          connectionId: connection.id,
          account: BOB,
        });
        assert.equal(result.stderr, [OPEN, url, redirectLine(link), waiting(600)].join('\n'));
      });

      test('re-authorizing a connection with another account is refused, naming both', async () => {
        const link = await fixture.createLink();
        const aliceId = await fixture.authorize(link.id, ALICE);
        const cli = startInProcess(
          ['links', 'authorize', link.name, '--connection', aliceId, '--timeout', '30'],
          { env: fixture.env },
        );
        await browse(fixture, cli, { email: BOB }, { status: 400 });
        const result = await cli.done;
        exitedWith(result, 1);
        assert.equal(
          result.stderr,
          [
            waiting(30).trimEnd(),
            `error account_mismatch: The provider signed in ${BOB}, but the connection being re-authorized belongs to ${ALICE}.`,
            `remedy: Sign out at the provider and re-authorize as ${ALICE}, or use "Authorize another account" for ${BOB}.`,
            '',
          ].join('\n'),
        );
        const connections = await fixture.outlink.services.connections.list(link.id);
        assert.deepEqual(
          connections.map((c) => [c.id, c.account]),
          [[aliceId, ALICE]],
        );
      });

      test('re-authorizing with the same account updates the connection', async () => {
        const link = await fixture.createLink();
        const aliceId = await fixture.authorize(link.id, ALICE);
        const before = await fixture.apiToken(aliceId);
        const cli = startInProcess(['links', 'authorize', link.id, '--connection', aliceId], {
          env: fixture.env,
        });
        await browse(fixture, cli, { email: ALICE });
        const result = await cli.done;
        exitedWith(result, 0);
        assert.ok(
          result.stdout.endsWith(
            `Authorized ${ALICE} for link "${link.name}": connection ${aliceId}.\n`,
          ),
          result.stdout,
        );
        const afterwards = await fixture.apiToken(aliceId);
        assert.notEqual(afterwards.accessToken, before.accessToken);
      });

      test('no answer within --timeout exits 1 and says where the browser should return', async () => {
        const link = await fixture.createLink();
        const started = Date.now();
        const result = await runInProcess(['links', 'authorize', link.name, '--timeout', '1'], {
          env: fixture.env,
        });
        const elapsed = Date.now() - started;
        exitedWith(result, 1);
        assert.ok(elapsed >= 1_000 && elapsed < 10_000, `took ${elapsed} ms`);
        assert.equal(
          result.stderr,
          [
            waiting(1).trimEnd(),
            `error authorization_timeout: No outcome within 1 s: the browser has not come back to ${link.redirectUrl}.`,
            'remedy: Check that "outlink serve" runs at that address and the browser can reach it, and that the provider has this redirect URL registered exactly; then run the command again.',
            '',
          ].join('\n'),
        );
        const [line1, url] = result.stdout.split('\n');
        assert.equal(line1, OPEN);
        assert.match(url ?? '', AUTHORIZATION_URL);
        // The flow is still open: the server may complete it until it expires.
        const flows = await fixture.outlink.services.store.db
          .selectFrom('authorization_flows')
          .select('status')
          .where('link_id', '=', link.id)
          .execute();
        assert.deepEqual(flows, [{ status: 'pending' }]);
      });

      test('an unknown link or connection fails before any URL is printed', async () => {
        const link = await fixture.createLink();
        const unknownLink = await runInProcess(['links', 'authorize', 'No such link'], {
          env: fixture.env,
        });
        exitedWith(unknownLink, 1);
        assert.equal(unknownLink.stdout, '');
        assert.equal(
          unknownLink.stderr.split('\n')[0],
          'error link_not_found: There is no application link No such link.',
        );
        const unknownConnection = await runInProcess(
          ['links', 'authorize', link.name, '--connection', 'c0ffee'],
          { env: fixture.env },
        );
        exitedWith(unknownConnection, 1);
        assert.equal(unknownConnection.stdout, '');
        assert.equal(
          unknownConnection.stderr.split('\n')[0],
          'error connection_not_found: There is no connection c0ffee.',
        );
      });
    });
  }
});

describe('outlink links authorize usage', () => {
  test('an invalid --timeout is explained in Japanese under LANG=ja_JP.UTF-8', async () => {
    const result = await runInProcess(['links', 'authorize', 'Gmail', '--timeout', '0'], {
      env: { OUTLINK_DATA_DIR: '/nonexistent/outlink-usage-only', LANG: 'ja_JP.UTF-8' },
    });
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'error usage: --timeout の値「0」は無効です。1 から 600 までの整数 (秒) を指定してください。\n' +
        'remedy: "outlink links authorize --help" を参照してください。\n',
    );
  });

  const env = { OUTLINK_DATA_DIR: '/nonexistent/outlink-usage-only' };
  const cases: readonly (readonly [string[], string])[] = [
    [
      ['links', 'authorize', 'Gmail', '--timeout', '0'],
      'The value "0" of --timeout is not valid. Give a whole number of seconds from 1 to 600.',
    ],
    [
      ['links', 'authorize', 'Gmail', '--timeout', '601'],
      'The value "601" of --timeout is not valid. Give a whole number of seconds from 1 to 600.',
    ],
    [
      ['links', 'authorize', 'Gmail', '--timeout', '1.5'],
      'The value "1.5" of --timeout is not valid. Give a whole number of seconds from 1 to 600.',
    ],
    [
      ['links', 'authorize', 'Gmail', '--account-label', ' '],
      'The value " " of --account-label is not valid. Give a label that is not blank, at most 320 characters long.',
    ],
    [['links', 'authorize'], 'The argument <link> is missing.'],
    [['links', 'authorize', 'Gmail', '--connection'], 'The option --connection needs a value'],
  ];
  for (const [args, message] of cases) {
    test(`outlink ${args.join(' ')} exits 2 without touching data`, async () => {
      const result = await runInProcess(args, { env });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.ok(result.stderr.startsWith(`error usage: ${message}`), result.stderr);
      assert.ok(
        result.stderr.endsWith('remedy: See "outlink links authorize --help".\n'),
        result.stderr,
      );
    });
  }
});
