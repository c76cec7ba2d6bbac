import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { createManualClock } from '../../src/domain/clock.js';
import { signWebhook } from '../../src/services/webhooks.js';
import { type OutlinkMailWorld, startOutlinkMailWorld } from '../mail/mail-servers-world.js';
import type { RelayedMessage } from '../peers/dovecot.js';
import { oauthError } from '../peers/fault-proxy.js';
import { startHttpsPeer } from '../peers/https-server.js';
import { Dialects } from '../support/harness.js';
import {
  ALICE,
  authorizeAccount,
  BOB,
  CAROL,
  CAROL_PASSWORD,
  createTestLink,
  TEST_CLIENT,
} from '../support/worlds.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const RECIPIENTS = ['ops@example.test', 'oncall@example.test'];
const NOTICE_SERVER = 'Notices outbox';

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A webhook receiver over HTTPS that records every request and answers 204. */
async function startReceiver() {
  const received: Received[] = [];
  const peer = await startHttpsPeer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = 204;
      res.end();
    });
  });
  return { url: `${peer.origin}/hooks/notices`, received, close: () => peer.close() };
}

/**
 * Notices (issue 13 item 3) received by real peers: emails relayed by Dovecot's submission
 * service (the notice mail server authenticates with XOAUTH2 as ALICE) to its SMTP sink, and
 * webhooks received over HTTPS, with the one-hour window driven by the injected clock.
 */
for (const dialect of Dialects) {
  describe(`notifications on ${dialect}`, () => {
    const clock = createManualClock(new Date('2026-03-02T08:00:00Z'));
    let world: OutlinkMailWorld;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let hookSecret: string;
    /** Relayed messages already looked at. */
    let read = 0;
    /** Every secret seen during the test: none may reach a notice. */
    const secrets = new Set<string>([TEST_CLIENT.clientSecret, CAROL_PASSWORD]);

    before(async () => {
      receiver = await startReceiver();
      world = await startOutlinkMailWorld({
        dialect,
        clock,
        env: {
          OUTLINK_NOTIFY_MAIL_SERVER: NOTICE_SERVER,
          OUTLINK_NOTIFY_EMAILS: RECIPIENTS.join(', '),
        },
      });
      await world.createServer({
        name: NOTICE_SERVER,
        protocol: 'smtp',
        host: '127.0.0.1',
        port: world.dovecot.ports.submissions!,
        security: 'tls',
        username: ALICE,
        authentication: { method: 'oauth2', connectionId: world.alice },
      });
      const res = await world.api('POST', '/api/v1/webhooks', { url: receiver.url });
      assert.equal(res.statusCode, 201, res.body);
      hookSecret = (res.json() as { secret: string }).secret;
      secrets.add(hookSecret);
    });
    after(async () => {
      await world?.close();
      await receiver?.close();
    });

    const remember = async (...connectionIds: string[]) => {
      for (const id of connectionIds) {
        const tokens = await world.storedTokens(id);
        secrets.add(tokens.accessToken);
        if (tokens.refreshToken) secrets.add(tokens.refreshToken);
      }
    };
    /** Sends what is due (emails, webhooks) and returns what arrived since the last call. */
    const flush = async () => {
      const { notifier, webhookDispatcher } = world.outlink.services;
      const { sent } = await notifier.tick();
      await webhookDispatcher.tick();
      // Submission relays after it answered: wait for what the notifier sent.
      const relayed =
        sent > 0 ? await world.dovecot.waitForRelayed(read + sent) : world.dovecot.relayed();
      assert.equal(world.dovecot.relayed().length, read + sent, 'relayed what was sent');
      const fresh = relayed.slice(read);
      read = relayed.length;
      return Promise.all(fresh.map(parse));
    };
    const parse = async (m: RelayedMessage) => {
      const mail = await simpleParser(m.data);
      return {
        to: [...m.to].sort(),
        from: m.from,
        subject: mail.subject ?? '',
        text: mail.text ?? '',
        raw: m.data.toString('utf8'),
        autoSubmitted: mail.headers.get('auto-submitted'),
      };
    };
    let hooksRead = 0;
    const freshHooks = () => {
      const fresh = receiver.received.slice(hooksRead);
      hooksRead = receiver.received.length;
      return fresh.map((r) => {
        const id = String(r.headers['webhook-id']);
        const timestamp = Number(r.headers['webhook-timestamp']);
        assert.equal(
          r.headers['webhook-signature'],
          signWebhook(hookSecret, id, timestamp, r.body),
          'signed the Standard Webhooks way',
        );
        return {
          raw: r.body,
          ...(JSON.parse(r.body) as { type: string; data: Record<string, unknown> }),
        };
      });
    };
    const refresh = (connectionId: string) =>
      world.api('POST', `/api/v1/connections/${connectionId}/refresh`, {});
    const fail = async (connectionId: string) => {
      world.proxy.queue({
        kind: 'respond',
        status: 503,
        headers: { 'retry-after': '120' },
        body: 'maintenance',
      });
      const res = await refresh(connectionId);
      // 200 while the stored token is still good, 503 once it expired: failing either way.
      if (res.statusCode === 503) return;
      assert.equal((res.json() as { status: string }).status, 'refresh_failing', res.body);
    };
    const recover = async (connectionId: string) => {
      const res = await refresh(connectionId);
      assert.equal((res.json() as { status: string }).status, 'valid', res.body);
    };
    const eventCount = async (type: string, connectionId: string) =>
      (
        await world.outlink.services.store.db
          .selectFrom('events')
          .select('id')
          .where('type', '=', type)
          .where('connection_id', '=', connectionId)
          .execute()
      ).length;
    const everything: string[] = [];
    const keep = <T extends { raw: string }>(items: T[]) => {
      everything.push(...items.map((i) => i.raw));
      return items;
    };

    it('a connection flapping 5 times within an hour: one failure notice and one recovery notice, by email and webhook; after the hour, again', async () => {
      const linkId = await createTestLink(world.outlink, world, 'Flaky AS');
      const bob = await authorizeAccount(world.outlink, world, linkId, BOB);
      await remember(bob, world.alice);
      keep(await flush());
      assert.deepEqual(
        keep(freshHooks()).map((h) => h.type),
        ['connection.authorized'],
      );

      for (let i = 0; i < 5; i++) {
        clock.advance(5 * MINUTE);
        await fail(bob);
        clock.advance(5 * MINUTE);
        await recover(bob);
      }
      await remember(bob, world.alice);
      // The event log keeps every attempt …
      assert.equal(await eventCount('connection.refresh_failed', bob), 5);
      assert.equal(await eventCount('connection.recovered', bob), 5);
      // … the administrators get one notice of each.
      const mails = keep(await flush());
      assert.deepEqual(
        mails.map((m) => m.subject),
        [
          `[Outlink] Token refresh failing: ${BOB} (Flaky AS)`,
          `[Outlink] Recovered: ${BOB} (Flaky AS)`,
        ],
      );
      for (const mail of mails) {
        assert.deepEqual(mail.to, [...RECIPIENTS].sort());
        assert.equal(mail.from, ALICE);
        assert.equal(mail.autoSubmitted, 'auto-generated');
        assert.match(mail.text, new RegExp(`/admin/applinks/${linkId}`));
      }
      assert.match(mails[0]!.text, /reason: /);
      const hooks = keep(freshHooks());
      assert.deepEqual(
        hooks.map((h) => h.type),
        ['connection.refresh_failed', 'connection.recovered'],
      );
      assert.equal(hooks[0]!.data.connectionId, bob);

      // Fails again 50 minutes after the first notice: held back …
      clock.advance(5 * MINUTE);
      await fail(bob);
      assert.deepEqual(keep(await flush()), []);
      assert.deepEqual(keep(freshHooks()), []);
      // … and told once the hour is over, because it still fails.
      clock.advance(10 * MINUTE);
      const late = keep(await flush());
      assert.deepEqual(
        late.map((m) => m.subject),
        [`[Outlink] Token refresh failing: ${BOB} (Flaky AS)`],
      );
      assert.deepEqual(
        keep(freshHooks()).map((h) => h.type),
        ['connection.refresh_failed'],
      );
      // Staying in the same state says nothing more, even hours later.
      clock.advance(2 * HOUR);
      await fail(bob);
      assert.deepEqual(keep(await flush()), []);
      clock.advance(MINUTE);
      await recover(bob);
      assert.deepEqual(
        keep(await flush()).map((m) => m.subject),
        [`[Outlink] Recovered: ${BOB} (Flaky AS)`],
      );
      assert.deepEqual(
        keep(freshHooks()).map((h) => h.type),
        ['connection.recovered'],
      );
      // More than an hour after the last failure notice, a new failure notifies at once.
      clock.advance(HOUR);
      await fail(bob);
      assert.deepEqual(
        keep(await flush()).map((m) => m.subject),
        [`[Outlink] Token refresh failing: ${BOB} (Flaky AS)`],
      );
      assert.deepEqual(
        keep(freshHooks()).map((h) => h.type),
        ['connection.refresh_failed'],
      );
      await recover(bob);
      keep(await flush());
      keep(freshHooks());
      await remember(bob, world.alice);
    });

    it('rejected client credentials: one notice about the link, not one per mailbox', async () => {
      const linkId = await createTestLink(world.outlink, world, 'Rotated AS');
      const connections = [
        await authorizeAccount(world.outlink, world, linkId, BOB),
        await authorizeAccount(world.outlink, world, linkId, ALICE),
      ];
      await remember(...connections);
      keep(await flush());
      keep(freshHooks());
      clock.advance(MINUTE);
      world.proxy.queue(oauthError('invalid_client', 401, 'client authentication failed'));
      const res = await refresh(connections[0]!);
      assert.equal(res.statusCode, 409, res.body);
      const mails = keep(await flush());
      assert.deepEqual(
        mails.map((m) => m.subject),
        ['[Outlink] Client credentials rejected: Rotated AS'],
      );
      assert.match(mails[0]!.text, /not each mailbox/);
      const hooks = keep(freshHooks());
      assert.deepEqual(hooks.map((h) => h.type).sort(), [
        'connection.reauthorization_required',
        'connection.reauthorization_required',
        'link.credentials_failed',
      ]);
      // The link is saved with its (same, still valid) secret: both mailboxes are retried and
      // recover; one email about the link, a webhook for each connection.
      clock.advance(MINUTE);
      const saved = await world.api('PATCH', `/api/v1/links/${linkId}`, {
        clientSecret: TEST_CLIENT.clientSecret,
      });
      assert.equal(saved.statusCode, 200, saved.body);
      for (const id of connections) {
        const res = await world.api('GET', `/api/v1/connections/${id}`);
        if ((res.json() as { status: string }).status !== 'valid') await recover(id);
      }
      await remember(...connections);
      assert.deepEqual(
        keep(await flush()).map((m) => m.subject),
        ['[Outlink] Client credentials accepted again: Rotated AS'],
      );
      assert.deepEqual(
        keep(freshHooks())
          .map((h) => h.type)
          .sort(),
        ['connection.recovered', 'connection.recovered', 'link.credentials_recovered'],
      );
    });

    it('a mail handler that stops: one notice, and one when it runs again', async () => {
      const wrong = 'not carols password';
      secrets.add(wrong);
      const inbox = await world.createServer({
        name: 'Carol inbox',
        protocol: 'imap',
        host: '127.0.0.1',
        port: world.dovecot.ports.imaps!,
        security: 'tls',
        username: CAROL,
        authentication: { method: 'password', password: wrong },
        handlerEnabled: true,
        issueKeyPrefix: 'NOTE',
      });
      keep(await flush());
      keep(freshHooks());
      for (let i = 0; i < 3; i++) {
        clock.advance(MINUTE);
        const poll = await world.api('POST', `/api/v1/mail-servers/${inbox.id}/poll`, {});
        assert.ok(poll.statusCode >= 400, poll.body);
      }
      const stopped = keep(await flush());
      assert.deepEqual(
        stopped.map((m) => m.subject),
        ['[Outlink] Mail handler stopped: Carol inbox'],
      );
      assert.match(stopped[0]!.text, /status: failed/);
      assert.deepEqual(
        keep(freshHooks()).map((h) => [h.type, h.data.mailServerId]),
        [['mail_server.handler_stopped', inbox.id]],
      );
      const fixed = await world.api('PATCH', `/api/v1/mail-servers/${inbox.id}`, {
        authentication: { method: 'password', password: CAROL_PASSWORD },
      });
      assert.equal(fixed.statusCode, 200, fixed.body);
      clock.advance(MINUTE);
      const poll = await world.api('POST', `/api/v1/mail-servers/${inbox.id}/poll`, {});
      assert.equal(poll.statusCode, 200, poll.body);
      assert.deepEqual(
        keep(await flush()).map((m) => m.subject),
        ['[Outlink] Mail handler running again: Carol inbox'],
      );
      assert.deepEqual(
        keep(freshHooks()).map((h) => h.type),
        ['mail_server.handler_recovered'],
      );
    });

    it('a client secret expiring: reminders at 30, 14 and 3 days, once each', async () => {
      const linkId = await createTestLink(world.outlink, world, 'Expiring AS');
      const expiresAt = new Date(clock.now().getTime() + 40 * DAY);
      const res = await world.api('PATCH', `/api/v1/links/${linkId}`, {
        clientSecretExpiresAt: expiresAt.toISOString(),
      });
      assert.equal(res.statusCode, 200, res.body);
      keep(await flush());
      keep(freshHooks());
      const reminders = async () => {
        const mails = keep(await flush()).filter((m) => m.subject.includes('Expiring AS'));
        const hooks = keep(freshHooks()).filter((h) => h.type === 'link.client_secret_expiring');
        return { mails: mails.map((m) => m.subject), hooks: hooks.map((h) => h.data.threshold) };
      };
      assert.deepEqual(await reminders(), { mails: [], hooks: [] });
      for (const [at, days] of [
        [30, 30],
        [14, 14],
        [3, 3],
      ] as const) {
        clock.set(new Date(expiresAt.getTime() - at * DAY + MINUTE));
        await remember(world.alice);
        assert.deepEqual(await reminders(), {
          mails: [`[Outlink] Client secret expires in ${days} days: Expiring AS`],
          hooks: [days],
        });
        clock.advance(HOUR);
        assert.deepEqual(await reminders(), { mails: [], hooks: [] }, `${days} days: once`);
      }
      clock.set(new Date(expiresAt.getTime() + DAY));
      assert.deepEqual(await reminders(), { mails: [], hooks: [] });
      // The dates live in the database: nothing is sent twice after a restart either.
      const rows = await world.outlink.services.store.db
        .selectFrom('notification_windows')
        .select('state')
        .where('subject', 'like', `secret:${linkId}:%`)
        .execute();
      assert.deepEqual(rows.map((r) => r.state).sort(), ['14d', '30d', '3d']);
    });

    it('no secret reaches a notice: client secret, tokens, mail password, webhook secret', async () => {
      await remember(world.alice);
      assert.ok(everything.length >= 10, `only ${everything.length} notices seen`);
      for (const notice of everything) {
        for (const secret of secrets) {
          assert.equal(notice.includes(secret), false, 'a secret in a notice');
        }
      }
    });
  });
}
