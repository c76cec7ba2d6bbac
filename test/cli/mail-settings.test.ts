import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MailServerJson } from '../mail/mail-servers-world.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';
import { type CliResult, databaseEnv, runCli, runInProcess } from './cli-harness.js';

/**
 * `outlink mail show` and `outlink mail set` (issue 10 item 1): a mail server's settings,
 * the mail handler's among them, shown and changed through the same service as the API,
 * with the API's errors named by the flags that caused them. The servers log in with
 * passwords: settings need no token.
 */
for (const dialect of Dialects) {
  describe(`outlink mail show and mail set on ${dialect}`, () => {
    let outlink: TestOutlink;
    let env: Record<string, string>;
    let imap: MailServerJson;
    let pop3: MailServerJson;
    let smtp: MailServerJson;

    const run = (args: readonly string[], extra: Record<string, string> = {}): Promise<CliResult> =>
      runInProcess(['mail', ...args], { env: { ...env, ...extra } });
    const api = async (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
      outlink.app.inject({
        method,
        url,
        headers: await outlink.adminHeaders(),
        ...(payload ? { payload } : {}),
      });
    const create = async (body: Record<string, unknown>) => {
      const res = await api('POST', '/api/v1/mail-servers', {
        host: 'mail.example.test',
        username: 'support@example.test',
        authentication: { method: 'password', password: 'a mail password' },
        ...body,
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as MailServerJson;
    };
    const fetch = async (id: string) =>
      (await api('GET', `/api/v1/mail-servers/${id}`)).json() as MailServerJson;
    /** The first line of stderr. */
    const firstError = (result: CliResult) => result.stderr.split('\n')[0];

    before(async () => {
      outlink = await startOutlink(dialect, { env: { OUTLINK_LOG_LEVEL: 'warn' } });
      env = databaseEnv(outlink.database);
      smtp = await create({ name: 'Support outbox', protocol: 'smtp' });
      imap = await create({ name: 'Support inbox', protocol: 'imap' });
      pop3 = await create({ name: 'Legacy POP', protocol: 'pop3', security: 'starttls' });
    });
    after(() => outlink?.close());

    it('mail show: every setting of an incoming server, the handler paused by default', async () => {
      const result = await run(['show', imap.name]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      assert.equal(
        result.stdout,
        [
          'Name              Support inbox',
          `ID                ${imap.id}`,
          'Protocol          imap',
          'Server            mail.example.test:993',
          'Security          tls',
          'Username          support@example.test',
          'Authentication    password (set, write-only)',
          'Folder            INBOX',
          'Poll interval     300 s',
          'Processed mail    seen',
          'Mail handler      off (paused)',
          'Issue key prefix  MAIL (keys like MAIL-12)',
          'Default reporter  -',
          'Size limit        26214400 bytes (25 MiB)',
          'Acknowledge with  none (no acknowledgement)',
          'Error folder      none (left unread where they are)',
          `Created           ${imap.createdAt}`,
          `Updated           ${imap.updatedAt}`,
          '',
        ].join('\n'),
      );
    });

    it('mail show: an outgoing server has no handler; --json is the API shape', async () => {
      const result = await run(['show', smtp.id]);
      assert.equal(result.code, 0, result.stderr);
      const labels = result.stdout
        .trimEnd()
        .split('\n')
        .map((line) => line.split(/ {2,}/)[0]);
      assert.deepEqual(labels, [
        'Name',
        'ID',
        'Protocol',
        'Server',
        'Security',
        'Username',
        'Authentication',
        'Created',
        'Updated',
      ]);
      const json = await run(['show', pop3.name, '--json']);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), await fetch(pop3.id));
    });

    it('mail set: every handler setting at once, the acknowledging server by name', async () => {
      const result = await run([
        'set',
        imap.name,
        '--handler',
        'on',
        '--prefix',
        'help',
        '--default-reporter',
        'postmaster@example.test',
        '--max-size',
        '1048576',
        '--acknowledge-with',
        'support OUTBOX',
        '--error-folder',
        'Outlink/Failed',
        '--poll-interval',
        '60',
        '--processed-action',
        'move',
        '--processed-folder',
        'Outlink/Done',
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      const stored = await fetch(imap.id);
      assert.deepEqual(
        {
          handlerEnabled: stored.handlerEnabled,
          issueKeyPrefix: stored.issueKeyPrefix,
          defaultReporter: stored.defaultReporter,
          maxMessageBytes: stored.maxMessageBytes,
          acknowledgeWith: stored.acknowledgeWith,
          errorFolder: stored.errorFolder,
          pollIntervalSeconds: stored.pollIntervalSeconds,
          processedAction: stored.processedAction,
          processedFolder: stored.processedFolder,
        },
        {
          handlerEnabled: true,
          issueKeyPrefix: 'HELP',
          defaultReporter: 'postmaster@example.test',
          maxMessageBytes: 1_048_576,
          acknowledgeWith: smtp.id,
          errorFolder: 'Outlink/Failed',
          pollIntervalSeconds: 60,
          processedAction: 'move',
          processedFolder: 'Outlink/Done',
        },
      );
      const lines = result.stdout.split('\n');
      assert.equal(lines[0], `Updated mail server "Support inbox" (${imap.id}).`);
      assert.equal(lines[1], '');
      assert.deepEqual(lines.slice(10, 19), [
        'Poll interval     60 s',
        'Processed mail    move to Outlink/Done',
        'Mail handler      on: creates issues and comments',
        'Issue key prefix  HELP (keys like HELP-12)',
        'Default reporter  postmaster@example.test',
        'Size limit        1048576 bytes (1 MiB)',
        `Acknowledge with  Support outbox (${smtp.id})`,
        'Error folder      Outlink/Failed',
        `Created           ${imap.createdAt}`,
      ]);
    });

    it('mail set: none clears, an id names the acknowledging server; --json is the API shape', async () => {
      const cleared = await run([
        'set',
        imap.id,
        '--default-reporter',
        'none',
        '--acknowledge-with',
        'none',
        '--error-folder',
        'none',
        '--handler',
        'off',
      ]);
      assert.equal(cleared.code, 0, cleared.stderr);
      const stored = await fetch(imap.id);
      assert.deepEqual(
        [stored.defaultReporter, stored.acknowledgeWith, stored.errorFolder, stored.handlerEnabled],
        [null, null, null, false],
      );
      const json = await run(['set', pop3.name, '--acknowledge-with', smtp.id, '--json']);
      assert.equal(json.code, 0, json.stderr);
      const printed = JSON.parse(json.stdout) as MailServerJson;
      assert.deepEqual(printed, { ...(await fetch(pop3.id)), warnings: [] });
      assert.equal(printed.acknowledgeWithName, 'Support outbox');
    });

    it('refuses what the API refuses, naming the flag, and changes nothing', async () => {
      const before = [await fetch(imap.id), await fetch(pop3.id), await fetch(smtp.id)];
      const cases: [args: string[], error: string][] = [
        [
          ['set', imap.name, '--max-size', '10'],
          'error field_invalid: The field "--max-size" has an invalid value: Expected integer to be greater or equal to 1024.',
        ],
        [
          ['set', imap.name, '--prefix', 'MAIL-1'],
          `error field_invalid: The field "--prefix" has an invalid value: Expected string to match '^[A-Za-z][A-Za-z0-9_]*$'.`,
        ],
        [
          ['set', imap.name, '--acknowledge-with', pop3.name],
          'error field_invalid: The field "--acknowledge-with" has an invalid value: acknowledgements are sent through an outgoing (SMTP) mail server.',
        ],
        [
          ['set', imap.name, '--acknowledge-with', 'Nowhere'],
          'error field_invalid: The field "--acknowledge-with" has an invalid value: there is no mail server with this name or id.',
        ],
        [
          ['set', imap.name, '--error-folder', 'INBOX'],
          'error field_invalid: The field "--error-folder" has an invalid value: it must differ from the folder the handler reads.',
        ],
        [
          ['set', smtp.name, '--handler', 'on'],
          'error mail_field_not_applicable: The field "--handler" does not apply to this mail server (smtp, password authentication).',
        ],
        [
          ['set', pop3.name, '--error-folder', 'Failed'],
          'error mail_field_not_applicable: The field "--error-folder" does not apply to this mail server (pop3, password authentication).',
        ],
        [
          ['set', pop3.name, '--processed-action', 'archive'],
          'error field_invalid: The field "--processed-action" has an invalid value: Expected union value.',
        ],
        [
          ['set', 'No such server', '--handler', 'on'],
          'error mail_server_not_found: There is no mail server No such server.',
        ],
        [
          ['show', 'No such server'],
          'error mail_server_not_found: There is no mail server No such server.',
        ],
      ];
      for (const [args, error] of cases) {
        const result = await run(args);
        assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
        assert.equal(firstError(result), error, args.join(' '));
        assert.equal(result.stdout, '');
      }
      assert.deepEqual([await fetch(imap.id), await fetch(pop3.id), await fetch(smtp.id)], before);
    });

    it('usage errors exit 2 before anything is read', async () => {
      const cases: [args: string[], error: string, help: string][] = [
        [
          ['set', imap.name],
          'error usage: Nothing to change: give at least one setting.',
          'remedy: See "outlink mail set --help".',
        ],
        [
          ['set', imap.name, '--handler', 'yes'],
          'error usage: The value "yes" of --handler is not valid. Give on or off.',
          'remedy: See "outlink mail set --help".',
        ],
        [
          ['set', imap.name, '--max-size', '25MiB'],
          'error usage: The value "25MiB" of --max-size is not valid. Give a whole number, such as 300.',
          'remedy: See "outlink mail set --help".',
        ],
        [
          ['set', imap.name, '--poll-interval', '-5'],
          'error usage: The option --poll-interval needs a value (write --poll-interval=<value> for a value that starts with "-").',
          'remedy: See "outlink mail set --help".',
        ],
        [
          ['set', '--handler', 'on'],
          'error usage: The argument <server> is missing.',
          'remedy: See "outlink mail set --help".',
        ],
        [
          ['show', imap.name, '--handler', 'on'],
          'error usage: Unknown option --handler.',
          'remedy: See "outlink mail show --help".',
        ],
      ];
      for (const [args, error, help] of cases) {
        const result = await runInProcess(['mail', ...args], {
          // No database at all: a usage error must not need one.
          env: { ...env, OUTLINK_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
        });
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.deepEqual(result.stderr.split('\n').slice(0, 2), [error, help], args.join(' '));
      }
    });

    it('speaks Japanese under LANG=ja_JP.UTF-8', async () => {
      const result = await run(['show', pop3.name], { LANG: 'ja_JP.UTF-8' });
      assert.equal(result.code, 0, result.stderr);
      const rows = result.stdout
        .trimEnd()
        .split('\n')
        .map((line) => line.split(/ {2,}/));
      assert.deepEqual(rows.slice(7, 14), [
        ['ポーリング間隔', '300 秒'],
        ['処理したメール', 'seen'],
        ['メール ハンドラー', '無効 (一時停止中)'],
        ['課題キーの接頭辞', 'MAIL (MAIL-12 のようなキー)'],
        ['既定の報告者', 'なし'],
        ['サイズの上限', '26214400 バイト (25 MiB)'],
        ['受付通知の送信', `Support outbox (${smtp.id})`],
      ]);
      const usage = await run(['set', pop3.name, '--handler', 'yes'], { LANG: 'ja_JP.UTF-8' });
      assert.equal(
        firstError(usage),
        'error usage: --handler の値「yes」は無効です。on または off を指定してください。',
      );
    });

    it('the entry point: mail set --json through src/main/cli.ts', async () => {
      const result = await runCli(['mail', 'set', pop3.name, '--handler', 'on', '--json'], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.equal((JSON.parse(result.stdout) as MailServerJson).handlerEnabled, true);
    });
  });
}
