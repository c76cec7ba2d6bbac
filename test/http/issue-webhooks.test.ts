import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { openTestMailbox, type TestMailbox } from '../handler/mailbox.js';
import { bWord, crlf, message } from '../handler/message-bytes.js';
import { type OutlinkMailWorld, startOutlinkMailWorld } from '../mail/mail-servers-world.js';
import { type HttpsPeer, startHttpsPeer } from '../peers/https-server.js';
import { Dialects } from '../support/harness.js';
import { ALICE } from '../support/worlds.js';

/**
 * `issue.created` and `comment.created` webhooks (issue 10 item 8) from mail the real handler
 * read out of Dovecot: sent, signed, only to a webhook that asked for them by name — one
 * created without `eventTypes` keeps getting the connection events alone and never a
 * sender's words.
 */

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface Body {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** Standard Webhooks verification, from the spec (as in webhooks.test.ts). */
function verified(secret: string, m: Received): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${m.headers['webhook-id']}.${m.headers['webhook-timestamp']}.${m.body}`)
    .digest('base64');
  return String(m.headers['webhook-signature'])
    .split(' ')
    .some((s) => s === `v1,${expected}`);
}

const SUMMARY = '<script>window.__pwned=1</script> 印刷できません';
const REPORTER = { address: 'taro@example.jp', name: '山田 <b>太郎</b>' };
const COMMENTER = { address: 'hanako@example.jp', name: 'Hanako' };

for (const dialect of Dialects) {
  describe(`issue and comment webhooks on ${dialect}`, () => {
    let world: OutlinkMailWorld;
    let mailbox: TestMailbox;
    let receiver: HttpsPeer;
    const received: Received[] = [];

    before(async () => {
      receiver = await startHttpsPeer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({
            path: req.url ?? '',
            headers: req.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
          res.statusCode = 204;
          res.end();
        });
      });
      world = await startOutlinkMailWorld({ dialect });
      mailbox = await openTestMailbox(world, world.alice);
    });
    after(async () => {
      await mailbox?.close();
      await world?.close();
      await receiver?.close();
    });

    const createHook = async (path: string, eventTypes?: string[]) => {
      const res = await world.api('POST', '/api/v1/webhooks', {
        url: `${receiver.origin}${path}`,
        ...(eventTypes ? { eventTypes } : {}),
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; secret: string; eventTypes: string[] };
    };

    it('sends the mail events only to the webhooks that named them, signed', async () => {
      const quiet = await createHook('/default');
      assert.deepEqual(quiet.eventTypes, [
        'connection.authorized',
        'connection.refresh_failed',
        'connection.recovered',
        'connection.reauthorization_required',
        // Issue 13's notices.
        'link.credentials_failed',
        'link.credentials_recovered',
        'link.client_secret_expiring',
        'mail_server.handler_stopped',
        'mail_server.handler_recovered',
      ]);
      const both = await createHook('/both', ['issue.created', 'comment.created']);
      const comments = await createHook('/comments', ['comment.created', 'connection.recovered']);

      await mailbox.append([
        message(
          [
            `From: ${bWord(REPORTER.name, 'utf-8')} <${REPORTER.address}>`,
            `To: ${ALICE}`,
            `Subject: ${bWord(SUMMARY, 'utf-8')}`,
            'Message-ID: <first@example.jp>',
            'Date: Mon, 02 Mar 2026 09:00:00 +0900',
            'MIME-Version: 1.0',
            'Content-Type: text/plain; charset=utf-8',
          ],
          crlf('プリンターから <img src=x onerror=alert(1)> が出ます。\n'),
        ),
        message(
          [
            `From: ${COMMENTER.name} <${COMMENTER.address}>`,
            `To: ${ALICE}`,
            'Subject: Re: printing',
            'Message-ID: <second@example.jp>',
            'In-Reply-To: <first@example.jp>',
            'References: <first@example.jp>',
            'Date: Mon, 02 Mar 2026 09:10:00 +0900',
            'MIME-Version: 1.0',
            'Content-Type: text/plain; charset=utf-8',
          ],
          crlf('Same here.\n'),
        ),
      ]);
      const server = await world.createServer({
        name: 'Support',
        protocol: 'imap',
        host: '127.0.0.1',
        port: world.dovecot.ports.imaps!,
        security: 'tls',
        username: ALICE,
        authentication: { method: 'oauth2', connectionId: world.alice },
        handlerEnabled: true,
        issueKeyPrefix: 'HELP',
      });
      const poll = await world.api('POST', `/api/v1/mail-servers/${server.id}/poll`);
      assert.equal(poll.statusCode, 200, poll.body);
      assert.deepEqual(poll.json(), {
        fetched: 2,
        created: 1,
        commented: 1,
        skipped: 0,
        failed: 0,
      });
      const issue = await world.api('GET', '/api/v1/issues/HELP-1');
      assert.equal(issue.statusCode, 200, issue.body);
      const shown = issue.json() as {
        summary: string;
        reporter: unknown;
        comments: { id: string; author: unknown }[];
      };
      assert.equal(shown.summary, SUMMARY);
      assert.deepEqual(shown.reporter, REPORTER);

      const events = await world.api('GET', '/api/v1/events?limit=200');
      const byType = (type: string) =>
        (events.json() as { items: { id: string; type: string }[] }).items.find(
          (e) => e.type === type,
        );
      const issueEvent = byType('issue.created');
      const commentEvent = byType('comment.created');
      assert.ok(issueEvent && commentEvent);

      await world.outlink.services.webhookDispatcher.tick();
      const paths = received.map((m) => m.path).sort();
      assert.deepEqual(paths, ['/both', '/both', '/comments']);

      const url = `${world.outlink.config.baseUrl.href.replace(/\/$/, '')}/admin/issues/HELP-1`;
      const bodies = new Map(
        received.map((m) => [`${m.path} ${(JSON.parse(m.body) as Body).type}`, m]),
      );
      const issueCreated = bodies.get('/both issue.created');
      const commentCreated = bodies.get('/both comment.created');
      const commentOnly = bodies.get('/comments comment.created');
      assert.ok(issueCreated && commentCreated && commentOnly, [...bodies.keys()].join());
      assert.equal(verified(both.secret, issueCreated), true);
      assert.equal(verified(both.secret, commentCreated), true);
      assert.equal(verified(comments.secret, commentOnly), true);
      assert.equal(verified(quiet.secret, commentOnly), false);

      const issueId = (JSON.parse(issueCreated.body) as Body).data.issueId;
      assert.match(String(issueId), /^[0-9a-f-]{36}$/);
      assert.deepEqual((JSON.parse(issueCreated.body) as Body).data, {
        key: 'HELP-1',
        issueId,
        summary: SUMMARY,
        reporter: REPORTER,
        url,
        eventId: issueEvent.id,
        mailServerId: server.id,
      });
      const commentData = {
        key: 'HELP-1',
        issueId,
        summary: SUMMARY,
        reporter: REPORTER,
        url,
        commentId: shown.comments[0]?.id,
        author: COMMENTER,
        eventId: commentEvent.id,
        mailServerId: server.id,
      };
      assert.deepEqual((JSON.parse(commentCreated.body) as Body).data, commentData);
      assert.deepEqual((JSON.parse(commentOnly.body) as Body).data, commentData);
      // Bodies stay in Outlink: a receiver reads them through the API.
      for (const m of received) assert.doesNotMatch(m.body, /onerror|Same here/);

      // The webhook without eventTypes had nothing queued at all.
      const queued = await world.outlink.services.store.db
        .selectFrom('webhook_deliveries')
        .select(['webhook_id', 'event_type', 'status'])
        .execute();
      assert.deepEqual(
        queued.filter((d) => d.webhook_id === quiet.id),
        [],
      );
      assert.ok(queued.every((d) => d.status === 'delivered'));
    });
  });
}
