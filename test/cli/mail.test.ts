import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestReport } from '../../src/schemas/mail-servers.js';
import {
  type MailServerJson,
  type OutlinkMailWorld,
  startOutlinkMailWorld,
} from '../mail/mail-servers-world.js';
import { Dialects } from '../support/harness.js';
import { closedPort } from '../support/ports.js';
import { ALICE, BOB } from '../support/worlds.js';
import { type CliResult, databaseEnv, runCli, runInProcess } from './cli-harness.js';

/** Output cells: columns are separated by two spaces or more. */
const cells = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/ {2,}/));

for (const dialect of Dialects) {
  describe(`outlink mail test on ${dialect}`, () => {
    let world: OutlinkMailWorld;
    let env: Record<string, string>;
    let imap: MailServerJson;
    let smtp: MailServerJson;
    let closed: MailServerJson;
    let delegated: MailServerJson;

    const run = (args: readonly string[], extra: Record<string, string> = {}): Promise<CliResult> =>
      runInProcess(['mail', 'test', ...args], {
        env: { ...env, ...extra },
        fetch: world.as.fetch,
        mailTls: { ca: world.tls.caPem },
        mailTimeouts: { connectMs: 2_000, tlsMs: 2_000, greetingMs: 2_000, commandMs: 5_000 },
      });

    before(async () => {
      world = await startOutlinkMailWorld({ dialect });
      env = databaseEnv(world.outlink.database);
      const common = {
        host: '127.0.0.1',
        username: ALICE,
        authentication: { method: 'oauth2', linkId: world.linkId },
      };
      imap = await world.createServer({
        ...common,
        name: 'Support inbox',
        protocol: 'imap',
        port: world.dovecot.ports.imaps,
      });
      smtp = await world.createServer({
        ...common,
        name: 'Support outbox',
        protocol: 'smtp',
        port: world.dovecot.ports.submission,
        security: 'starttls',
      });
      closed = await world.createServer({
        ...common,
        name: 'Nowhere',
        protocol: 'pop3',
        port: await closedPort(),
      });
      delegated = await world.createServer({
        ...common,
        name: 'Shared',
        protocol: 'pop3',
        port: world.dovecot.ports.pop3s,
        authentication: { method: 'oauth2', connectionId: world.bob },
      });
    });
    after(() => world?.close());

    it('prints every step of a good server and exits 0', async () => {
      const result = await run([imap.name]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      const rows = cells(result.stdout);
      assert.deepEqual(
        rows.map((r) => r.slice(0, 2)),
        [
          ['ok', 'Resolve and connect'],
          ['ok', 'TLS'],
          ['ok', 'Greeting and capabilities'],
          ['ok', 'Access token'],
          ['ok', 'Authentication'],
          ['ok', 'Open the folder'],
          ['The mail server Support inbox works: every step passed.'],
        ],
      );
      assert.equal(
        rows[0]?.[2],
        `Connected to 127.0.0.1 (127.0.0.1) on port ${world.dovecot.ports.imaps}.`,
      );
      assert.equal(rows[4]?.[2], `Logged in as ${ALICE} with OAUTHBEARER.`);
      assert.equal(rows[5]?.[2], 'Opened the folder INBOX: 0 messages.');
    });

    it('--json prints the API shape; the id works as well as the name', async () => {
      const result = await run([imap.id, '--json']);
      assert.equal(result.code, 0, result.stderr);
      const printed = JSON.parse(result.stdout) as TestReport;
      const api = await world.test(imap.id);
      assert.deepEqual(printed, api);
    });

    it('sends the test message of an outgoing server to --to', async () => {
      const relayedBefore = world.dovecot.relayed().length;
      const result = await run([smtp.name, '--to', BOB]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(cells(result.stdout).at(-2), [
        'ok',
        'Send a test message',
        `Sent a test message to ${BOB}; the server answered: 250 2.0.0 OK: message queued`,
      ]);
      const relayed = (await world.dovecot.waitForRelayed(relayedBefore + 1)).at(-1)!;
      assert.deepEqual(relayed.to, [BOB]);
    });

    it('says where a server breaks, with the error and remedy on stderr, and exits 1', async () => {
      const result = await run([closed.name]);
      assert.equal(result.code, 1);
      const detail = `Cannot connect to the server: cannot connect to 127.0.0.1:${closed.port}: ECONNREFUSED`;
      assert.deepEqual(cells(result.stdout), [['FAILED', 'Resolve and connect', detail]]);
      assert.equal(
        result.stderr,
        [
          'The mail server Nowhere failed at the step "Resolve and connect".',
          `error connect_failed: ${detail}`,
          'remedy: Check the host name and port, and that Outlink can reach the server (DNS, firewall).',
          '',
        ].join('\n'),
      );
    });

    it("shows what the server said and its challenge for a refused delegate's token", async () => {
      const result = await run([delegated.name]);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        [
          'The mail server Shared failed at the step "Authentication".',
          'error auth_failed: The server refused the login: OAUTHBEARER authentication failed: [AUTH] Authentication failed.',
          `remedy: The token is of ${BOB}, but the mailbox is ${ALICE}, and the server refused it even after a refresh: either ${BOB} has no full access to ${ALICE} (grant it, for a shared mailbox), or the wrong account signed in: authorize ${ALICE} itself and choose that connection.`,
          'server said: Authentication failed.',
          'challenge: {"status":"invalid_token"}',
          '',
        ].join('\n'),
      );
    });

    it('speaks Japanese under LANG=ja_JP.UTF-8', async () => {
      const result = await run([closed.name], { LANG: 'ja_JP.UTF-8' });
      assert.equal(result.code, 1);
      assert.deepEqual(
        cells(result.stdout).map((r) => r.slice(0, 2)),
        [['失敗', '名前解決と接続']],
      );
      assert.match(
        result.stderr,
        /^メール サーバー Nowhere はステップ「名前解決と接続」で失敗しました。\n/,
      );
    });

    it('refuses what it cannot do: an unknown server, --to for an incoming one', async () => {
      const unknown = await run(['No such server']);
      assert.equal(unknown.code, 1);
      assert.equal(
        unknown.stderr.split('\n')[0],
        'error mail_server_not_found: There is no mail server No such server.',
      );
      const to = await run([imap.name, '--to', BOB]);
      assert.equal(to.code, 1);
      assert.equal(
        to.stderr.split('\n')[0],
        'error mail_field_not_applicable: The field "to" does not apply to this mail server (imap, oauth2 authentication).',
      );
    });

    it('usage errors exit 2: no server, a bad --to, a command it does not have', async () => {
      const missing = await run([]);
      assert.equal(missing.code, 2);
      assert.equal(missing.stderr.split('\n')[0], 'error usage: The argument <server> is missing.');
      const bad = await run([imap.name, '--to', 'not an address']);
      assert.equal(bad.code, 2);
      assert.equal(
        bad.stderr.split('\n')[0],
        'error usage: The value "not an address" of --to is not valid. Give an e-mail address such as support@example.com.',
      );
      const unknown = await runInProcess(['mail', 'fetch', imap.name], { env });
      assert.equal(unknown.code, 2);
      assert.equal(unknown.stderr.split('\n')[0], 'error usage: Unknown command "mail fetch".');
    });

    it('the entry point, trusting the test CA the Node way (NODE_EXTRA_CA_CERTS)', async () => {
      const caFile = join(world.outlink.database.dataDir, 'test-ca.pem');
      writeFileSync(caFile, world.tls.caPem);
      const result = await runCli(['mail', 'test', imap.name], {
        env: { ...env, NODE_EXTRA_CA_CERTS: caFile },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout.trimEnd().split('\n').at(-1),
        'The mail server Support inbox works: every step passed.',
      );
    });
  });
}
