import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { translate } from '../../src/i18n/i18n.js';
import { createMailHandlerStateRepository } from '../../src/store/repositories/mail-handler-state.js';
import { openTestMailbox } from '../handler/mailbox.js';
import {
  type MailServerJson,
  type OutlinkMailWorld,
  startOutlinkMailWorld,
} from '../mail/mail-servers-world.js';
import { Dialects } from '../support/harness.js';
import { closedPort } from '../support/ports.js';
import { ALICE } from '../support/worlds.js';

/**
 * The "Mail handler" column of the mail servers list as the server renders it (issue 10
 * item 9): a handler that never ran, one that ran against real Dovecot (its counts and
 * time), one whose run failed against a closed port, one whose stored error code carries
 * HTML (shown as text), and an outgoing server (no handler, no "Check mail now") — in
 * English and Japanese, on both databases.
 */

/** The `<tr>` of the server named `name`. */
function rowOf(body: string, name: string): string {
  const marker = `data-name="${name}"`;
  const start = body.indexOf(marker);
  assert.ok(start >= 0, `no row for ${name}`);
  return body.slice(body.lastIndexOf('<tr', start), body.indexOf('</tr>', start));
}

/** The element with `data-testid="<testid>"` in `fragment`: its opening tag and its text. */
function part(fragment: string, testid: string): { tag: string; text: string } {
  const open = new RegExp(`<(\\w+)[^>]*data-testid="${testid}"[^>]*>`).exec(fragment);
  assert.ok(open, `no ${testid}`);
  const start = open.index + open[0].length;
  // The element ends where its own closing tag does: same-name children nest.
  const tags = new RegExp(`<(/?)${open[1]}\\b[^>]*>`, 'g');
  tags.lastIndex = start;
  let depth = 1;
  for (let m = tags.exec(fragment); m; m = tags.exec(fragment)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return { tag: open[0], text: text(fragment.slice(start, m.index)) };
  }
  assert.fail(`${testid} is not closed`);
}

/** Text without tags, whitespace collapsed (entities left as they are). */
const text = (fragment: string) =>
  fragment
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** A plain message from a customer; `inReplyTo` makes it a reply. */
function customerMail(id: string, subject: string, inReplyTo?: string): Buffer {
  return Buffer.from(
    [
      'From: Dana Customer <dana@example.test>',
      `To: ${ALICE}`,
      `Subject: ${subject}`,
      `Message-ID: <${id}@example.test>`,
      ...(inReplyTo ? [`In-Reply-To: <${inReplyTo}@example.test>`] : []),
      'Date: Fri, 04 Dec 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `About ${subject}.`,
      '',
    ].join('\r\n'),
  );
}

const HOSTILE_CODE = '<img src=x onerror=alert(1)>';

for (const dialect of Dialects) {
  describe(`the mail handler column of the mail servers list on ${dialect}`, () => {
    let world: OutlinkMailWorld;
    let ran: MailServerJson;
    let unreachable: MailServerJson;
    const page = async (locale: 'en' | 'ja' = 'en') => {
      const res = await world.outlink.app.inject({
        method: 'GET',
        url: '/admin/mail-servers',
        headers: {
          cookie: (await world.outlink.adminHeaders()).cookie!,
          'accept-language': locale,
        },
      });
      assert.equal(res.statusCode, 200, res.body.slice(0, 300));
      return res.body;
    };
    const imap = (name: string, handlerEnabled: boolean) =>
      world.createServer({
        name,
        protocol: 'imap',
        host: '127.0.0.1',
        port: world.dovecot.ports.imaps!,
        security: 'tls',
        username: ALICE,
        authentication: { method: 'oauth2', connectionId: world.alice },
        handlerEnabled,
      });

    before(async () => {
      world = await startOutlinkMailWorld({ dialect });
      await imap('Never ran', false);
      ran = await imap('Ran', true);
      unreachable = await world.createServer({
        name: 'Unreachable',
        protocol: 'pop3',
        host: '127.0.0.1',
        port: await closedPort(),
        security: 'tls',
        username: 'support@example.test',
        authentication: { method: 'password', password: 'a pop3 password' },
        handlerEnabled: true,
      });
      const hostile = await world.createServer({
        name: 'Hostile',
        protocol: 'pop3',
        host: 'pop.example.test',
        security: 'tls',
        username: 'support@example.test',
        authentication: { method: 'password', password: 'a pop3 password' },
        handlerEnabled: true,
      });
      await world.createServer({
        name: 'Outbox',
        protocol: 'smtp',
        host: 'smtp.example.test',
        username: 'support@example.test',
        authentication: { method: 'password', password: 'an smtp password' },
      });

      const mailbox = await openTestMailbox(world, world.alice);
      try {
        await mailbox.append([
          customerMail('first', 'Printer on fire'),
          customerMail('second', 'Cannot sign in'),
          customerMail('reply', 'Re: Printer on fire', 'first'),
        ]);
      } finally {
        await mailbox.close();
      }
      const polled = await world.api('POST', `/api/v1/mail-servers/${ran.id}/poll`);
      assert.equal(polled.statusCode, 200, polled.body);
      assert.deepEqual(polled.json(), {
        fetched: 3,
        created: 2,
        commented: 1,
        skipped: 0,
        failed: 0,
      });
      const refused = await world.api('POST', `/api/v1/mail-servers/${unreachable.id}/poll`);
      assert.ok(refused.statusCode >= 500, refused.body);

      // Stored codes are catalog or mail session codes; one that carries markup stands in
      // for any text that reaches the column, to show that it is escaped.
      const states = createMailHandlerStateRepository(world.outlink.services.store.db);
      const now = new Date().toISOString();
      await states.save({
        mailServerId: hostile.id,
        status: 'failed',
        lastRunAt: now,
        lastSuccessAt: null,
        nextRunAt: now,
        lastError: HOSTILE_CODE,
        lastCounts: null,
        uidValidity: null,
        updatedAt: now,
      });
    });
    after(() => world?.close());

    it('shows a handler that never ran: on or off, no time, no counts, no error', async () => {
      const row = rowOf(await page(), 'Never ran');
      assert.match(part(row, 'mail-handler-state').tag, /data-status="never_run"/);
      assert.equal(part(row, 'mail-handler-state').text, '○ Not run yet');
      assert.equal(part(row, 'mail-handler-enabled').text, 'Off (paused)');
      assert.match(part(row, 'mail-handler-last-run').tag, /\shidden[\s>]/);
      assert.match(part(row, 'mail-handler-counts').tag, /\shidden[\s>]/);
      assert.equal(part(row, 'mail-handler-counts').text, '');
      assert.match(part(row, 'mail-handler-error').tag, /\shidden[\s>]/);
      assert.match(row, /data-testid="check-mail-server">Check mail now<span/);
    });

    it("shows a handler that ran: its time and the run's counts", async () => {
      const status = (await world.api('GET', `/api/v1/mail-servers/${ran.id}/handler`)).json() as {
        lastRunAt: string;
      };
      const row = rowOf(await page(), 'Ran');
      assert.equal(part(row, 'mail-handler-state').text, '✓ Idle');
      assert.equal(part(row, 'mail-handler-enabled').text, 'On');
      const lastRun = part(row, 'mail-handler-last-run');
      assert.doesNotMatch(lastRun.tag, /hidden/);
      assert.match(lastRun.text, /^Last run: \S/);
      assert.match(row, new RegExp(`<time datetime="${status.lastRunAt}" data-format="dateTime">`));
      assert.equal(
        part(row, 'mail-handler-counts').text,
        '2 created, 1 commented, 0 skipped, 0 failed',
      );
      assert.match(part(row, 'mail-handler-error').tag, /\shidden[\s>]/);

      const ja = rowOf(await page('ja'), 'Ran');
      assert.equal(part(ja, 'mail-handler-state').text, '✓ 待機中');
      assert.equal(part(ja, 'mail-handler-enabled').text, 'オン');
      assert.match(part(ja, 'mail-handler-last-run').text, /^前回の実行: \S/);
      assert.equal(
        part(ja, 'mail-handler-counts').text,
        '課題 2 件作成、コメント 1 件追加、スキップ 0 件、失敗 0 件',
      );
      assert.match(ja, /data-testid="check-mail-server">今すぐメールを確認<span/);
    });

    it('shows a failed run with the translated reason', async () => {
      const status = (
        await world.api('GET', `/api/v1/mail-servers/${unreachable.id}/handler`)
      ).json() as { status: string; lastError: { code: string; message: string } };
      assert.equal(status.status, 'failed');
      const row = rowOf(await page(), 'Unreachable');
      assert.equal(part(row, 'mail-handler-state').text, '✕ Failed');
      assert.match(part(row, 'mail-handler-last-run').text, /^Last run: \S/);
      // The run failed before it counted anything.
      assert.match(part(row, 'mail-handler-counts').tag, /\shidden[\s>]/);
      const error = part(row, 'mail-handler-error');
      assert.doesNotMatch(error.tag, /hidden/);
      assert.equal(
        error.text,
        translate('en', 'handler.lastError.other', { code: status.lastError.code }),
      );
      const ja = rowOf(await page('ja'), 'Unreachable');
      assert.equal(part(ja, 'mail-handler-state').text, '✕ 失敗');
      assert.equal(
        part(ja, 'mail-handler-error').text,
        translate('ja', 'handler.lastError.other', { code: status.lastError.code }),
      );
    });

    it('shows an error message that carries HTML as text', async () => {
      const body = await page();
      const row = rowOf(body, 'Hostile');
      assert.equal(part(row, 'mail-handler-state').text, '✕ Failed');
      assert.equal(
        part(row, 'mail-handler-error').text,
        'The last run failed (&lt;img src=x onerror=alert(1)&gt;). Run the connection test of this mail server to see which step fails.',
      );
      assert.doesNotMatch(body, /<img src=x/);
    });

    it('shows no handler and no "Check mail now" for an outgoing server', async () => {
      const row = rowOf(await page(), 'Outbox');
      assert.doesNotMatch(row, /mail-handler-status/);
      assert.doesNotMatch(row, /check-mail-server/);
      assert.match(
        row,
        /<td data-label="Mail handler" data-testid="mail-server-handler"><span class="muted" aria-hidden="true">—<\/span><span class="visually-hidden">Outgoing server: no mail handler<\/span><\/td>/,
      );
    });

    it("passes the client script the check's texts with %placeholders%, in each language", async () => {
      for (const [locale, checkNow, counts] of [
        ['en', 'Checking…', '%created% created, %commented% commented'],
        ['ja', '確認中…', '課題 %created% 件作成、コメント %commented% 件追加'],
      ] as const) {
        const body = await page(locale);
        const blob = /id="mail-server-strings" hidden data-strings="([^"]*)"/.exec(body)?.[1];
        assert.ok(blob);
        const strings = JSON.parse(blob.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Record<
          string,
          string
        >;
        assert.equal(strings.checking, checkNow);
        assert.ok(strings.counts?.startsWith(counts), strings.counts);
        assert.equal(strings['handlerIcon.failed'], '✕');
      }
    });
  });
}
