import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  connect,
  Pop3Error,
  type Pop3ErrorCode,
  type Pop3Security,
  type Pop3Session,
} from '../../../src/mail/pop3/client.js';
import type { DovecotPeer } from '../../peers/dovecot.js';
import { type MailWorld, startMailWorld } from '../../support/mail-world.js';
import { closedPort } from '../../support/ports.js';
import { ALICE, BOB, CAROL, CAROL_PASSWORD } from '../../support/worlds.js';

/** Asserts a Pop3Error with `code` and an exact (string) or matching (RegExp) message. */
async function rejectsWith(
  promise: Promise<unknown>,
  code: Pop3ErrorCode,
  message: string | RegExp,
): Promise<Pop3Error> {
  let caught: Pop3Error | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof Pop3Error, String(error));
    assert.equal(error.code, code, error.message);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    caught = error;
    return true;
  });
  return caught!;
}

const GREETING = 'Dovecot (Debian) ready.';

describe('POP3 client against Dovecot with OAuth 2.0 (RFC 1939, 2449, 2595, 5034)', () => {
  let world: MailWorld;
  /** Dovecot without TLS and with XOAUTH2 only. */
  let plainOnly: DovecotPeer;
  let aliceToken: string;
  let bobToken: string;
  const open: Pop3Session[] = [];

  const pop3 = async (
    security: Pop3Security,
    overrides: { port?: number; ca?: string | null; servername?: string } = {},
  ) => {
    const { ports } = world.dovecot;
    const session = await connect({
      host: '127.0.0.1',
      port: overrides.port ?? (security === 'tls' ? ports.pop3s! : ports.pop3),
      security,
      ...(overrides.ca === null ? {} : { ca: overrides.ca ?? world.tls.caPem }),
      ...(overrides.servername ? { servername: overrides.servername } : {}),
      connectTimeoutMs: 2_000,
      tlsTimeoutMs: 2_000,
      commandTimeoutMs: 5_000,
    });
    open.push(session);
    return session;
  };

  before(async () => {
    world = await startMailWorld({ passwords: true });
    plainOnly = await world.startDovecot({ mechanisms: ['xoauth2'] });
    [aliceToken, bobToken] = await Promise.all([world.accessToken(ALICE), world.accessToken(BOB)]);
  });
  after(async () => {
    for (const session of open) session.close();
    await world?.close();
  });

  describe('connection security', () => {
    it('plain (security none): greeting, CAPA with STLS and SASL, not secure', async () => {
      const session = await pop3('none');
      assert.equal(session.greeting, GREETING);
      assert.equal(session.state, 'authorization');
      assert.equal(session.secure, false);
      assert.deepEqual(Object.fromEntries(session.capabilities ?? []), {
        CAPA: [],
        TOP: [],
        UIDL: [],
        'RESP-CODES': [],
        PIPELINING: [],
        'AUTH-RESP-CODE': [],
        STLS: [],
        USER: [],
        SASL: ['PLAIN', 'XOAUTH2', 'OAUTHBEARER'],
      });
      await session.quit();
      assert.equal(session.state, 'closed');
    });

    it('STLS upgrades with certificate verification and re-reads CAPA (RFC 2595 §4)', async () => {
      const session = await pop3('starttls');
      assert.equal(session.secure, true);
      assert.equal(session.capabilities?.has('STLS'), false);
      assert.deepEqual(session.capabilities?.get('SASL'), ['PLAIN', 'XOAUTH2', 'OAUTHBEARER']);
      await session.quit();
    });

    it('implicit TLS (pop3s) verifies the certificate', async () => {
      const session = await pop3('tls');
      assert.equal(session.secure, true);
      assert.equal(session.greeting, GREETING);
      await session.quit();
    });

    it('refuses a certificate from a CA it does not trust, implicit TLS and STLS alike', async () => {
      const { pop3s, pop3: plain } = world.dovecot.ports;
      await rejectsWith(
        pop3('tls', { ca: null }),
        'tls_failed',
        `TLS with 127.0.0.1:${pop3s} failed: unable to verify the first certificate`,
      );
      await rejectsWith(
        pop3('starttls', { ca: null }),
        'tls_failed',
        `TLS with 127.0.0.1:${plain} failed: unable to verify the first certificate`,
      );
    });

    it('refuses a certificate for another host name', async () => {
      await rejectsWith(
        pop3('tls', { servername: 'pop.example.test' }),
        'tls_failed',
        `TLS with 127.0.0.1:${world.dovecot.ports.pop3s} failed: Hostname/IP does not match certificate's altnames: Host: pop.example.test. is not in the cert's altnames: IP Address:127.0.0.1, DNS:localhost, IP Address:0:0:0:0:0:0:0:1`,
      );
    });

    it('never skips STARTTLS: a server without STLS is an error, not a plain session', async () => {
      const port = plainOnly.ports.pop3;
      await rejectsWith(
        pop3('starttls', { port }),
        'starttls_unavailable',
        `127.0.0.1:${port} does not offer STLS (RFC 2595); TLS is required`,
      );
    });

    it('implicit TLS to a plain-text port fails the handshake', async () => {
      const port = world.dovecot.ports.pop3;
      await rejectsWith(
        pop3('tls', { port }),
        'tls_failed',
        `TLS with 127.0.0.1:${port} failed: wrong version number`,
      );
    });

    it('a closed port is connect_failed', async () => {
      const port = await closedPort();
      await rejectsWith(
        pop3('none', { port }),
        'connect_failed',
        `cannot connect to 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
      );
    });
  });

  describe('authentication', () => {
    const matrix: [Pop3Security, 'XOAUTH2' | 'OAUTHBEARER'][] = [];
    for (const security of ['none', 'starttls', 'tls'] as const) {
      for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const)
        matrix.push([security, mechanism]);
    }
    for (const [security, mechanism] of matrix) {
      it(`AUTH ${mechanism} over ${security} with a token the AS issued`, async () => {
        const session = await pop3(security);
        assert.deepEqual(
          await session.authenticate({ user: ALICE, accessToken: aliceToken, mechanism }),
          {
            mechanism,
          },
        );
        assert.equal(session.state, 'transaction');
        assert.deepEqual(await session.stat(), { count: 0, size: 0 });
        await session.quit();
        assert.equal(session.state, 'closed');
      });
    }

    it('prefers OAUTHBEARER when offered, and falls back to XOAUTH2 when only that is', async () => {
      const both = await pop3('none');
      assert.deepEqual(await both.authenticate({ user: ALICE, accessToken: aliceToken }), {
        mechanism: 'OAUTHBEARER',
      });
      await both.quit();
      const xoauth2Only = await pop3('none', { port: plainOnly.ports.pop3 });
      assert.deepEqual(xoauth2Only.capabilities?.get('SASL'), ['XOAUTH2']);
      assert.deepEqual(await xoauth2Only.authenticate({ user: ALICE, accessToken: aliceToken }), {
        mechanism: 'XOAUTH2',
      });
      await xoauth2Only.quit();
    });

    it('an override the server does not offer is mechanism_unavailable, nothing sent', async () => {
      const session = await pop3('none', { port: plainOnly.ports.pop3 });
      await rejectsWith(
        session.authenticate({ user: ALICE, accessToken: aliceToken, mechanism: 'OAUTHBEARER' }),
        'mechanism_unavailable',
        'the server offers SASL XOAUTH2, not OAUTHBEARER',
      );
      assert.equal(session.state, 'authorization');
      await session.authenticate({ user: ALICE, accessToken: aliceToken });
      await session.quit();
    });

    it('sends the response after the empty "+ " challenge when asked (RFC 5034 §4)', async () => {
      for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
        const session = await pop3('tls');
        await session.authenticate({
          user: ALICE,
          accessToken: aliceToken,
          mechanism,
          initialResponse: 'never',
        });
        assert.equal(session.state, 'transaction');
        await session.quit();
      }
    });

    it("another user's token is refused: auth_failed with the decoded challenge", async () => {
      const expected = {
        XOAUTH2: {
          status: '401',
          schemes: 'bearer',
          scope: 'mail',
          openidConfiguration: world.as.endpoints.discovery,
        },
        OAUTHBEARER: { status: 'invalid_token', openidConfiguration: world.as.endpoints.discovery },
      };
      for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
        const session = await pop3('starttls');
        const error = await rejectsWith(
          session.authenticate({ user: ALICE, accessToken: bobToken, mechanism }),
          'auth_failed',
          `${mechanism} authentication failed: [AUTH] Authentication failed.`,
        );
        assert.equal(error.responseCode, 'AUTH');
        assert.equal(error.serverText, 'Authentication failed.');
        assert.equal(error.mechanism, mechanism);
        assert.deepEqual(error.challenge, expected[mechanism]);
        assert.equal(error.challengeError, undefined);
        assert.ok(!error.message.includes(bobToken));
        // Dovecot closes nothing on a failed AUTH: the session may try again.
        assert.equal(session.state, 'authorization');
        await session.quit();
      }
    });

    it('a token revoked at the provider is refused at once (introspection on every login)', async () => {
      const token = await world.accessToken(ALICE);
      const first = await pop3('none');
      await first.authenticate({ user: ALICE, accessToken: token, mechanism: 'XOAUTH2' });
      await first.quit();

      await world.revoke(token);
      const second = await pop3('none');
      const error = await rejectsWith(
        second.authenticate({ user: ALICE, accessToken: token, mechanism: 'XOAUTH2' }),
        'auth_failed',
        'XOAUTH2 authentication failed: [AUTH] Authentication failed.',
      );
      assert.deepEqual(error.challenge, {
        status: '401',
        schemes: 'bearer',
        scope: 'mail',
        openidConfiguration: world.as.endpoints.discovery,
      });
      second.close();
    });

    it('USER/PASS for a password mailbox; a wrong password is auth_failed [AUTH]', async () => {
      const good = await pop3('starttls');
      await good.login(CAROL, CAROL_PASSWORD);
      assert.equal(good.state, 'transaction');
      assert.deepEqual(await good.stat(), { count: 0, size: 0 });
      await good.quit();

      const bad = await pop3('starttls');
      const error = await rejectsWith(
        bad.login(CAROL, 'not the password'),
        'auth_failed',
        'PASS refused: [AUTH] Authentication failed.',
      );
      assert.equal(error.command, 'PASS');
      assert.ok(!error.message.includes('not the password'));
      bad.close();
    });

    it('checks the state on entry (RFC 1939 §3)', async () => {
      const session = await pop3('none');
      await rejectsWith(
        session.stat(),
        'invalid_state',
        'STAT is not allowed in the authorization state (RFC 1939 §3)',
      );
      await session.authenticate({ user: ALICE, accessToken: aliceToken });
      await rejectsWith(
        session.authenticate({ user: ALICE, accessToken: aliceToken }),
        'invalid_state',
        'AUTH is not allowed in the transaction state (RFC 1939 §3)',
      );
      await rejectsWith(
        session.login(ALICE, 'x'),
        'invalid_state',
        'USER is not allowed in the transaction state (RFC 1939 §3)',
      );
      await session.quit();
      await rejectsWith(
        session.noop(),
        'connection_closed',
        'NOOP: the session is closed (the session was closed)',
      );
    });
  });

  describe('a mailbox of 1,000 messages', () => {
    const COUNT = 1000;
    const messages = Array.from({ length: COUNT }, (_, i) => buildMessage(i));
    const byContent = new Map(messages.map((m, i) => [m.toString('latin1'), i]));
    const totalSize = messages.reduce((sum, m) => sum + m.length, 0);
    let session: Pop3Session;

    before(async () => {
      await world.dovecot.deliver(BOB, messages);
      session = await pop3('starttls');
      await session.authenticate({ user: BOB, accessToken: bobToken });
    });

    it('STAT, LIST and UIDL list every message', async () => {
      assert.deepEqual(await session.stat(), { count: COUNT, size: totalSize });
      const list = await session.list();
      assert.deepEqual(
        list.map((l) => l.message),
        Array.from({ length: COUNT }, (_, i) => i + 1),
      );
      assert.deepEqual(
        list.map((l) => l.size).sort((a, b) => a - b),
        messages.map((m) => m.length).sort((a, b) => a - b),
      );
      const uidl = await session.uidl();
      assert.deepEqual(
        uidl.map((u) => u.message),
        list.map((l) => l.message),
      );
      assert.equal(new Set(uidl.map((u) => u.uid)).size, COUNT);
      assert.deepEqual(await session.list(500), list[499]);
      assert.deepEqual(await session.uidl(500), uidl[499]);
    });

    it('RETR fetches every message byte for byte (dot-unstuffed)', async () => {
      const list = await session.list();
      const seen = new Set<number>();
      for (let n = 1; n <= COUNT; n++) {
        const body = await session.retr(n);
        const index = byContent.get(body.toString('latin1'));
        assert.ok(index !== undefined, `message ${n} differs from every delivered one`);
        assert.ok(!seen.has(index), `message ${n} delivered twice`);
        seen.add(index);
        assert.equal(body.length, list[n - 1]!.size);
      }
      assert.equal(seen.size, COUNT);
    });

    it('TOP returns the header and the first lines of the body', async () => {
      const body = await session.retr(7);
      const headerEnd = body.indexOf('\r\n\r\n') + 4;
      assert.deepEqual(await session.top(7, 0), body.subarray(0, headerEnd));
      const lines = body.subarray(headerEnd).toString('latin1').split('\r\n');
      assert.equal(
        (await session.top(7, 3)).toString('latin1'),
        `${body.subarray(0, headerEnd).toString('latin1')}${lines.slice(0, 3).join('\r\n')}\r\n`,
      );
    });

    it('a missing message is command_failed with the server text', async () => {
      const error = await rejectsWith(
        session.retr(COUNT + 1),
        'command_failed',
        "RETR failed: There's no message 1001.",
      );
      assert.equal(error.serverText, "There's no message 1001.");
      assert.equal(session.state, 'transaction');
    });

    it('DELE marks, RSET unmarks, DELE of a deleted message fails', async () => {
      const { size } = await session.list(1);
      await session.dele(1);
      await rejectsWith(session.dele(1), 'command_failed', 'DELE failed: Message is deleted.');
      await rejectsWith(session.retr(1), 'command_failed', 'RETR failed: Message is deleted.');
      assert.deepEqual(await session.stat(), { count: COUNT - 1, size: totalSize - size });
      await session.rset();
      assert.deepEqual(await session.stat(), { count: COUNT, size: totalSize });
      await session.noop();
    });

    it('DELE every message, then QUIT removes them from the Maildir (update state)', async () => {
      await Promise.all(Array.from({ length: COUNT }, (_, i) => session.dele(i + 1)));
      assert.deepEqual(await session.stat(), { count: 0, size: 0 });
      await session.quit();
      assert.equal(session.state, 'closed');
      const maildir = world.dovecot.maildir(BOB);
      assert.deepEqual(await readdir(join(maildir, 'cur')), []);
      assert.deepEqual(await readdir(join(maildir, 'new')), []);
      const again = await pop3('none');
      await again.authenticate({ user: BOB, accessToken: bobToken });
      assert.deepEqual(await again.stat(), { count: 0, size: 0 });
      await again.quit();
    });
  });

  describe('temporary failure', () => {
    it('the AS is down: Dovecot says [SYS/TEMP], surfaced as auth_temporary', async () => {
      await world.stopAuthorizationServer();
      for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
        const session = await pop3('none');
        const error = await rejectsWith(
          session.authenticate({ user: ALICE, accessToken: aliceToken, mechanism }),
          'auth_temporary',
          new RegExp(
            `^${mechanism} authentication failed temporarily: \\[SYS/TEMP\\] Temporary authentication failure\\. \\[[^\\]]+\\]$`,
          ),
        );
        assert.equal(error.responseCode, 'SYS/TEMP');
        assert.equal(error.challenge, undefined);
        session.close();
      }
    });
  });
});

/**
 * Message `i`: CRLF lines; some with lines starting with "." (including a lone "." that would
 * end the answer if the server did not stuff it), 8-bit text, and every 100th one large.
 */
function buildMessage(i: number): Buffer {
  const lines = [
    `From: Sender ${i} <sender${i}@example.test>`,
    `To: ${BOB}`,
    `Subject: Message ${i}`,
    `Message-ID: <${i}.mailbox-test@example.test>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body of message ${i}.`,
  ];
  if (i % 3 === 0) lines.push('.', '..', '.leading dot', '...three', ' .not leading');
  if (i % 5 === 0) lines.push('', 'café – 日本語のテキスト', '');
  for (let k = 0; k < i % 11; k++) lines.push(`filler ${k} ${'x'.repeat((i * 7 + k) % 90)}`);
  if (i % 100 === 0) {
    for (let k = 0; k < 2000; k++) lines.push(`${k % 50 === 0 ? '.' : ''}${'y'.repeat(76)}`);
  }
  lines.push('-- ', `end ${i}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
}
