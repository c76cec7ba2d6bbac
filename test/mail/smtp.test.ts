import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import type { MailStep } from '../../src/domain/mail-server.js';
import type { MailSecurity, MailTimeouts } from '../../src/mail/endpoint.js';
import { MailError, type MailErrorCode } from '../../src/mail/mail-error.js';
import type { SaslMechanism } from '../../src/mail/sasl.js';
import type { MailLogin, SessionObserver } from '../../src/mail/session.js';
import { SmtpSession } from '../../src/mail/smtp.js';
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

async function rejectsWith(
  promise: Promise<unknown>,
  expected: { code: MailErrorCode; step: MailStep; message: string | RegExp },
): Promise<MailError> {
  let caught: MailError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof MailError, String(error));
    assert.equal(error.code, expected.code, error.message);
    assert.equal(error.step, expected.step, error.message);
    assert.equal(error.protocol, 'smtp');
    if (typeof expected.message === 'string') assert.equal(error.message, expected.message);
    else assert.match(error.message, expected.message);
    caught = error;
    return true;
  });
  return caught!;
}

describe('SMTP submission through nodemailer with Outlink SASL handlers, against Dovecot', () => {
  let world: MailWorld;
  /** TLS, and XOAUTH2 only. */
  let xoauth2Only: DovecotPeer;
  /** No TLS at all (no STARTTLS offered). */
  let plainOnly: DovecotPeer;
  let aliceToken: string;
  let bobToken: string;
  const open: SmtpSession[] = [];

  const target = (
    peer: DovecotPeer,
    security: MailSecurity,
    overrides: { port?: number; ca?: string | null } = {},
  ): SocketTarget => ({
    endpoint: {
      protocol: 'smtp',
      host: '127.0.0.1',
      port:
        overrides.port ?? (security === 'tls' ? peer.ports.submissions! : peer.ports.submission),
      security,
    },
    tls: overrides.ca === null ? {} : { ca: overrides.ca ?? world.tls.caPem },
    timeouts: TIMEOUTS,
  });
  const connect = async (t: SocketTarget, observer?: SessionObserver) => {
    const session = await SmtpSession.open(t, observer);
    open.push(session);
    return session;
  };
  const token = (accessToken: string, user = ALICE, mechanism?: SaslMechanism): MailLogin => ({
    user,
    secret: { kind: 'token', accessToken },
    ...(mechanism ? { mechanism } : {}),
  });

  before(async () => {
    world = await startMailWorld({ passwords: true });
    xoauth2Only = await world.startDovecot({ mechanisms: ['xoauth2'], tls: world.tls });
    plainOnly = await world.startDovecot({});
    [aliceToken, bobToken] = await Promise.all([world.accessToken(ALICE), world.accessToken(BOB)]);
  });
  after(async () => {
    for (const session of open) session.quit();
    await world?.close();
  });

  describe('each mechanism over each kind of connection, relayed to the sink', () => {
    for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
      for (const security of ['tls', 'starttls', 'none'] as const) {
        it(`${mechanism} over ${security}`, async () => {
          const peer = mechanism === 'XOAUTH2' ? xoauth2Only : world.dovecot;
          const phases: string[] = [];
          const session = await connect(target(peer, security), {
            connected: () => phases.push('connected'),
            secured: (info) => phases.push(`secured ${info.protocol}`),
            greeted: (info) => phases.push(`greeted ${info.greeting}`),
          });
          assert.deepEqual(phases, [
            'connected',
            ...(security === 'none' ? [] : ['secured TLSv1.3']),
            'greeted mail.example.test',
          ]);
          assert.equal(session.greeting.secure, security !== 'none');
          assert.deepEqual(
            session.greeting.mechanisms,
            mechanism === 'XOAUTH2' ? ['XOAUTH2'] : ['PLAIN', 'XOAUTH2', 'OAUTHBEARER'],
          );
          assert.equal(await session.login(token(aliceToken)), mechanism);
          const subject = `${mechanism} over ${security}`;
          const relayedBefore = peer.relayed().length;
          const info = await session.send({
            from: ALICE,
            to: [BOB],
            subject,
            text: 'Sent through Outlink.\n',
            headers: { 'Auto-Submitted': 'auto-generated' },
          });
          assert.deepEqual(info.accepted, [BOB]);
          assert.deepEqual(info.rejected, []);
          assert.equal(info.response, '250 2.0.0 OK: message queued');
          session.quit();
          const relayed = (await peer.waitForRelayed(relayedBefore + 1)).at(-1)!;
          assert.equal(relayed.from, ALICE);
          assert.deepEqual(relayed.to, [BOB]);
          const parsed = await simpleParser(relayed.data);
          assert.equal(parsed.subject, subject);
          assert.equal(parsed.from?.text, ALICE);
          assert.equal(parsed.messageId, info.messageId);
          assert.equal(parsed.headers.get('auto-submitted'), 'auto-generated');
          assert.equal(parsed.text, 'Sent through Outlink.\n');
        });
      }
    }
  });

  describe('the mechanism override is honoured', () => {
    it('XOAUTH2 where both are offered', async () => {
      const session = await connect(target(world.dovecot, 'starttls'));
      assert.equal(await session.login(token(aliceToken, ALICE, 'XOAUTH2')), 'XOAUTH2');
    });

    it('OAUTHBEARER where only XOAUTH2 is offered fails before a token is sent', async () => {
      const t = target(xoauth2Only, 'tls');
      const session = await connect(t);
      await rejectsWith(session.login(token(aliceToken, ALICE, 'OAUTHBEARER')), {
        code: 'mechanism_unavailable',
        step: 'authentication',
        message: `127.0.0.1:${t.endpoint.port} offers AUTH XOAUTH2, not OAUTHBEARER`,
      });
    });

    it('a password, for a mailbox that still has one', async () => {
      const session = await connect(target(world.dovecot, 'tls'));
      assert.equal(
        await session.login({
          user: CAROL,
          secret: { kind: 'password', password: CAROL_PASSWORD },
        }),
        'PASSWORD',
      );
    });
  });

  describe('a refused token: 535 with the decoded challenge, never nodemailer’s refresher', () => {
    for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
      it(`${mechanism}: a token of another user`, async () => {
        const session = await connect(target(world.dovecot, 'tls'));
        const error = await rejectsWith(session.login(token(bobToken, ALICE, mechanism)), {
          code: 'auth_failed',
          step: 'authentication',
          message: `${mechanism} authentication at 127.0.0.1 failed: 535 5.7.8 Authentication failed.`,
        });
        assert.equal(error.responseCode, '535 5.7.8');
        assert.equal(error.serverText, 'Authentication failed.');
        assert.equal(error.mechanism, mechanism);
        assert.deepEqual(
          error.challenge,
          mechanism === 'XOAUTH2'
            ? {
                status: '401',
                schemes: 'bearer',
                scope: 'mail',
                openidConfiguration: world.as.endpoints.discovery,
              }
            : { status: 'invalid_token', openidConfiguration: world.as.endpoints.discovery },
        );
        // The session survives the refusal (RFC 4954 §4): a retry may log in on it.
        assert.equal(await session.login(token(aliceToken, ALICE, mechanism)), mechanism);
      });
    }
  });

  describe('TLS is verified and STARTTLS never skipped', () => {
    for (const security of ['tls', 'starttls'] as const) {
      it(`refuses a certificate from a CA it does not trust (${security})`, async () => {
        const t = target(world.dovecot, security, { ca: null });
        await rejectsWith(SmtpSession.open(t), {
          code: 'tls_failed',
          step: 'tls',
          message: `TLS with 127.0.0.1:${t.endpoint.port} failed: unable to verify the first certificate`,
        });
      });
    }

    it('fails when STARTTLS is asked for and the server does not offer it', async () => {
      const t = target(plainOnly, 'starttls');
      const error = await rejectsWith(SmtpSession.open(t), {
        code: 'starttls_unavailable',
        step: 'tls',
        message: `127.0.0.1:${t.endpoint.port} refused STARTTLS (RFC 3207): 502 5.5.1 TLS support is not enabled.; TLS is required`,
      });
      assert.equal(error.responseCode, '502');
    });

    it('a closed port: connect_failed', async () => {
      const port = await closedPort();
      await rejectsWith(SmtpSession.open(target(world.dovecot, 'tls', { port })), {
        code: 'connect_failed',
        step: 'connect',
        message: `cannot connect to 127.0.0.1:${port}: ECONNREFUSED`,
      });
    });
  });
});
