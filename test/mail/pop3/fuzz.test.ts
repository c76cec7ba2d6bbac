import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connect,
  type Pop3ConnectOptions,
  Pop3Error,
  type Pop3ErrorCode,
  type Pop3Session,
} from '../../../src/mail/pop3/client.js';
import {
  authCommand,
  formatCommand,
  LineSplitter,
  MultilineCollector,
  parseAuthResponseLine,
  parseCapabilities,
  parseDropListing,
  parseScanListing,
  parseStatusLine,
  parseUniqueIdListing,
} from '../../../src/mail/pop3/protocol.js';
import { decodeErrorChallenge, type SaslChallengeErrorCode } from '../../../src/mail/sasl.js';
import { type ScriptedPeer, startMisbehavingPop3Server } from './misbehaving-server.js';

const USER = 'alice@example.test';
const TOKEN = 'ya29.test-access-token';
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Short timeouts and small limits: every case ends well within a second. */
const LIMITS = {
  connectTimeoutMs: 1_000,
  tlsTimeoutMs: 300,
  commandTimeoutMs: 300,
  maxLineLength: 1024,
  maxResponseBytes: 64 * 1024,
} as const;

/** Greeting, then CAPA answered with `capabilities` (XOAUTH2 only, so scripts know the verb). */
async function hello(peer: ScriptedPeer, capabilities = ['SASL XOAUTH2', 'USER']): Promise<void> {
  peer.send('+OK ready\r\n');
  await peer.expect('CAPA');
  peer.send(`+OK\r\n${capabilities.map((c) => `${c}\r\n`).join('')}.\r\n`);
}

async function loggedIn(peer: ScriptedPeer): Promise<void> {
  await hello(peer);
  await peer.expect(/^AUTH XOAUTH2 [A-Za-z0-9+/]+=*$/);
  peer.send('+OK Logged in.\r\n');
}

/** An AUTH that gets `challenge` (the text after "+ "), checks the client's reply, then `final`. */
function challenged(challenge: string, final = '-ERR [AUTH] Authentication failed.') {
  return async (peer: ScriptedPeer) => {
    await hello(peer);
    await peer.expect(/^AUTH XOAUTH2 /);
    peer.send(`+ ${challenge}\r\n`);
    await peer.expect('');
    peer.send(`${final}\r\n`);
  };
}

interface Case {
  readonly name: string;
  readonly script: (peer: ScriptedPeer) => Promise<void> | void;
  /** What the client does; default: connect, authenticate, STAT. */
  readonly run?: (open: () => Promise<Pop3Session>) => Promise<unknown>;
  readonly options?: Partial<Pop3ConnectOptions>;
  readonly code: Pop3ErrorCode;
  /** Exact message; `{port}` stands for the server's port. */
  readonly message: string | RegExp;
  readonly check?: (error: Pop3Error, session: Pop3Session | undefined) => void;
}

const silence = () => undefined;
const authenticate = async (open: () => Promise<Pop3Session>) => {
  const session = await open();
  await session.authenticate({ user: USER, accessToken: TOKEN });
  return session.stat();
};
const transaction =
  (action: (session: Pop3Session) => Promise<unknown>) =>
  async (open: () => Promise<Pop3Session>) => {
    const session = await open();
    await session.authenticate({ user: USER, accessToken: TOKEN });
    return action(session);
  };
const closedAfter = (error: Pop3Error, session: Pop3Session | undefined) => {
  assert.ok(error);
  assert.equal(session?.state, 'closed');
};
const challengeError = (code: SaslChallengeErrorCode, message: string) => (error: Pop3Error) => {
  assert.equal(error.challenge, undefined);
  assert.equal(error.challengeError?.code, code);
  assert.equal(error.challengeError?.message, message);
  assert.equal(error.responseCode, 'AUTH');
};

const CASES: readonly Case[] = [
  // The greeting (RFC 1939 §4).
  {
    name: 'a silent server',
    script: silence,
    code: 'timeout',
    message: 'no answer to greeting within 300 ms',
  },
  {
    name: 'a server that closes at once',
    script: (peer) => peer.end(),
    code: 'connection_closed',
    message: 'the server closed the connection',
  },
  {
    name: 'a greeting cut off by a close',
    script: (peer) => {
      peer.send('+OK rea');
      peer.end();
    },
    code: 'connection_closed',
    message: 'the server closed the connection',
  },
  {
    name: 'a -ERR greeting',
    script: (peer) => peer.send('-ERR [SYS/TEMP] too busy\r\n'),
    code: 'connect_failed',
    message: 'the server refused the connection: too busy',
    check: (error) => assert.equal(error.responseCode, 'SYS/TEMP'),
  },
  {
    name: 'a greeting that is not a status line',
    script: (peer) => peer.send('HELLO there\r\n'),
    code: 'protocol_error',
    message: 'the server\'s answer is not a POP3 status line: "HELLO there"',
  },
  {
    name: 'a lower-case status indicator',
    script: (peer) => peer.send('+ok ready\r\n'),
    code: 'protocol_error',
    message: 'the server\'s answer is not a POP3 status line: "+ok ready"',
  },
  {
    name: 'binary garbage',
    script: (peer) => peer.send(Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a])),
    code: 'protocol_error',
    message: 'the server\'s answer is not a POP3 status line: "\\u0000��"',
  },
  {
    name: 'a greeting trickled an octet at a time, never ending',
    // One octet after another, each once the last is sent and the client had a turn to read
    // it, until the client gives up (the line limit is set out of reach). Only a complete
    // line may restart the deadline: a client that let the trickle hold it off is still
    // reading after 2 s, a bound on the failure, not a wait.
    script: async (peer) => {
      const bound = Date.now() + 2_000;
      let octet = '+OK';
      while (await peer.write(octet)) {
        if (Date.now() > bound) throw new Error('the trickle held off the greeting deadline');
        octet = 'x';
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    options: { maxLineLength: 64 * 1024 * 1024 },
    code: 'timeout',
    message: 'no answer to greeting within 300 ms',
  },
  {
    name: 'an endless greeting line',
    script: (peer) => peer.send(`+OK ${'x'.repeat(4096)}`),
    code: 'response_too_large',
    message: 'the server sent a line longer than 1024 octets',
  },
  // CAPA (RFC 2449 §5).
  {
    name: 'a CAPA answer that never ends',
    script: async (peer) => {
      peer.send('+OK ready\r\n');
      await peer.expect('CAPA');
      peer.send('+OK\r\nSASL XOAUTH2\r\n');
    },
    code: 'timeout',
    message: 'no answer to CAPA within 300 ms',
  },
  {
    name: 'a CAPA answer over the size limit',
    script: async (peer) => {
      peer.send('+OK ready\r\n');
      await peer.expect('CAPA');
      peer.send('+OK\r\n');
      for (let i = 0; i < 2000; i++) peer.send(`X-CAPABILITY-${i} ${'p'.repeat(40)}\r\n`);
    },
    code: 'response_too_large',
    message: "the server's multi-line answer is larger than 65536 octets",
  },
  {
    name: 'a blank CAPA line',
    script: async (peer) => {
      peer.send('+OK ready\r\n');
      await peer.expect('CAPA');
      peer.send('+OK\r\nUSER\r\n\r\n.\r\n');
    },
    code: 'protocol_error',
    message: 'malformed CAPA answer from the server: ""',
  },
  // STLS (RFC 2595 §4).
  {
    name: 'STLS refused',
    script: async (peer) => {
      await hello(peer, ['STLS', 'SASL XOAUTH2']);
      await peer.expect('STLS');
      peer.send('-ERR [SYS/TEMP] no TLS today\r\n');
    },
    options: { security: 'starttls' },
    run: (open) => open(),
    code: 'starttls_unavailable',
    message: '127.0.0.1:{port} refused STLS: no TLS today',
    check: (error) => assert.equal(error.responseCode, 'SYS/TEMP'),
  },
  {
    name: 'plain text injected after +OK to STLS',
    script: async (peer) => {
      await hello(peer, ['STLS']);
      await peer.expect('STLS');
      peer.send('+OK Begin TLS\r\n+OK Logged in.\r\n');
    },
    options: { security: 'starttls' },
    run: (open) => open(),
    code: 'protocol_error',
    message: 'the server sent data after its +OK to STLS, before TLS started',
  },
  {
    name: 'no TLS after +OK to STLS',
    script: async (peer) => {
      await hello(peer, ['STLS']);
      await peer.expect('STLS');
      peer.send('+OK Begin TLS\r\n');
      // Answer the ClientHello, once it has arrived, in plain text.
      await peer.octets();
      peer.send('+OK this is not TLS\r\n');
    },
    options: { security: 'starttls' },
    run: (open) => open(),
    code: 'tls_failed',
    message: 'TLS with 127.0.0.1:{port} failed: wrong version number',
  },
  {
    name: 'a silent TLS handshake after STLS',
    script: async (peer) => {
      await hello(peer, ['STLS']);
      await peer.expect('STLS');
      peer.send('+OK Begin TLS\r\n');
    },
    options: { security: 'starttls' },
    run: (open) => open(),
    code: 'timeout',
    message: 'the TLS handshake with 127.0.0.1:{port} took longer than 300 ms',
  },
  {
    name: 'a silent implicit-TLS server',
    script: silence,
    options: { security: 'tls' },
    run: (open) => open(),
    code: 'timeout',
    message: 'the TLS handshake with 127.0.0.1:{port} took longer than 300 ms',
  },
  // AUTH (RFC 5034 §4) and the error challenge (RFC 7628 §3.2.2).
  {
    name: 'an error challenge that is not base64',
    script: challenged('{"status":"401"}'),
    code: 'auth_failed',
    message: 'XOAUTH2 authentication failed: [AUTH] Authentication failed.',
    check: challengeError(
      'challenge_not_base64',
      'the error challenge is not base64 (RFC 4648 §4)',
    ),
  },
  {
    name: 'a truncated error challenge',
    script: challenged(b64('{"status":"401","schemes":"bearer","scope":"mail"}').slice(0, 41)),
    code: 'auth_failed',
    message: 'XOAUTH2 authentication failed: [AUTH] Authentication failed.',
    check: challengeError(
      'challenge_not_base64',
      'the error challenge is truncated base64 (its length is not a multiple of 4)',
    ),
  },
  {
    name: 'an error challenge that is not JSON',
    script: challenged(b64('<html>401</html>')),
    code: 'auth_failed',
    message: 'XOAUTH2 authentication failed: [AUTH] Authentication failed.',
    check: challengeError(
      'challenge_not_json',
      'the error challenge is not JSON (truncated or garbled)',
    ),
  },
  {
    name: 'an oversized error challenge',
    script: challenged('QUFB'.repeat(3000)),
    options: { maxLineLength: 64 * 1024 },
    code: 'auth_failed',
    message: 'XOAUTH2 authentication failed: [AUTH] Authentication failed.',
    check: challengeError(
      'challenge_too_large',
      'the error challenge is 12000 characters long; at most 8192 are accepted',
    ),
  },
  {
    name: 'an OAUTHBEARER error challenge answered with AQ==',
    script: async (peer) => {
      await hello(peer, ['SASL OAUTHBEARER XOAUTH2']);
      await peer.expect(/^AUTH OAUTHBEARER /);
      peer.send(`+ ${b64('{"status":"invalid_token","scope":"mail"}')}\r\n`);
      await peer.expect('AQ==');
      peer.send('-ERR [AUTH] Authentication failed.\r\n');
    },
    code: 'auth_failed',
    message: 'OAUTHBEARER authentication failed: [AUTH] Authentication failed.',
    check: (error) => {
      assert.deepEqual(error.challenge, { status: 'invalid_token', scope: 'mail' });
      assert.equal(error.mechanism, 'OAUTHBEARER');
    },
  },
  {
    name: '+OK after an error challenge',
    script: challenged(b64('{"status":"401"}'), '+OK Logged in anyway.'),
    code: 'protocol_error',
    message:
      'unexpected answer to AUTH XOAUTH2: +OK after an error challenge (RFC 7628 §3.2.3 says the server fails the exchange)',
    check: closedAfter,
  },
  {
    name: 'a second challenge',
    script: challenged(b64('{"status":"401"}'), `+ ${b64('{"status":"401"}')}`),
    code: 'protocol_error',
    message: 'unexpected answer to AUTH XOAUTH2: a second challenge after the error challenge',
    check: closedAfter,
  },
  {
    name: 'silence after the challenge reply',
    script: async (peer) => {
      await hello(peer);
      await peer.expect(/^AUTH XOAUTH2 /);
      peer.send(`+ ${b64('{"status":"401"}')}\r\n`);
      await peer.expect('');
    },
    code: 'timeout',
    message: 'no answer to AUTH within 300 ms',
    check: closedAfter,
  },
  {
    name: '+OK to AUTH before the response was sent',
    script: async (peer) => {
      await hello(peer);
      await peer.expect('AUTH XOAUTH2');
      peer.send('+OK Logged in.\r\n');
    },
    run: async (open) => {
      const session = await open();
      return session.authenticate({ user: USER, accessToken: TOKEN, initialResponse: 'never' });
    },
    code: 'protocol_error',
    message: 'unexpected answer to AUTH XOAUTH2: +OK before the client response was sent',
  },
  ...(
    [
      ['[IN-USE] Mailbox locked', 'auth_temporary', 'IN-USE', 'Mailbox locked'],
      ['[LOGIN-DELAY] Wait', 'auth_temporary', 'LOGIN-DELAY', 'Wait'],
      ['[SYS/TEMP] Try later', 'auth_temporary', 'SYS/TEMP', 'Try later'],
      ['[SYS/PERM] Account disabled', 'auth_failed', 'SYS/PERM', 'Account disabled'],
      ['Authentication failed', 'auth_failed', undefined, 'Authentication failed'],
      ['[AUTH no closing bracket', 'auth_failed', undefined, '[AUTH no closing bracket'],
    ] as const
  ).map(
    ([text, code, responseCode, serverText]): Case => ({
      name: `-ERR ${text}`,
      script: async (peer) => {
        await hello(peer);
        await peer.expect(/^AUTH XOAUTH2 /);
        peer.send(`-ERR ${text}\r\n`);
      },
      code,
      message: `XOAUTH2 authentication ${code === 'auth_temporary' ? 'failed temporarily' : 'failed'}: ${responseCode ? `[${responseCode}] ` : ''}${serverText}`,
      check: (error) => {
        assert.equal(error.responseCode, responseCode);
        assert.equal(error.serverText, serverText);
        assert.equal(error.challenge, undefined);
      },
    }),
  ),
  // The transaction state (RFC 1939 §5, §7).
  {
    name: 'a malformed STAT answer',
    script: async (peer) => {
      await loggedIn(peer);
      await peer.expect('STAT');
      peer.send('+OK many messages\r\n');
    },
    code: 'protocol_error',
    message: 'malformed STAT answer from the server: "many messages"',
    check: closedAfter,
  },
  {
    name: 'a LIST line for message 0',
    script: async (peer) => {
      await loggedIn(peer);
      await peer.expect('LIST');
      peer.send('+OK\r\n1 120\r\n0 120\r\n.\r\n');
    },
    run: transaction((s) => s.list()),
    code: 'protocol_error',
    message: 'malformed LIST answer from the server: "0 120"',
    check: closedAfter,
  },
  {
    name: 'a LIST size beyond 2^53',
    script: async (peer) => {
      await loggedIn(peer);
      await peer.expect('LIST 1');
      peer.send('+OK 1 99999999999999999999\r\n');
    },
    run: transaction((s) => s.list(1)),
    code: 'protocol_error',
    message: 'malformed LIST answer from the server: "1 99999999999999999999"',
  },
  {
    name: 'a UIDL unique-id of 71 characters',
    script: async (peer) => {
      await loggedIn(peer);
      await peer.expect('UIDL');
      peer.send(`+OK\r\n1 ${'u'.repeat(71)}\r\n.\r\n`);
    },
    run: transaction((s) => s.uidl()),
    code: 'protocol_error',
    message: `malformed UIDL answer from the server: "1 ${'u'.repeat(71)}"`,
  },
  {
    name: 'a message over the multi-line limit',
    script: async (peer) => {
      await loggedIn(peer);
      await peer.expect('RETR 1');
      peer.send('+OK\r\n');
      for (let i = 0; i < 1000; i++) peer.send(`${'m'.repeat(98)}\r\n`);
      peer.send('.\r\n');
    },
    run: transaction((s) => s.retr(1)),
    code: 'response_too_large',
    message: "the server's multi-line answer is larger than 65536 octets",
    check: closedAfter,
  },
  {
    name: 'a message line over the line limit',
    script: async (peer) => {
      await loggedIn(peer);
      await peer.expect('RETR 1');
      peer.send(`+OK\r\nSubject: ${'s'.repeat(2000)}\r\n.\r\n`);
    },
    run: transaction((s) => s.retr(1)),
    code: 'response_too_large',
    message: 'the server sent a line longer than 1024 octets',
    check: closedAfter,
  },
  {
    name: 'a flood of empty lines counts against the multi-line limit',
    script: async (peer) => {
      await loggedIn(peer);
      await peer.expect('RETR 1');
      peer.send(`+OK\r\n${'\r\n'.repeat(40_000)}.\r\n`);
    },
    run: transaction((s) => s.retr(1)),
    code: 'response_too_large',
    message: "the server's multi-line answer is larger than 65536 octets",
    check: closedAfter,
  },
  {
    name: 'a message cut off by a close',
    script: async (peer) => {
      await loggedIn(peer);
      await peer.expect('RETR 1');
      peer.send('+OK 300 octets\r\nSubject: cut\r\n\r\nthe body is cut');
      peer.end();
    },
    run: transaction((s) => s.retr(1)),
    code: 'connection_closed',
    message: 'the server closed the connection',
    check: closedAfter,
  },
  {
    name: 'a message without its terminating "."',
    script: async (peer) => {
      await loggedIn(peer);
      await peer.expect('TOP 1 0');
      peer.send('+OK\r\nSubject: no end\r\n\r\n');
    },
    run: transaction((s) => s.top(1, 0)),
    code: 'timeout',
    message: 'no answer to TOP within 300 ms',
    check: closedAfter,
  },
  {
    name: '-ERR to QUIT in the update state',
    script: async (peer) => {
      await loggedIn(peer);
      await peer.expect('QUIT');
      peer.send('-ERR [SYS/TEMP] some deleted messages not removed\r\n');
    },
    run: transaction((s) => s.quit()),
    code: 'command_failed',
    message: 'QUIT failed, deleted messages may remain: some deleted messages not removed',
    check: closedAfter,
  },
];

describe('POP3 client against a misbehaving server: every case is a clear Pop3Error', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const server = await startMisbehavingPop3Server(c.script);
      let session: Pop3Session | undefined;
      const open = async () => {
        session = await connect({
          host: '127.0.0.1',
          port: server.port,
          security: 'none',
          ...LIMITS,
          ...c.options,
        });
        return session;
      };
      try {
        const started = Date.now();
        await assert.rejects((c.run ?? authenticate)(open), (error: unknown) => {
          assert.ok(error instanceof Pop3Error, String(error));
          assert.equal(error.code, c.code, error.message);
          if (typeof c.message === 'string') {
            assert.equal(error.message, c.message.replace('{port}', String(server.port)));
          } else {
            assert.match(error.message, c.message);
          }
          c.check?.(error, session);
          return true;
        });
        assert.ok(Date.now() - started < 2_000, 'ended well within the timeouts');
        assert.deepEqual(server.failures, []);
        assert.ok(!server.received.some((line) => line.includes(TOKEN)), 'token sent in clear');
      } finally {
        session?.close();
        await server.close();
      }
    });
  }

  it('a broken session refuses every later command with connection_closed', async () => {
    const server = await startMisbehavingPop3Server(async (peer) => {
      await loggedIn(peer);
      await peer.expect('STAT');
      peer.send('+OK garbage\r\n');
    });
    try {
      const session = await connect({
        host: '127.0.0.1',
        port: server.port,
        security: 'none',
        ...LIMITS,
      });
      await session.authenticate({ user: USER, accessToken: TOKEN });
      await assert.rejects(session.stat(), { code: 'protocol_error' });
      await assert.rejects(session.noop(), {
        code: 'connection_closed',
        message: 'NOOP: the session is closed (malformed STAT answer from the server: "garbage")',
      });
      assert.equal(session.state, 'closed');
    } finally {
      await server.close();
    }
  });

  it('tolerates bare LF line endings and gives CRLF lines back', async () => {
    const server = await startMisbehavingPop3Server(async (peer) => {
      peer.send('+OK ready\n');
      await peer.expect('CAPA');
      peer.send('+OK\nSASL XOAUTH2\n.\n');
      await peer.expect(/^AUTH XOAUTH2 /);
      peer.send('+OK\n');
      await peer.expect('RETR 1');
      peer.send('+OK\nSubject: lf\n\n..dot\nend\n.\n');
    });
    try {
      const session = await connect({
        host: '127.0.0.1',
        port: server.port,
        security: 'none',
        ...LIMITS,
      });
      await session.authenticate({ user: USER, accessToken: TOKEN });
      assert.equal((await session.retr(1)).toString(), 'Subject: lf\r\n\r\n.dot\r\nend\r\n');
      session.close();
      assert.deepEqual(server.failures, []);
    } finally {
      await server.close();
    }
  });

  it('6 MiB that arrive before the client reads them wait in a paused socket, then read whole', async () => {
    const line = `${'b'.repeat(98)}\r\n`;
    const message = Buffer.from(`Subject: big\r\n\r\n${line.repeat(64 * 1024)}`);
    let piledUp: (outcome: 'sent' | 'stalled') => void = () => undefined;
    const poured = new Promise<'sent' | 'stalled'>((resolve) => {
      piledUp = resolve;
    });
    const server = await startMisbehavingPop3Server(async (peer) => {
      await loggedIn(peer);
      // Answered ahead of the command: the octets pile up while the client is busy elsewhere.
      piledUp(
        await peer.pour(Buffer.concat([Buffer.from('+OK\r\n'), message, Buffer.from('.\r\n')])),
      );
      await peer.expect('RETR 1');
    });
    try {
      const session = await connect({
        host: '127.0.0.1',
        port: server.port,
        security: 'none',
        ...LIMITS,
        maxResponseBytes: 8 * 1024 * 1024,
      });
      await session.authenticate({ user: USER, accessToken: TOKEN });
      // The client reads nothing until the server says the octets stopped flowing.
      await poured;
      assert.ok((await session.retr(1)).equals(message));
      session.close();
      assert.deepEqual(server.failures, []);
    } finally {
      await server.close();
    }
  });

  it('an RFC 1939-only server (no CAPA): XOAUTH2 is tried without advertisement', async () => {
    const server = await startMisbehavingPop3Server(async (peer) => {
      peer.send('+OK POP3 ready\r\n');
      await peer.expect('CAPA');
      peer.send('-ERR unknown command\r\n');
      await peer.expect(/^AUTH XOAUTH2 /);
      peer.send('+OK\r\n');
    });
    try {
      const session = await connect({
        host: '127.0.0.1',
        port: server.port,
        security: 'none',
        ...LIMITS,
      });
      assert.equal(session.capabilities, undefined);
      assert.deepEqual(await session.authenticate({ user: USER, accessToken: TOKEN }), {
        mechanism: 'XOAUTH2',
      });
      session.close();
      assert.deepEqual(server.failures, []);
    } finally {
      await server.close();
    }
  });

  it('a long token goes after the empty challenge, never on a line over 255 octets (RFC 5034 §4)', async () => {
    const longToken = `eyJ${'a'.repeat(1500)}.${'b'.repeat(300)}`;
    const server = await startMisbehavingPop3Server(async (peer) => {
      await hello(peer);
      await peer.expect('AUTH XOAUTH2');
      peer.send('+ \r\n');
      const response = await peer.expect(/^[A-Za-z0-9+/]+=*$/);
      const decoded = Buffer.from(response, 'base64').toString();
      if (decoded !== `user=${USER}\x01auth=Bearer ${longToken}\x01\x01`) {
        throw new Error(`unexpected response ${decoded}`);
      }
      peer.send('+OK Logged in.\r\n');
    });
    try {
      const session = await connect({
        host: '127.0.0.1',
        port: server.port,
        security: 'none',
        ...LIMITS,
        maxLineLength: 4096,
      });
      await session.authenticate({ user: USER, accessToken: longToken });
      assert.equal(session.state, 'transaction');
      session.close();
      assert.deepEqual(server.failures, []);
    } finally {
      await server.close();
    }
  });

  it('refuses arguments that would inject a command, before sending anything', async () => {
    await assert.rejects(connect({ host: '127.0.0.1', port: 0, security: 'none' }), {
      code: 'invalid_argument',
      message: '"port" must be an integer from 1 to 65535',
    });
    await assert.rejects(
      connect({ host: '127.0.0.1', port: 110, security: 'none', commandTimeoutMs: -1 }),
      { code: 'invalid_argument', message: '"commandTimeoutMs" must be a positive number' },
    );
    assert.throws(() => formatCommand('USER', 'a\r\nDELE 1'), {
      code: 'invalid_argument',
      message: 'an argument of USER contains CR, LF or NUL',
    });
    assert.throws(() => formatCommand('PASS', 'p'.repeat(250)), {
      code: 'invalid_argument',
      message: 'the PASS command would be longer than 255 octets (RFC 2449 §4)',
    });
    assert.deepEqual(authCommand('XOAUTH2', 'A'.repeat(240)), {
      line: `AUTH XOAUTH2 ${'A'.repeat(240)}\r\n`,
      pendingResponse: undefined,
    });
    assert.deepEqual(authCommand('XOAUTH2', 'A'.repeat(241)), {
      line: 'AUTH XOAUTH2\r\n',
      pendingResponse: 'A'.repeat(241),
    });
    assert.deepEqual(authCommand('XOAUTH2', ''), {
      line: 'AUTH XOAUTH2 =\r\n',
      pendingResponse: undefined,
    });
  });
});

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 0x0d0ec07;
const FRAGMENTS = [
  '+OK',
  '-ERR',
  '+',
  ' ',
  ' ',
  '[',
  ']',
  '/',
  'SYS',
  'TEMP',
  'AUTH',
  'IN-USE',
  '.',
  '..',
  '0',
  '1',
  '42',
  '99999999999999999999',
  'SASL',
  'XOAUTH2',
  '\t',
  '\0',
  '\u00ff',
  'é',
  '日本',
  'x'.repeat(80),
  '-',
  '=',
  'eyJzdGF0dXMiOiI0MDEifQ==',
  '\r',
];

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

function randomLine(next: () => number): string {
  let line = '';
  const parts = Math.floor(next() * 12);
  for (let i = 0; i < parts; i++) line += pick(next, FRAGMENTS);
  return line;
}

function expectPop3Error(run: () => unknown, codes: readonly Pop3ErrorCode[]): unknown {
  try {
    return run();
  } catch (error) {
    assert.ok(error instanceof Pop3Error, `not a Pop3Error: ${String(error)}`);
    assert.ok(codes.includes(error.code), error.message);
    return undefined;
  }
}

describe(`seeded fuzzing of the pure parsers (seed ${SEED})`, () => {
  it('response and listing parsers: a well-formed value or a protocol_error, nothing else', () => {
    const next = random(SEED);
    for (let i = 0; i < 5000; i++) {
      const line = randomLine(next);
      const status = expectPop3Error(() => parseStatusLine(line), ['protocol_error']) as
        | ReturnType<typeof parseStatusLine>
        | undefined;
      if (status) {
        assert.ok(line.startsWith(status.kind === 'ok' ? '+OK' : '-ERR'));
        if (status.code !== undefined) {
          assert.match(
            status.code,
            /^[\x21-\x2e\x30-\x5c\x5e-\x7e]+(\/[\x21-\x2e\x30-\x5c\x5e-\x7e]+)*$/,
          );
          assert.equal(status.code, status.code.toUpperCase());
        }
      }
      const auth = expectPop3Error(() => parseAuthResponseLine(line), ['protocol_error']) as
        | ReturnType<typeof parseAuthResponseLine>
        | undefined;
      if (auth?.kind === 'continuation') assert.ok(line === '+' || line.startsWith('+ '));
      const scan = expectPop3Error(() => parseScanListing(line), ['protocol_error']) as
        | ReturnType<typeof parseScanListing>
        | undefined;
      if (scan) {
        assert.ok(Number.isSafeInteger(scan.message) && scan.message >= 1);
        assert.ok(Number.isSafeInteger(scan.size) && scan.size >= 0);
      }
      const uid = expectPop3Error(() => parseUniqueIdListing(line), ['protocol_error']) as
        | ReturnType<typeof parseUniqueIdListing>
        | undefined;
      if (uid) assert.ok(uid.uid.length >= 1 && uid.uid.length <= 70);
      expectPop3Error(() => parseDropListing(line), ['protocol_error']);
      expectPop3Error(() => parseCapabilities([line, randomLine(next)]), ['protocol_error']);
    }
  });

  it('line splitter: the lines of any byte stream in any chunking, or response_too_large', () => {
    const next = random(SEED + 1);
    const alphabet = [0x0d, 0x0a, 0x2e, 0x41, 0x20, 0x00, 0xff];
    for (let i = 0; i < 2000; i++) {
      const max = 1 + Math.floor(next() * 40);
      const stream = Buffer.from(
        Array.from({ length: Math.floor(next() * 300) }, () =>
          next() < 0.6 ? 0x61 : pick(next, alphabet),
        ),
      );
      // The reference: split on LF, drop one CR before it; the rest is a partial line.
      const pieces = stream.toString('latin1').split('\n');
      const partial = pieces.pop()!;
      const complete = pieces.map((p) => (p.endsWith('\r') ? p.slice(0, -1) : p));
      const violates = complete.some((p) => p.length > max) || partial.length > max + 1;

      const splitter = new LineSplitter(max);
      const lines: string[] = [];
      let threw = false;
      for (let at = 0; at < stream.length && !threw; ) {
        const size = 1 + Math.floor(next() * 64);
        try {
          splitter.push(stream.subarray(at, at + size));
        } catch (error) {
          assert.ok(error instanceof Pop3Error);
          assert.equal(error.code, 'response_too_large');
          threw = true;
        }
        for (let line = splitter.shift(); line; line = splitter.shift()) {
          lines.push(line.toString('latin1'));
        }
        at += size;
      }
      assert.equal(threw, violates, JSON.stringify({ max, stream: stream.toString('latin1') }));
      if (violates) assert.deepEqual(lines, complete.slice(0, lines.length));
      else assert.deepEqual(lines, complete);
    }
  });

  it('multi-line answers: dot-stuffed then unstuffed gives the message back, within the limit', () => {
    const next = random(SEED + 2);
    for (let i = 0; i < 1000; i++) {
      const message = Array.from({ length: Math.floor(next() * 30) }, () =>
        randomLine(next).replace(/[\r\n]/g, ''),
      );
      const wire = `${message.map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n')}${message.length ? '\r\n' : ''}.\r\n`;
      const bytes = Buffer.from(wire, 'utf8');
      const expected = message.length
        ? Buffer.from(`${message.join('\r\n')}\r\n`, 'utf8')
        : Buffer.alloc(0);
      const limit = next() < 0.5 ? 1 << 20 : Math.floor(next() * expected.length * 1.5);
      const splitter = new LineSplitter(1 << 16);
      const body = new MultilineCollector(limit);
      let tooLarge = false;
      for (let at = 0; at < bytes.length && !body.done && !tooLarge; ) {
        const size = 1 + Math.floor(next() * 50);
        splitter.push(bytes.subarray(at, at + size));
        for (let line = splitter.shift(); line && !tooLarge; line = splitter.shift()) {
          try {
            if (body.push(line)) break;
          } catch (error) {
            assert.ok(error instanceof Pop3Error);
            assert.equal(error.code, 'response_too_large');
            tooLarge = true;
          }
        }
        at += size;
      }
      assert.equal(tooLarge, expected.length > limit);
      if (!tooLarge) {
        assert.equal(body.done, true);
        assert.deepEqual(body.toBuffer(), expected);
      }
    }
  });

  it('error challenge decoder: never throws, whatever the mutation', () => {
    const next = random(SEED + 3);
    const valid = [
      b64('{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}'),
      b64(
        '{"status":"invalid_token","openid-configuration":"https://as.example/.well-known/openid-configuration"}',
      ),
    ];
    const json = [
      '{',
      '}',
      '"status"',
      ':',
      '"401"',
      ',',
      '[',
      ']',
      'null',
      '1',
      '"scope"',
      '"é"',
      ' ',
    ];
    const codes = new Set<SaslChallengeErrorCode>([
      'challenge_too_large',
      'challenge_not_base64',
      'challenge_not_utf8',
      'challenge_not_json',
      'challenge_not_object',
      'challenge_status_missing',
      'challenge_member_invalid',
    ]);
    for (let i = 0; i < 5000; i++) {
      const base = pick(next, valid);
      const mutation = Math.floor(next() * 5);
      let input: string;
      if (mutation === 0) input = base.slice(0, Math.floor(next() * base.length));
      else if (mutation === 1) {
        const at = Math.floor(next() * base.length);
        input = `${base.slice(0, at)}${pick(next, ['A', '=', '*', '-', '/', ' '])}${base.slice(at + 1)}`;
      } else if (mutation === 2) {
        input = b64(
          Array.from({ length: Math.floor(next() * 12) }, () => pick(next, json)).join(''),
        );
      } else if (mutation === 3) {
        input = Buffer.from(
          Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256)),
        ).toString('base64');
      } else input = base.repeat(1 + Math.floor(next() * 120));
      const result = decodeErrorChallenge(input);
      if (result.ok) assert.equal(typeof result.challenge.status, 'string');
      else assert.ok(codes.has(result.error.code), result.error.code);
    }
  });
});

describe(`seeded fuzzing of whole sessions against random server answers (seed ${SEED})`, () => {
  it('40 sessions: each settles (resolves or a Pop3Error) well before a hang could matter', async () => {
    const next = random(SEED + 4);
    const answers: ((peer: ScriptedPeer) => 'stop' | undefined)[] = [
      (p) => void p.send('+OK ok\r\n'),
      (p) => void p.send('+OK\r\nSASL XOAUTH2\r\n.\r\n'),
      (p) => void p.send('+OK 1 10\r\n'),
      (p) => void p.send('+OK\r\n1 10\r\n.\r\n'),
      (p) => void p.send(`+ ${pick(next, ['', 'eyJzdGF0dXMiOiI0MDEifQ==', '***', 'eyJz'])}\r\n`),
      (p) => void p.send('-ERR [SYS/TEMP] x\r\n'),
      (p) => void p.send(`${randomLine(next)}\r\n`),
      (p) => void p.send(randomLine(next)),
      (p) => void p.send('z'.repeat(600)),
      (p) => {
        p.end();
        return 'stop';
      },
      () => 'stop',
    ];
    for (let i = 0; i < 40; i++) {
      const server = await startMisbehavingPop3Server(async (peer) => {
        const greet =
          next() < 0.7 ? (p: ScriptedPeer) => void p.send('+OK hi\r\n') : pick(next, answers);
        if (greet(peer) === 'stop') return;
        for (let line = await peer.line(); line !== undefined; line = await peer.line()) {
          if (pick(next, answers)(peer) === 'stop') return;
        }
      });
      let session: Pop3Session | undefined;
      try {
        const run = (async () => {
          session = await connect({
            host: '127.0.0.1',
            port: server.port,
            security: 'none',
            connectTimeoutMs: 500,
            tlsTimeoutMs: 100,
            commandTimeoutMs: 100,
            maxLineLength: 256,
            maxResponseBytes: 4096,
          });
          await session.authenticate({ user: USER, accessToken: TOKEN });
          await session.stat();
          await session.list();
          await session.uidl();
          await session.retr(1);
          await session.top(1, 1);
          await session.quit();
        })();
        const outcome = await Promise.race([
          run.then(
            () => 'resolved',
            (error: unknown) => error,
          ),
          new Promise((resolve) => setTimeout(() => resolve('hung'), 3_000)),
        ]);
        assert.notEqual(outcome, 'hung', `session ${i} hung`);
        if (outcome !== 'resolved') {
          assert.ok(outcome instanceof Pop3Error, `session ${i}: ${String(outcome)}`);
        }
      } finally {
        (session as Pop3Session | undefined)?.close();
        await server.close();
      }
    }
  });
});
