import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { MailStep } from '../../src/domain/mail-server.js';
import type { MailSecurity, MailTimeouts } from '../../src/mail/endpoint.js';
import { examineFolder, openImap } from '../../src/mail/imap.js';
import { MailError, type MailErrorCode } from '../../src/mail/mail-error.js';
import type { SaslMechanism } from '../../src/mail/sasl.js';
import type { MailLogin, SessionObserver } from '../../src/mail/session.js';
import type { SocketTarget } from '../../src/mail/socket.js';
import type { DovecotPeer } from '../peers/dovecot.js';
import { type MailWorld, startMailWorld } from '../support/mail-world.js';
import { closedPort } from '../support/ports.js';
import { ALICE, BOB, CAROL, CAROL_PASSWORD } from '../support/worlds.js';

const TIMEOUTS: MailTimeouts = {
  connectMs: 2_000,
  tlsMs: 2_000,
  greetingMs: 2_000,
  commandMs: 5_000,
};

/** Asserts a MailError with this code, step and exact (string) or matching message. */
async function rejectsWith(
  promise: Promise<unknown>,
  expected: { code: MailErrorCode; step: MailStep; message: string | RegExp },
): Promise<MailError> {
  let caught: MailError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof MailError, String(error));
    assert.equal(error.code, expected.code, error.message);
    assert.equal(error.step, expected.step, error.message);
    assert.equal(error.protocol, 'imap');
    if (typeof expected.message === 'string') assert.equal(error.message, expected.message);
    else assert.match(error.message, expected.message);
    caught = error;
    return true;
  });
  return caught!;
}

/** A loopback server that accepts connections and never sends a byte. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `count` small RFC 5322 messages with CRLF line endings, numbered from 1. */
function messages(count: number): string[] {
  return Array.from(
    { length: count },
    (_, i) =>
      `From: sender${i + 1}@example.test\r\nTo: ${BOB}\r\nSubject: Message ${i + 1}\r\n` +
      `Message-ID: <m${i + 1}@example.test>\r\nDate: Mon, 2 Feb 2026 10:00:00 +0000\r\n\r\n` +
      `Body of message ${i + 1}.\r\n${'x'.repeat(i % 200)}\r\n`,
  );
}

describe('IMAP through imapflow over Outlink sockets, against Dovecot with OAuth 2.0', () => {
  let world: MailWorld;
  /** TLS, and XOAUTH2 only: the one way imapflow speaks XOAUTH2 (it prefers OAUTHBEARER). */
  let xoauth2Only: DovecotPeer;
  /** No TLS at all. */
  let plainOnly: DovecotPeer;
  let aliceToken: string;
  let bobToken: string;

  const target = (
    peer: DovecotPeer,
    security: MailSecurity,
    overrides: { port?: number; ca?: string | null; timeouts?: Partial<MailTimeouts> } = {},
  ): SocketTarget => ({
    endpoint: {
      protocol: 'imap',
      host: '127.0.0.1',
      port: overrides.port ?? (security === 'tls' ? peer.ports.imaps! : peer.ports.imap),
      security,
    },
    tls: overrides.ca === null ? {} : { ca: overrides.ca ?? world.tls.caPem },
    timeouts: { ...TIMEOUTS, ...overrides.timeouts },
  });
  const token = (accessToken: string, user = ALICE, mechanism?: SaslMechanism): MailLogin => ({
    user,
    secret: { kind: 'token', accessToken },
    ...(mechanism ? { mechanism } : {}),
  });
  /** Records the phases a connection reports, in order. */
  const recorder = () => {
    const phases: string[] = [];
    const observer: SessionObserver = {
      connected: (info) => phases.push(`connected ${info.address}`),
      secured: (info) => phases.push(`secured ${info.protocol}`),
      greeted: (info) => phases.push(`greeted ${info.greeting}`),
    };
    return { phases, observer };
  };

  before(async () => {
    world = await startMailWorld({ passwords: true });
    xoauth2Only = await world.startDovecot({ mechanisms: ['xoauth2'], tls: world.tls });
    plainOnly = await world.startDovecot({});
    [aliceToken, bobToken] = await Promise.all([world.accessToken(ALICE), world.accessToken(BOB)]);
  });
  after(() => world?.close());

  describe('each mechanism over each kind of connection', () => {
    for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
      for (const security of ['tls', 'starttls', 'none'] as const) {
        it(`${mechanism} over ${security}`, async () => {
          const peer = mechanism === 'XOAUTH2' ? xoauth2Only : world.dovecot;
          const { phases, observer } = recorder();
          const session = await openImap(target(peer, security), token(aliceToken), observer);
          try {
            assert.equal(session.mechanism, mechanism);
            assert.equal(session.client.secureConnection, security !== 'none');
            assert.equal(session.greeting.secure, security !== 'none');
            assert.deepEqual(phases, [
              'connected 127.0.0.1',
              ...(security === 'none' ? [] : ['secured TLSv1.3']),
              'greeted Dovecot (Debian) ready.',
            ]);
            assert.equal(await examineFolder(session, 'INBOX'), 0);
          } finally {
            await session.client.logout();
          }
        });
      }
    }
  });

  describe('the mechanism override (imapflow picks OAUTHBEARER whenever offered)', () => {
    it('requires OAUTHBEARER: a server offering XOAUTH2 alone fails', async () => {
      const t = target(xoauth2Only, 'tls');
      await rejectsWith(openImap(t, token(aliceToken, ALICE, 'OAUTHBEARER')), {
        code: 'mechanism_unavailable',
        step: 'authentication',
        message: `127.0.0.1:${t.endpoint.port} offers AUTH=XOAUTH2, not OAUTHBEARER`,
      });
    });

    it('cannot steer to XOAUTH2 where OAUTHBEARER is offered (documented limit)', async () => {
      const session = await openImap(
        target(world.dovecot, 'tls'),
        token(aliceToken, ALICE, 'XOAUTH2'),
      );
      assert.equal(session.mechanism, 'OAUTHBEARER');
      await session.client.logout();
    });
  });

  describe('refused credentials carry the decoded challenge', () => {
    it('XOAUTH2: a token the provider never issued', async () => {
      const error = await rejectsWith(openImap(target(xoauth2Only, 'tls'), token('not-issued')), {
        code: 'auth_failed',
        step: 'authentication',
        message: 'XOAUTH2 authentication failed: [AUTHENTICATIONFAILED] Authentication failed.',
      });
      assert.equal(error.mechanism, 'XOAUTH2');
      assert.equal(error.responseCode, 'AUTHENTICATIONFAILED');
      assert.equal(error.serverText, 'Authentication failed.');
      assert.deepEqual(error.challenge, {
        status: '401',
        schemes: 'bearer',
        scope: 'mail',
        openidConfiguration: world.as.endpoints.discovery,
      });
    });

    it('OAUTHBEARER: a token of another user (bob for the mailbox of alice)', async () => {
      const error = await rejectsWith(openImap(target(world.dovecot, 'tls'), token(bobToken)), {
        code: 'auth_failed',
        step: 'authentication',
        message: 'OAUTHBEARER authentication failed: [AUTHENTICATIONFAILED] Authentication failed.',
      });
      assert.deepEqual(error.challenge, {
        status: 'invalid_token',
        openidConfiguration: world.as.endpoints.discovery,
      });
    });

    it('a token revoked at the provider is refused at its next use', async () => {
      const revoked = await world.accessToken(ALICE);
      const session = await openImap(target(world.dovecot, 'starttls'), token(revoked));
      await session.client.logout();
      await world.revoke(revoked);
      await rejectsWith(openImap(target(world.dovecot, 'starttls'), token(revoked)), {
        code: 'auth_failed',
        step: 'authentication',
        message: 'OAUTHBEARER authentication failed: [AUTHENTICATIONFAILED] Authentication failed.',
      });
    });

    it('a password login for a mailbox that still has one (no mechanism reported)', async () => {
      const session = await openImap(target(world.dovecot, 'tls'), {
        user: CAROL,
        secret: { kind: 'password', password: CAROL_PASSWORD },
      });
      assert.equal(session.mechanism, undefined);
      await session.client.logout();
    });
  });

  describe('TLS is verified and STARTTLS never skipped', () => {
    for (const security of ['tls', 'starttls'] as const) {
      it(`refuses a certificate from a CA it does not trust (${security})`, async () => {
        const t = target(world.dovecot, security, { ca: null });
        await rejectsWith(openImap(t, token(aliceToken)), {
          code: 'tls_failed',
          step: 'tls',
          message: `TLS with 127.0.0.1:${t.endpoint.port} failed: unable to verify the first certificate`,
        });
      });
    }

    it('fails when STARTTLS is asked for and the server does not offer it', async () => {
      const t = target(plainOnly, 'starttls');
      await rejectsWith(openImap(t, token(aliceToken)), {
        code: 'starttls_unavailable',
        step: 'tls',
        message: `127.0.0.1:${t.endpoint.port} does not offer STARTTLS (RFC 9051 §6.2.1); TLS is required`,
      });
    });

    it('implicit TLS to a plain-text port fails the handshake', async () => {
      const t = target(plainOnly, 'tls', { port: plainOnly.ports.imap });
      await rejectsWith(openImap(t, token(aliceToken)), {
        code: 'tls_failed',
        step: 'tls',
        message: `TLS with 127.0.0.1:${t.endpoint.port} failed: wrong version number`,
      });
    });
  });

  describe('where a connection breaks, and no hang on a silent server', () => {
    it('a closed port: connect_failed', async () => {
      const port = await closedPort();
      await rejectsWith(openImap(target(world.dovecot, 'tls', { port }), token(aliceToken)), {
        code: 'connect_failed',
        step: 'connect',
        message: `cannot connect to 127.0.0.1:${port}: ECONNREFUSED`,
      });
    });

    it('a host name that does not resolve: connect_failed', async () => {
      const t = target(world.dovecot, 'tls');
      await rejectsWith(
        openImap({ ...t, endpoint: { ...t.endpoint, host: 'imap.outlink.invalid' } }, token('x')),
        {
          code: 'connect_failed',
          step: 'connect',
          message: new RegExp(
            `^cannot connect to imap\\.outlink\\.invalid:${t.endpoint.port}: the host name imap\\.outlink\\.invalid does not resolve \\((ENOTFOUND|EAI_AGAIN)\\)$`,
          ),
        },
      );
    });

    it('a server that accepts and never greets: timeout in the greeting step', async () => {
      const silent = await silentServer();
      try {
        const started = Date.now();
        const t = target(world.dovecot, 'none', {
          port: silent.port,
          timeouts: { greetingMs: 300 },
        });
        await rejectsWith(openImap(t, token(aliceToken)), {
          code: 'timeout',
          step: 'greeting',
          message: `127.0.0.1:${silent.port} did not answer in time (greeting): Failed to receive greeting from server in required time. Maybe should use TLS?`,
        });
        assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
      } finally {
        await silent.close();
      }
    });

    it('a server that never answers the TLS handshake: timeout in the TLS step', async () => {
      const silent = await silentServer();
      try {
        const t = target(world.dovecot, 'tls', { port: silent.port, timeouts: { tlsMs: 300 } });
        await rejectsWith(openImap(t, token(aliceToken)), {
          code: 'timeout',
          step: 'tls',
          message: `the TLS handshake with 127.0.0.1:${silent.port} took longer than 300 ms`,
        });
      } finally {
        await silent.close();
      }
    });
  });

  describe('a mailbox of 1,000 messages', () => {
    it('is listed and every message fetched, byte for byte', async () => {
      const sent = messages(1_000);
      await world.dovecot.deliver(BOB, sent);
      const started = Date.now();
      const session = await openImap(target(world.dovecot, 'tls'), token(bobToken, BOB));
      try {
        assert.equal(await examineFolder(session, 'INBOX'), 1_000);
        const seen: { seq: number; subject: string; size: number; source: string }[] = [];
        for await (const message of session.client.fetch('1:*', {
          uid: true,
          envelope: true,
          size: true,
          source: true,
        })) {
          seen.push({
            seq: message.seq,
            subject: message.envelope?.subject ?? '',
            size: message.size ?? -1,
            source: message.source?.toString('utf8') ?? '',
          });
        }
        assert.equal(seen.length, 1_000);
        for (const [i, message] of seen.entries()) {
          assert.equal(message.seq, i + 1);
          assert.equal(message.subject, `Message ${i + 1}`);
          assert.equal(message.size, Buffer.byteLength(sent[i]!));
          assert.equal(message.source, sent[i]);
        }
        const elapsed = Date.now() - started;
        assert.ok(elapsed < 20_000, `listing and fetching 1,000 messages took ${elapsed} ms`);
      } finally {
        await session.client.logout();
      }
    });
  });
});
