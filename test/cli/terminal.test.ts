import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { printable, terminalSafe } from '../../src/cli/terminal.js';
import { oauthError } from '../peers/fault-proxy.js';
import { ALICE } from '../support/worlds.js';
import { type CliResult, runInProcess } from './cli-harness.js';
import { type OAuthFixture, startOAuthFixture } from './oauth-fixture.js';

/**
 * An account name as a hostile provider could send it in the ID token: clear the screen
 * (ESC [ 2 J), a C1 CSI (0x9B) that some terminals obey, a window title (OSC), a bell, and
 * a right-to-left override (U+202E) with its pop (U+202C), which reverses what follows.
 */
const HOSTILE = 'evil\u001b[2J\u009b31m\u001b]0;pwned\u0007\u202e@example\u202c.test';
/**
 * What a line may hold: no C0 control but tab, no DEL, no C1 control, no bidirectional
 * or other invisible format character.
 */
const CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point.
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/;

function assertTerminalSafe(result: CliResult, what: string): void {
  for (const [name, text] of [
    ['stdout', result.stdout],
    ['stderr', result.stderr],
  ] as const) {
    for (const line of text.split('\n')) {
      assert.doesNotMatch(
        line,
        CONTROL,
        `${what}: ${name} has a control character: ${JSON.stringify(line)}`,
      );
    }
  }
}

describe('what the CLI writes to a terminal', () => {
  let fixture: OAuthFixture;
  before(async () => {
    fixture = await startOAuthFixture('sqlite', { accounts: [ALICE, HOSTILE] });
  });
  after(() => fixture?.close());

  test('a hostile account name and provider message are shown, never obeyed', async () => {
    const link = await fixture.createLink();
    const id = await fixture.authorize(link.id, HOSTILE);
    assert.equal((await fixture.outlink.services.connections.get(id)).account, HOSTILE);
    fixture.proxy.queue(
      oauthError('invalid_grant', 400, 'revoked\u001b[2J\u009b2J by\r\nan admin\u001b]0;x\u0007'),
    );
    const refused = await runInProcess(['connections', 'refresh', id], {
      env: fixture.env,
      fetch: fixture.as.fetch,
    });
    assert.equal(refused.code, 1);
    assertTerminalSafe(refused, 'refresh');
    assert.match(refused.stderr, /^provider: invalid_grant: revoked by an admin$/m);

    for (const args of [
      ['connections', 'list', link.name],
      ['connections', 'show', id],
      ['links', 'show', link.name],
      ['links', 'list'],
    ]) {
      const result = await runInProcess(args, { env: fixture.env });
      assert.equal(result.code, 0, result.stderr);
      assertTerminalSafe(result, args.join(' '));
      // The name is still recognisable: its escape sequences go, the text stays.
      assert.ok(
        result.stdout.includes('evil@example.test') || (args[1] === 'list' && args[0] === 'links'),
        `${args.join(' ')}: ${result.stdout}`,
      );
    }

    // JSON stays JSON: the same data as the API, escaped, with no raw control character.
    for (const args of [
      ['connections', 'list', link.name, '--json'],
      ['connections', 'show', id, '--json'],
      ['links', 'show', link.name, '--json'],
    ]) {
      const result = await runInProcess(args, { env: fixture.env });
      assert.equal(result.code, 0, result.stderr);
      assertTerminalSafe(result, args.join(' '));
      assert.ok(result.stdout.includes('\\u009b'), result.stdout);
      assert.ok(JSON.stringify(JSON.parse(result.stdout)).includes(JSON.stringify(HOSTILE)));
    }
  });

  test('printable drops escape sequences and blanks other controls; terminalSafe escapes', () => {
    assert.equal(
      printable('a\u001b[2Jb\u009b31mc\u001b]0;t\u0007d\u001bce\nf\tg\u0000h'),
      'abcde f g h',
    );
    assert.equal(terminalSafe('a\u001bb\u009bc\u007fd\ne\tf'), 'a\\u001bb\\u009bc\\u007fd\ne\tf');
    const data = { account: HOSTILE };
    assert.deepEqual(JSON.parse(terminalSafe(JSON.stringify(data, null, 2))), data);
  });

  test('bidirectional and other invisible format characters are removed or escaped', () => {
    // Every bidirectional embedding, override, isolate and mark, one by one.
    const bidi = [
      '\u202a',
      '\u202b',
      '\u202c',
      '\u202d',
      '\u202e',
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069',
      '\u200e',
      '\u200f',
      '\u061c',
    ];
    for (const c of bidi) {
      const code = c.charCodeAt(0).toString(16).padStart(4, '0');
      assert.equal(printable(`a${c}b`), 'ab', `printable U+${code}`);
      assert.equal(terminalSafe(`a${c}b`), `a\\u${code}b`, `terminalSafe U+${code}`);
    }
    // "Trojan Source": the override would show `admin` where `nimda` is written.
    assert.equal(printable('user \u202enimda\u202c ok'), 'user nimda ok');
    // Zero-width space, word joiner, byte order mark hide text; they go too.
    assert.equal(printable('a\u200bb\u2060c\ufeffd'), 'abcd');
    // Unicode line separators would break a one-line value: blanked like a newline.
    assert.equal(printable('a\u2028b\u2029c'), 'a b c');
    assert.equal(terminalSafe('a\u2028b'), 'a\\u2028b');
    // C1 controls: NEL (0x85) breaks lines in some terminals, CSI (0x9B) starts a sequence.
    assert.equal(printable('a\u0085b'), 'a b');
    assert.equal(terminalSafe('a\u0085b'), 'a\\u0085b');
    // What scripts need stays: the zero-width joiner (emoji), the non-joiner (Persian), Japanese.
    assert.equal(printable('👩\u200d💻 می\u200cخواهم 日本語'), '👩\u200d💻 می\u200cخواهم 日本語');
    assert.equal(terminalSafe('日本語 👩\u200d💻'), '日本語 👩\u200d💻');
    // JSON with escaped bidirectional characters still parses to the same value.
    const data = { account: '\u202eevil\u2066x\u2069' };
    assert.deepEqual(JSON.parse(terminalSafe(JSON.stringify(data))), data);
  });
});
