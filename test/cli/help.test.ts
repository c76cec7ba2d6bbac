import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cleanEnv, errorCode, runCli, runInProcess } from './cli-harness.js';

// Help and usage errors must work without touching any data: an empty data dir proves it.
const dataDir = mkdtempSync(join(tmpdir(), 'outlink-cli-help-'));
const env = cleanEnv({ OUTLINK_DATA_DIR: dataDir });
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** Every command and group, with a flag its help must list. */
const HELP_CASES: readonly (readonly [string[], string, string])[] = [
  [['--help'], 'Usage: outlink <command>', 'api-tokens create'],
  [['-h'], 'Usage: outlink <command>', 'keys rotate'],
  [['help'], 'Usage: outlink <command>', 'links update <link>'],
  [['serve', '--help'], 'Usage: outlink serve', '--help'],
  [['migrate', '--help'], 'Usage: outlink migrate', '--json'],
  [['links', '--help'], 'Usage: outlink links <command>', 'links delete <link>'],
  [['links', 'list', '--help'], 'Usage: outlink links list', '--json'],
  [['links', 'show', '--help'], 'Usage: outlink links show <link>', '--json'],
  [['links', 'create', '-h'], 'Usage: outlink links create', '--client-secret-stdin'],
  [['links', 'update', 'Gmail', '--help'], 'Usage: outlink links update <link>', '--scope'],
  [['links', 'delete', '--help'], 'Usage: outlink links delete <link>', '--help'],
  [['keys', '--help'], 'Usage: outlink keys <command>', 'keys rotate'],
  [['keys', 'rotate', '--help'], 'Usage: outlink keys rotate', 'master.key'],
  [['api-tokens', '-h'], 'Usage: outlink api-tokens <command>', 'api-tokens create'],
  [['api-tokens', 'create', '--help'], 'Usage: outlink api-tokens create', '--connection'],
  [['help', 'links', 'create'], 'Usage: outlink links create', '--client-secret-file'],
  [
    ['links', 'authorize', '--help'],
    'Usage: outlink links authorize <link> [options]',
    '--timeout',
  ],
  [['connections', '--help'], 'Usage: outlink connections <command>', 'connections refresh <id>'],
  [['connections', 'list', '--help'], 'Usage: outlink connections list <link>', '--json'],
  [['connections', 'show', '-h'], 'Usage: outlink connections show <id>', '--json'],
  [['connections', 'refresh', '--help'], 'Usage: outlink connections refresh <id>', '--json'],
  [['connections', 'delete', '--help'], 'Usage: outlink connections delete <id>', '--json'],
  [
    ['connections', 'reauthorize', '--help'],
    'Usage: outlink connections reauthorize <id>',
    '--email <mail server>',
  ],
  [
    ['token', '--help'],
    'Usage: outlink token <link> [--account <account>]\n       outlink token --connection <id>\n',
    'passwordeval',
  ],
  [['help', 'token'], 'Usage: outlink token <link>', '--connection <id>'],
  [['mail', '--help'], 'Usage: outlink mail <command>', 'mail test <server>'],
  [['mail', '--help'], 'Usage: outlink mail <command>', 'mail set <server>'],
  [['mail', 'show', '--help'], 'Usage: outlink mail show <server>', '--json'],
  [['mail', 'set', '--help'], 'Usage: outlink mail set <server> [options]', '--acknowledge-with'],
  [['help', 'mail', 'set'], 'Usage: outlink mail set <server>', '--handler on|off'],
  [['mail', 'test', '--help'], 'Usage: outlink mail test <server>', '--to <address>'],
];

describe('outlink --help', () => {
  test('the command list names every command', async () => {
    const result = await runInProcess(['--help'], { env });
    const listed = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('  '))
      .map((line) => line.trim().split(/ {2,}/)[0]);
    assert.deepEqual(listed, [
      'serve',
      'worker',
      'migrate',
      'token <link>',
      'doctor <link>',
      'links list',
      'links show <link>',
      'links create',
      'links update <link>',
      'links delete <link>',
      'links authorize <link>',
      'connections list <link>',
      'connections show <id>',
      'connections refresh <id>',
      'connections delete <id>',
      'connections reauthorize <id>',
      'keys rotate',
      'keys retire <keyId>',
      'api-tokens create',
      'mail show <server>',
      'mail set <server>',
      'mail test <server>',
      'mail poll <server>',
      'help [<command>]',
    ]);
  });

  for (const [args, usage, mentions] of HELP_CASES) {
    test(`outlink ${args.join(' ')} exits 0 with its usage`, async () => {
      const result = await runInProcess(args, { env });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stdout.startsWith(usage), result.stdout);
      assert.ok(result.stdout.includes(mentions), `${mentions} missing from\n${result.stdout}`);
      assert.equal(result.stderr, '');
    });
  }

  test('the entry point exits 0 on --help, in Japanese under LANG=ja_JP.UTF-8', async () => {
    const result = await runCli(['links', 'create', '--help'], {
      env: { ...env, LANG: 'ja_JP.UTF-8' },
    });
    assert.equal(result.code, 0);
    assert.ok(result.stdout.startsWith('使い方: outlink links create'), result.stdout);
    assert.match(result.stdout, /クライアント シークレットを標準入力から読み込みます/);
  });
});

/** Wrong command lines: exit code 2, a usage error naming the problem, and the right help. */
const USAGE_CASES: readonly (readonly [string[], string, string])[] = [
  [['frobnicate'], 'Unknown command "frobnicate".', 'outlink --help'],
  [['--version'], 'Unknown option --version.', 'outlink --help'],
  [['help', 'nothing'], 'Unknown command "nothing".', 'outlink --help'],
  [['links'], 'A command is missing after "links".', 'outlink links --help'],
  [['links', 'rename'], 'Unknown command "links rename".', 'outlink links --help'],
  [['links', 'list', '--verbose'], 'Unknown option --verbose.', 'outlink links list --help'],
  [['links', 'list', '--json=yes'], 'The option --json takes no value.', 'links list --help'],
  [['links', 'list', 'extra'], 'Unexpected argument "extra".', 'outlink links list --help'],
  [['links', 'show'], 'The argument <link> is missing.', 'outlink links show --help'],
  [['links', 'delete', 'a', 'b'], 'Unexpected argument "b".', 'outlink links delete --help'],
  [['links', 'create', '--name'], 'The option --name needs a value', 'links create --help'],
  [['links', 'create', '--name', '--provider', 'google'], '--name needs a value', 'create'],
  [['links', 'create', '--name', 'a', '--name', 'b'], 'option --name was given more', 'create'],
  [
    ['links', 'create', '--client-secret', 'x', '--client-secret-stdin'],
    'Give only one of --client-secret, --client-secret-stdin.',
    'outlink links create --help',
  ],
  [['keys', 'rotate', '--force'], 'Unknown option --force.', 'outlink keys rotate --help'],
  [['api-tokens', 'create', '--scope'], 'The option --scope needs a value', 'api-tokens create'],
  [['migrate', 'now'], 'Unexpected argument "now".', 'outlink migrate --help'],
  [['serve', '--port', '1'], 'Unknown option --port.', 'outlink serve --help'],
  [['connections'], 'A command is missing after "connections".', 'outlink connections --help'],
  [['connections', 'show'], 'The argument <id> is missing.', 'outlink connections show --help'],
  [['connections', 'revoke', 'x'], 'Unknown command "connections revoke".', 'connections --help'],
  [['connections', 'list', 'a', '--all'], 'Unknown option --all.', 'connections list --help'],
];

describe('usage errors', () => {
  for (const [args, message, help] of USAGE_CASES) {
    test(`outlink ${args.join(' ')} exits 2`, async () => {
      const result = await runInProcess(args, { env });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(errorCode(result), 'usage');
      assert.ok(result.stderr.includes(message), result.stderr);
      assert.match(result.stderr, new RegExp(`^remedy: See ".*${help}.*"\\.$`, 'm'));
      assert.equal(result.stdout, '');
    });
  }

  test('no command at all prints the usage on stderr and exits 2', async () => {
    const result = await runInProcess([], { env });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.ok(result.stderr.startsWith('Usage: outlink <command>'), result.stderr);
  });

  test('the entry point exits 2 on an unknown command', async () => {
    const result = await runCli(['frobnicate'], { env });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'error usage: Unknown command "frobnicate".\nremedy: See "outlink --help".\n',
    );
  });

  test('usage errors are Japanese under LANG=ja, and LC_ALL overrides LANG', async () => {
    const [ja, c] = await Promise.all([
      runInProcess(['frobnicate'], { env: { ...env, LANG: 'ja_JP.UTF-8' } }),
      runInProcess(['frobnicate'], { env: { ...env, LANG: 'ja_JP.UTF-8', LC_ALL: 'C' } }),
    ]);
    assert.equal(ja.code, 2);
    assert.equal(ja.stderr.split('\n')[0], 'error usage: 不明なコマンド「frobnicate」です。');
    assert.equal(c.code, 2);
    assert.equal(c.stderr.split('\n')[0], 'error usage: Unknown command "frobnicate".');
  });
});

describe('help and usage errors touch no data', () => {
  test('the data dir is still empty', async () => {
    // Runs after the concurrent suites above have finished.
    assert.deepEqual(readdirSync(dataDir), []);
  });
});
