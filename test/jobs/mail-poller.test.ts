/**
 * IMAP IDLE end to end: with the poll interval at an hour, a message appended to the mailbox
 * becomes an issue within seconds — only the poller's IDLE watcher can have seen it. Real
 * Dovecot, real provider tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Composition } from '../../src/main/compose.js';
import { openTestMailbox, type TestMailbox } from '../handler/mailbox.js';
import { type OutlinkMailWorld, startOutlinkMailWorld } from '../mail/mail-servers-world.js';
import { Dialects } from '../support/harness.js';
import { ALICE } from '../support/worlds.js';

/** Waits until `check` returns a value, looking every 100 ms, or fails after `ms`. */
async function waitFor<T>(
  what: string,
  ms: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function message(subject: string): Buffer {
  return Buffer.from(
    [
      'From: Reporter <reporter@example.net>',
      `To: ${ALICE}`,
      `Subject: ${subject}`,
      `Message-ID: <${subject.replace(/\W/g, '')}@example.net>`,
      'Date: Sat, 05 Dec 2026 07:00:00 +0000',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'The printer on floor 3 is out of toner.',
      '',
    ].join('\r\n'),
  );
}

for (const dialect of Dialects) {
  describe(`mail poller: IMAP IDLE on ${dialect}`, () => {
    let world: OutlinkMailWorld;
    let mailbox: TestMailbox;
    // What the watcher did, as its hooks tell it.
    let watching = 0;
    let idleRuns = 0;

    before(async () => {
      world = await startOutlinkMailWorld({
        dialect,
        mailPollerHooks: {
          onWatching: () => {
            watching++;
          },
          onIdleRun: () => {
            idleRuns++;
          },
        },
      });
      mailbox = await openTestMailbox(world, world.alice);
    });
    after(async () => {
      await mailbox?.close();
      await world?.close();
    });

    it('turns an appended message into an issue within 5 seconds, without a poll', async () => {
      const server = await world.createServer({
        name: 'Idle inbox',
        protocol: 'imap',
        host: '127.0.0.1',
        port: world.dovecot.ports.imaps!,
        security: 'tls',
        username: ALICE,
        authentication: { method: 'oauth2', connectionId: world.alice },
        handlerEnabled: true,
        pollIntervalSeconds: 3600,
      });
      const services = world.outlink.services as Composition;
      const db = services.store.db;
      const runs = async () =>
        (
          await db
            .selectFrom('mail_handler_state')
            .select('last_run_at')
            .where('mail_server_id', '=', server.id)
            .executeTakeFirst()
        )?.last_run_at ?? undefined;
      services.mailPoller.start();
      // The first tick runs the due mailbox; the watcher, once idling, runs it once more for
      // mail that came while it was away: two runs, then only IDLE can start another. (Told
      // by the watcher's hooks: the second run can end before a look at the table sees the
      // first.)
      await waitFor('the scheduled run', 20_000, runs);
      await waitFor('the watcher idling', 20_000, async () => (watching > 0 ? true : undefined));
      await waitFor('the watcher’s first run', 20_000, async () =>
        idleRuns > 0 ? true : undefined,
      );
      const runsBefore = idleRuns;
      const before = await db.selectFrom('issues').select('key').execute();
      assert.deepEqual(before, []);

      const appendedAt = Date.now();
      await mailbox.append([message('Toner empty on floor 3')]);
      const issue = await waitFor('the issue', 5_000, () =>
        db.selectFrom('issues').select(['key', 'summary']).executeTakeFirst(),
      );
      assert.deepEqual(issue, { key: 'MAIL-1', summary: 'Toner empty on floor 3' });
      assert.ok(Date.now() - appendedAt < 5_000);
      // Made by a run the watcher started (its hook fires as that run ends).
      await waitFor('the watcher’s run to end', 5_000, async () =>
        idleRuns > runsBefore ? true : undefined,
      );
      await services.mailPoller.stop();
    });
  });
}
