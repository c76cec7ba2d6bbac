import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { translate } from '../../src/i18n/i18n.js';
import type { TestReport } from '../../src/schemas/mail-servers.js';
import { createTestTls } from '../peers/ca.js';
import type { DovecotPeer } from '../peers/dovecot.js';
import { closedPort } from '../support/ports.js';
import {
  ALICE,
  authorizeAccount,
  BOB,
  CAROL,
  CAROL_PASSWORD,
  TEST_CLIENT,
} from '../support/worlds.js';
import {
  type MailServerJson,
  type OutlinkMailWorld,
  startOutlinkMailWorld,
} from './mail-servers-world.js';

/**
 * The mail servers of Outlink end to end: `POST /api/v1/mail-servers/:id/test` against the
 * real Dovecot, which checks every token by introspection at the real authorization server
 * that issued it to Outlink through the code flow. Outlink's own token service hands out the
 * tokens and refreshes them when Dovecot refuses one.
 */

const STEPS = {
  incoming: ['connect', 'tls', 'greeting', 'token', 'authentication', 'folder'],
  outgoing: ['connect', 'tls', 'greeting', 'token', 'authentication', 'send'],
} as const;

const REJECTED_CAUSE = translate('en', 'mail.refusals.server_token_rejected');

const names = (report: TestReport) => report.steps.map((s) => `${s.name}:${s.ok}`);
const detailOf = (report: TestReport, step: string) =>
  report.steps.find((s) => s.name === step)?.detail;

describe('mail servers against Dovecot (POST /api/v1/mail-servers/:id/test)', () => {
  let world: OutlinkMailWorld;
  /** TLS, XOAUTH2 only: how IMAP (imapflow) is made to speak XOAUTH2. */
  let xoauth2Only: DovecotPeer;
  /** No TLS at all: STARTTLS is not offered. */
  let plainOnly: DovecotPeer;
  let counter = 0;

  const server = (body: Record<string, unknown>) =>
    world.createServer({
      name: `Mail server ${++counter}`,
      host: '127.0.0.1',
      username: ALICE,
      authentication: { method: 'oauth2', linkId: world.linkId },
      ...body,
    });
  const portOf = (peer: DovecotPeer, protocol: string, security: string) => {
    const { ports } = peer;
    const table: Record<string, Record<string, number | undefined>> = {
      imap: { tls: ports.imaps, starttls: ports.imap, none: ports.imap },
      pop3: { tls: ports.pop3s, starttls: ports.pop3, none: ports.pop3 },
      smtp: { tls: ports.submissions, starttls: ports.submission, none: ports.submission },
    };
    return table[protocol]![security]!;
  };
  const connection = async (id: string) =>
    (await world.api('GET', `/api/v1/connections/${id}`)).json() as {
      status: string;
      expiresAt: string;
    };
  const failures = async () =>
    (
      await world.outlink.services.store.db
        .selectFrom('events')
        .select(['type', 'mail_server_id', 'data'])
        .where('type', '=', 'mail_server.test_failed')
        .orderBy('seq')
        .execute()
    ).map((e) => ({ mailServerId: e.mail_server_id, data: JSON.parse(e.data) as unknown }));

  before(async () => {
    world = await startOutlinkMailWorld();
    xoauth2Only = await world.startDovecot({ mechanisms: ['xoauth2'], tls: world.tls });
    plainOnly = await world.startDovecot({});
  });
  after(() => world?.close());

  it('a good IMAP server: every step, in order, in words', async () => {
    await world.dovecot.deliver(ALICE, [
      'Subject: one\r\n\r\n1\r\n',
      'Subject: two\r\n\r\n2\r\n',
      'Subject: three\r\n\r\n3\r\n',
    ]);
    const port = world.dovecot.ports.imaps!;
    const imap = await server({ protocol: 'imap', port });
    const { expiresAt } = await connection(world.alice);
    const report = await world.test(imap.id);
    assert.deepEqual(report, {
      ok: true,
      steps: [
        {
          name: 'connect',
          label: 'Resolve and connect',
          ok: true,
          detail: `Connected to 127.0.0.1 (127.0.0.1) on port ${port}.`,
        },
        {
          name: 'tls',
          label: 'TLS',
          ok: true,
          detail:
            'TLS TLSv1.3 (TLS_AES_256_GCM_SHA384); the certificate of 127.0.0.1 is valid and trusted.',
        },
        {
          name: 'greeting',
          label: 'Greeting and capabilities',
          ok: true,
          detail:
            'The server greeted: "Dovecot (Debian) ready.". Mechanisms: PLAIN XOAUTH2 OAUTHBEARER. Capabilities: IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER.',
        },
        {
          name: 'token',
          label: 'Access token',
          ok: true,
          detail: `A valid access token of ${ALICE} (expires ${expiresAt}).`,
        },
        {
          name: 'authentication',
          label: 'Authentication',
          ok: true,
          detail: `Logged in as ${ALICE} with OAUTHBEARER.`,
        },
        {
          name: 'folder',
          label: 'Open the folder',
          ok: true,
          detail: 'Opened the folder INBOX: 3 messages.',
        },
      ],
    });
  });

  it('in Japanese for a Japanese reader', async () => {
    const imap = await server({ protocol: 'imap', port: world.dovecot.ports.imaps });
    const res = await world.outlink.app.inject({
      method: 'POST',
      url: `/api/v1/mail-servers/${imap.id}/test`,
      headers: { ...(await world.outlink.adminHeaders()), 'accept-language': 'ja' },
      payload: {},
    });
    const report = res.json() as TestReport;
    assert.deepEqual(
      report.steps.map((s) => s.label),
      [
        '名前解決と接続',
        'TLS',
        'グリーティングと機能',
        'アクセス トークン',
        '認証',
        'フォルダーを開く',
      ],
    );
    assert.equal(
      detailOf(report, 'authentication'),
      `OAUTHBEARER で ${ALICE} としてログインしました。`,
    );
  });

  describe('IMAP, POP3 and SMTP, each with XOAUTH2 and OAUTHBEARER, with TLS and without', () => {
    for (const protocol of ['imap', 'pop3', 'smtp'] as const) {
      for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
        for (const security of ['tls', 'starttls', 'none'] as const) {
          it(`${protocol} ${mechanism} ${security}`, async () => {
            // XOAUTH2 through a Dovecot that offers only it (the one way with imapflow).
            const peer = mechanism === 'XOAUTH2' ? xoauth2Only : world.dovecot;
            const created = await server({
              protocol,
              port: portOf(peer, protocol, security),
              security,
            });
            const relayedBefore = peer.relayed().length;
            const report = await world.test(created.id, protocol === 'smtp' ? { to: BOB } : {});
            assert.deepEqual(
              names(report),
              STEPS[protocol === 'smtp' ? 'outgoing' : 'incoming'].map((s) => `${s}:true`),
              JSON.stringify(report.error),
            );
            assert.equal(
              detailOf(report, 'authentication'),
              `Logged in as ${ALICE} with ${mechanism}.`,
            );
            assert.match(
              detailOf(report, 'tls') ?? '',
              security === 'none'
                ? /^No TLS \(security: none\): the connection to 127\.0\.0\.1 is not encrypted\.$/
                : new RegExp(`^${security === 'starttls' ? 'STARTTLS: ' : ''}TLS TLSv1\\.3 `),
            );
            if (protocol !== 'smtp') return;
            assert.equal(
              detailOf(report, 'send'),
              `Sent a test message to ${BOB}; the server answered: 250 2.0.0 OK: message queued`,
            );
            const relayed = (await peer.waitForRelayed(relayedBefore + 1)).at(-1)!;
            assert.equal(relayed.from, ALICE);
            assert.deepEqual(relayed.to, [BOB]);
            const parsed = await simpleParser(relayed.data);
            assert.equal(parsed.subject, `Outlink connection test of ${created.name}`);
            assert.equal(parsed.headers.get('auto-submitted'), 'auto-generated');
            assert.equal(
              parsed.text,
              `This message was sent by Outlink to test the mail server ${created.name} (127.0.0.1) with the mailbox ${ALICE}. No reply is needed.\n`,
            );
          });
        }
      }
    }

    it('SMTP sends to the username when no address is given', async () => {
      const smtp = await server({ protocol: 'smtp', port: world.dovecot.ports.submissions });
      const report = await world.test(smtp.id);
      assert.equal(report.ok, true, JSON.stringify(report.error));
      assert.equal(
        detailOf(report, 'send'),
        `Sent a test message to ${ALICE}; the server answered: 250 2.0.0 OK: message queued`,
      );
    });

    it('the mechanism override: XOAUTH2 for POP3 and SMTP where both are offered', async () => {
      for (const protocol of ['pop3', 'smtp'] as const) {
        const created = await server({
          protocol,
          port: portOf(world.dovecot, protocol, 'tls'),
          saslMechanism: 'XOAUTH2',
        });
        const report = await world.test(created.id);
        assert.equal(detailOf(report, 'authentication'), `Logged in as ${ALICE} with XOAUTH2.`);
      }
    });

    it('the IMAP override OAUTHBEARER on a server without it stops before the token', async () => {
      const port = xoauth2Only.ports.imaps!;
      const imap = await server({ protocol: 'imap', port, saslMechanism: 'OAUTHBEARER' });
      const report = await world.test(imap.id);
      assert.deepEqual(names(report), [
        'connect:true',
        'tls:true',
        'greeting:true',
        'authentication:false',
      ]);
      assert.deepEqual(report.error, {
        step: 'authentication',
        code: 'mechanism_unavailable',
        message: `The server offers no usable OAuth 2.0 mechanism: 127.0.0.1:${port} offers AUTH=XOAUTH2, not OAUTHBEARER`,
        remedy:
          'Check that the server accepts XOAUTH2 or OAUTHBEARER, or remove the mechanism override.',
        serverResponse: 'XOAUTH2',
      });
    });
  });

  describe('a mailbox that still takes a password', () => {
    it('logs in with the stored password', async () => {
      const pop3 = await server({
        protocol: 'pop3',
        port: world.dovecot.ports.pop3s,
        username: CAROL,
        authentication: { method: 'password', password: CAROL_PASSWORD },
      });
      const report = await world.test(pop3.id);
      assert.deepEqual(
        names(report),
        STEPS.incoming.map((s) => `${s}:true`),
      );
      assert.equal(detailOf(report, 'token'), `A password is stored for ${CAROL}.`);
      assert.equal(detailOf(report, 'authentication'), `Logged in as ${CAROL} with PASSWORD.`);
    });

    it('a wrong password: refused once, no refresh to try, the password remedy', async () => {
      const imap = await server({
        protocol: 'imap',
        port: world.dovecot.ports.imaps,
        username: CAROL,
        authentication: { method: 'password', password: 'not the password' },
      });
      const report = await world.test(imap.id);
      assert.deepEqual(report.error, {
        step: 'authentication',
        code: 'auth_failed',
        message:
          'The server refused the login: password authentication failed: [AUTHENTICATIONFAILED] Authentication failed.',
        remedy: `The server refused the password of ${CAROL} over IMAP: check the password, and whether the provider still accepts passwords at all (Gmail and Exchange Online require OAuth 2.0).`,
        serverResponse: 'Authentication failed.',
        serverCode: 'AUTHENTICATIONFAILED',
      });
    });
  });

  describe('where it breaks', () => {
    it('a bad port: the connect step', async () => {
      const port = await closedPort();
      const pop3 = await server({ protocol: 'pop3', port });
      const report = await world.test(pop3.id);
      assert.deepEqual(report, {
        ok: false,
        steps: [
          {
            name: 'connect',
            label: 'Resolve and connect',
            ok: false,
            detail: `Cannot connect to the server: cannot connect to 127.0.0.1:${port}: ECONNREFUSED`,
          },
        ],
        error: {
          step: 'connect',
          code: 'connect_failed',
          message: `Cannot connect to the server: cannot connect to 127.0.0.1:${port}: ECONNREFUSED`,
          remedy:
            'Check the host name and port, and that Outlink can reach the server (DNS, firewall).',
        },
      });
      assert.deepEqual((await failures()).at(-1), {
        mailServerId: pop3.id,
        data: { name: pop3.name, step: 'connect', code: 'connect_failed' },
      });
    });

    it('a certificate from a CA Outlink does not trust: the TLS step', async () => {
      const foreign = await world.startDovecot({ tls: await createTestTls() });
      for (const [protocol, security, port] of [
        ['imap', 'tls', foreign.ports.imaps!],
        ['pop3', 'starttls', foreign.ports.pop3],
        ['smtp', 'starttls', foreign.ports.submission],
      ] as const) {
        const created = await server({ protocol, security, port });
        const report = await world.test(created.id);
        assert.deepEqual(names(report), ['connect:true', 'tls:false']);
        assert.equal(report.error?.code, 'tls_failed');
        // The foreign CA has the trusted one's name: OpenSSL finds the trusted CA by name and
        // the signature does not verify.
        assert.equal(
          report.error?.message,
          `The TLS handshake failed: TLS with 127.0.0.1:${port} failed: certificate signature failure`,
        );
        assert.equal(
          report.error?.remedy,
          "Check that the server's certificate is valid for the host name and signed by a trusted CA (add a private CA with NODE_EXTRA_CA_CERTS), and that the port speaks TLS as the security setting says.",
        );
      }
    });

    it('STARTTLS asked for and not offered: the TLS step, never a plain session', async () => {
      for (const protocol of ['imap', 'pop3', 'smtp'] as const) {
        const port = portOf(plainOnly, protocol, 'starttls');
        const created = await server({ protocol, security: 'starttls', port });
        const report = await world.test(created.id);
        assert.deepEqual(names(report), ['connect:true', 'tls:false']);
        assert.equal(report.error?.code, 'starttls_unavailable', protocol);
      }
    });

    it('the provider dropped the access token: one forced refresh, then in', async () => {
      const imap = await server({ protocol: 'imap', port: world.dovecot.ports.imaps });
      const before = await world.storedTokens(world.alice);
      await world.invalidateAccessToken(world.alice);
      const report = await world.test(imap.id);
      assert.deepEqual(
        names(report),
        STEPS.incoming.map((s) => `${s}:true`),
      );
      assert.equal(
        detailOf(report, 'authentication'),
        `The server refused the stored token; after a forced refresh, logged in as ${ALICE} with OAUTHBEARER and the new token.`,
      );
      const after = await world.storedTokens(world.alice);
      assert.equal(after.version, before.version + 1);
      assert.notEqual(after.accessToken, before.accessToken);
      // The new token is now the stored one: the next test logs in at once.
      const again = await world.test(imap.id);
      assert.equal(detailOf(again, 'authentication'), `Logged in as ${ALICE} with OAUTHBEARER.`);
      assert.equal((await world.storedTokens(world.alice)).version, after.version);
    });

    it('a token for the wrong user: refused after the refresh, with the challenge and the remedy', async () => {
      const before = await world.storedTokens(world.bob);
      const pop3 = await server({
        protocol: 'pop3',
        port: world.dovecot.ports.pop3s,
        authentication: { method: 'oauth2', connectionId: world.bob },
      });
      assert.deepEqual(pop3.authentication.delegated, true);
      const { expiresAt } = await connection(world.bob);
      const report = await world.test(pop3.id);
      assert.deepEqual(names(report), [
        'connect:true',
        'tls:true',
        'greeting:true',
        'token:true',
        'authentication:false',
      ]);
      assert.equal(
        detailOf(report, 'token'),
        `A valid access token of ${BOB} for the mailbox ${ALICE}, as a delegate (expires ${expiresAt}).`,
      );
      assert.deepEqual(report.error, {
        step: 'authentication',
        code: 'auth_failed',
        message:
          'The server refused the login: OAUTHBEARER authentication failed: [AUTH] Authentication failed.',
        remedy: `The token is of ${BOB}, but the mailbox is ${ALICE}, and the server refused it even after a refresh: either ${BOB} has no full access to ${ALICE} (grant it, for a shared mailbox), or the wrong account signed in: authorize ${ALICE} itself and choose that connection.`,
        serverResponse: 'Authentication failed.',
        serverCode: 'AUTH',
        // Dovecot's refusal, read by the error catalog (issue 13 item 2).
        refusal: 'server_token_rejected',
        cause: REJECTED_CAUSE,
        challenge: { status: 'invalid_token' },
      });
      // Exactly one forced refresh: Outlink did not take the refusal for an expired token twice.
      assert.equal((await world.storedTokens(world.bob)).version, before.version + 1);
      assert.equal((await connection(world.bob)).status, 'valid');
    });

    it('Dovecot cannot check tokens (introspection down): a temporary failure, no refresh', async () => {
      const port = await closedPort();
      const broken = await world.startDovecot({
        tls: world.tls,
        introspection: { url: `https://127.0.0.1:${port}/token/introspection` },
      });
      const imap = await server({ protocol: 'imap', port: broken.ports.imaps });
      const before = await world.storedTokens(world.alice);
      const report = await world.test(imap.id);
      const { message, serverResponse, ...rest } = report.error ?? { message: '' };
      // The error catalog reads Dovecot's [UNAVAILABLE] as its introspection failing.
      assert.deepEqual(rest, {
        step: 'authentication',
        code: 'auth_temporary',
        remedy:
          'Nothing is wrong with the token: check that the mail server reaches its authorization server (for Dovecot, introspection_url, client_id, client_secret and tls_ca_cert_file in dovecot-oauth2.conf.ext), then test again.',
        serverCode: 'UNAVAILABLE',
        refusal: 'server_temporary',
        cause: translate('en', 'mail.refusals.server_temporary'),
      });
      // Dovecot stamps its temporary failures with its host name and time.
      assert.match(
        message,
        /^The server could not check the login now: OAUTHBEARER authentication failed temporarily: \[UNAVAILABLE\] Temporary authentication failure\. \[[^\]]+\]$/,
      );
      assert.match(serverResponse ?? '', /^Temporary authentication failure\. \[[^\]]+\]$/);
      assert.equal((await world.storedTokens(world.alice)).version, before.version);
    });
  });

  describe('a mailbox that needs a scope the token lacks (Dovecot `scope = profile`)', () => {
    let scoped: DovecotPeer;
    before(async () => {
      scoped = await world.startDovecot({ tls: world.tls, introspection: { scope: 'profile' } });
    });

    it('XOAUTH2: refused twice; the challenge names a scope the connection lacks', async () => {
      const pop3 = await server({
        protocol: 'pop3',
        port: scoped.ports.pop3s,
        saslMechanism: 'XOAUTH2',
      });
      const report = await world.test(pop3.id);
      // Dovecot enforces the configured scope but its XOAUTH2 challenge always says "mail".
      assert.deepEqual(report.error, {
        step: 'authentication',
        code: 'auth_failed',
        message:
          'The server refused the login: XOAUTH2 authentication failed: [AUTH] Authentication failed.',
        remedy: `The token lacks the scope mail: add mail to the link's scopes and authorize ${ALICE} again.`,
        serverResponse: 'Authentication failed.',
        serverCode: 'AUTH',
        refusal: 'server_token_rejected',
        cause: REJECTED_CAUSE,
        challenge: { status: '401', scope: 'mail', schemes: 'bearer' },
      });
    });

    it('OAUTHBEARER: no scope in the challenge, the general remedy', async () => {
      const imap = await server({ protocol: 'imap', port: scoped.ports.imaps });
      const report = await world.test(imap.id);
      assert.equal(report.error?.code, 'auth_failed');
      assert.equal(
        report.error?.remedy,
        `The server refused a freshly refreshed token of ${ALICE} for ${ALICE} over IMAP: check that the account may use IMAP, that the link's scopes include what the server needs, and that the server trusts this identity provider.`,
      );
    });

    it('a connection granted the scope is let in', async () => {
      const link = await world.api('POST', '/api/v1/links', {
        name: 'Test mail AS with profile',
        provider: 'custom',
        clientId: TEST_CLIENT.clientId,
        clientSecret: TEST_CLIENT.clientSecret,
        scopes: ['openid', 'email', 'profile', 'offline_access'],
        issuer: world.as.issuer,
        authorizationEndpoint: world.as.endpoints.authorization,
        tokenEndpoint: world.as.endpoints.token,
      });
      assert.equal(link.statusCode, 201, link.body);
      const linkId = (link.json() as { id: string }).id;
      await authorizeAccount(world.outlink, { as: world.as }, linkId, ALICE);
      const pop3 = await server({
        protocol: 'pop3',
        port: scoped.ports.pop3s,
        authentication: { method: 'oauth2', linkId },
      });
      const report = await world.test(pop3.id);
      assert.equal(report.ok, true, JSON.stringify(report.error));
    });
  });

  describe('a revoked grant', () => {
    let imap: MailServerJson;
    before(async () => {
      imap = await server({
        protocol: 'imap',
        port: world.dovecot.ports.imaps,
        username: BOB,
        authentication: { method: 'oauth2', connectionId: world.bob },
      });
      assert.equal((await world.test(imap.id)).ok, true);
      await world.revoke(world.bob, 'refresh_token');
    });

    it('is found at authentication: the forced refresh fails, re-authorization required', async () => {
      const report = await world.test(imap.id);
      assert.deepEqual(names(report), [
        'connect:true',
        'tls:true',
        'greeting:true',
        'token:true',
        'authentication:false',
      ]);
      assert.deepEqual(report.error, {
        step: 'authentication',
        code: 'reauthorization_required',
        message: `The connection of ${BOB} needs to be authorized again.`,
        remedy:
          "Re-authorize the account (or fix the link if its last error says so); see the connection's last error.",
      });
      assert.equal((await connection(world.bob)).status, 'reauthorization_required');
      assert.deepEqual((await failures()).at(-1), {
        mailServerId: imap.id,
        data: { name: imap.name, step: 'authentication', code: 'reauthorization_required' },
      });
    });

    it('and from then on at the token step, before any connection is spent on it', async () => {
      const report = await world.test(imap.id);
      assert.deepEqual(names(report), ['connect:true', 'tls:true', 'greeting:true', 'token:false']);
      assert.equal(report.error?.code, 'reauthorization_required');
    });
  });
});

describe('mail servers on PostgreSQL', () => {
  let world: OutlinkMailWorld;
  before(async () => {
    world = await startOutlinkMailWorld({ dialect: 'postgres' });
  });
  after(() => world?.close());

  it('are created, tested and keep their link from being deleted', async () => {
    const smtp = await world.createServer({
      name: 'Submission',
      protocol: 'smtp',
      host: '127.0.0.1',
      port: world.dovecot.ports.submission,
      security: 'starttls',
      username: ALICE,
      authentication: { method: 'oauth2', linkId: world.linkId },
    });
    const report = await world.test(smtp.id, { to: BOB });
    assert.deepEqual(
      names(report),
      STEPS.outgoing.map((s) => `${s}:true`),
    );
    const refused = await world.api('DELETE', `/api/v1/links/${world.linkId}`);
    assert.equal(refused.statusCode, 409);
    assert.equal(
      (refused.json() as { error: { message: string } }).error.message,
      'The link is used by mail servers: Submission.',
    );
  });
});
