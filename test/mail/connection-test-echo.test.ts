/**
 * Issue 11: the connection test echoes what a server says (greeting, refusal), capped and
 * without control characters, so a hostile server can neither flood the result nor send
 * terminal escapes to the administrator's screen.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { MailServerRuntime } from '../../src/domain/mail-server.js';
import { ECHO_LIMIT, echoText, runConnectionTest } from '../../src/mail/connection-test.js';
import { DEFAULT_MAIL_TIMEOUTS } from '../../src/mail/endpoint.js';
import { createMailClient } from '../../src/mail/mail-client.js';

/** Terminal escapes, a C1 CSI and a Unicode line separator (CR LF would end the line). */
const ESCAPES = '\u001b[2J\u001b]0;owned\u0007\tTAB\u009b31m\u2028FAKE';
const LONG = 'x'.repeat(5_000);

/** Control characters, C1 included, and the line separators that would forge lines. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe('connection test: echoed server text is capped (issue 11)', () => {
  let server: Server;
  let port = 0;
  before(async () => {
    // A POP3 server with a huge, escape-laden banner that refuses every command the same way.
    server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write(`+OK ${ESCAPES} ${LONG}\r\n`);
      socket.on('data', (chunk) => {
        const command = String(chunk).split(' ')[0]?.trim().toUpperCase();
        if (command === 'CAPA') socket.write('+OK\r\nUSER\r\n.\r\n');
        else if (command === 'USER') socket.write('+OK\r\n');
        else socket.write(`-ERR [AUTH] ${ESCAPES} ${LONG}\r\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('cuts text to the limit and replaces control characters', () => {
    assert.equal(echoText('a\r\nb\u001b[31m c'), 'a b [31m c');
    assert.equal([...echoText(LONG)].length, ECHO_LIMIT);
    assert.ok(echoText(LONG).endsWith('…'));
    assert.equal(echoText('short'), 'short');
  });

  it('echoes the greeting and the refusal capped, without control characters', async () => {
    const mail = createMailClient({
      tokens: {
        getAccessToken: () => Promise.reject(new Error('no token in a password test')),
      },
      tls: {},
      timeouts: { ...DEFAULT_MAIL_TIMEOUTS, connectMs: 2_000, commandMs: 2_000 },
    });
    const runtime: MailServerRuntime = {
      id: 'echo',
      name: 'echo',
      protocol: 'pop3',
      host: '127.0.0.1',
      port,
      security: 'none',
      username: 'alice@example.test',
      saslMechanism: null,
      folder: null,
      credentials: { method: 'password', password: 'correct horse battery staple' },
    };
    const result = await runConnectionTest({ mail, tokens: mail as never }, runtime);
    assert.equal(result.ok, false);
    const greeting = result.steps.find((s) => s.name === 'greeting');
    assert.ok(greeting?.ok, JSON.stringify(result.steps));
    const words = String(greeting.detail.params.greeting);
    assert.ok([...words].length <= ECHO_LIMIT, `greeting of ${words.length} characters`);
    assert.doesNotMatch(words, CONTROL);
    assert.match(words, /^\[2J \]0;owned TAB 31m FAKE x+…$/);

    assert.equal(result.error?.code, 'auth_failed', JSON.stringify(result.error));
    const response = result.error?.serverResponse ?? '';
    assert.ok([...response].length <= ECHO_LIMIT, `response of ${response.length} characters`);
    assert.doesNotMatch(response, CONTROL);
    const detail = String(result.error?.params.detail);
    assert.ok([...detail].length <= 2 * ECHO_LIMIT, `detail of ${detail.length} characters`);
    assert.doesNotMatch(detail, CONTROL);
    assert.doesNotMatch(JSON.stringify(result), /x{500}/);
  });
});
