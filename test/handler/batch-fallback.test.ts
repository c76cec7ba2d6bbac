/**
 * The handler commits a batch of messages in one transaction; when the database refuses one
 * message's write, the batch is rolled back and done again one message per transaction, so
 * that message fails alone and every other message of its batch is made — against real
 * Dovecot, on SQLite and on PostgreSQL (where a refused statement aborts the whole
 * transaction). The refused message stays unread and unrecorded, and the next run makes it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import {
  type MailServerJson,
  type OutlinkMailWorld,
  startOutlinkMailWorld,
} from '../mail/mail-servers-world.js';
import type { TestDialect } from '../support/harness.js';
import { ALICE } from '../support/worlds.js';
import { openTestMailbox, type TestMailbox } from './mailbox.js';

/** Three batches of the handler's 50: the refused message is in the middle of the second. */
const COUNT = 120;
const REFUSED = 73;
/** Replies (by In-Reply-To) to a message of the same batch, before and after the refused one. */
const REPLIES = new Map([
  [60, 55],
  [80, 72],
]);

const subjectOf = (n: number) => `Batch case ${n}`;

function message(n: number): Buffer {
  const about = REPLIES.get(n);
  return Buffer.from(
    [
      // A sender of its own each: the flood throttle counts per sender.
      `From: Customer ${n} <customer-${n}@customer.test>`,
      `To: ${ALICE}`,
      `Subject: ${about ? `Re: ${subjectOf(about)}` : subjectOf(n)}`,
      `Message-ID: <batch-${n}@customer.test>`,
      ...(about ? [`In-Reply-To: <batch-${about}@customer.test>`] : []),
      'Date: Sat, 05 Dec 2026 09:00:00 +0000',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `About case ${n}.`,
      '',
    ].join('\r\n'),
  );
}

async function refuseCase(
  world: OutlinkMailWorld,
  dialect: TestDialect,
): Promise<() => Promise<void>> {
  const db = world.outlink.services.store.db;
  const summary = subjectOf(REFUSED);
  if (dialect === 'sqlite') {
    await sql`create trigger refuse_batch_case before insert on issues
      when new.summary = ${sql.lit(summary)}
      begin select raise(abort, 'refused by the test'); end`.execute(db);
    return async () => {
      await sql`drop trigger refuse_batch_case`.execute(db);
    };
  }
  await sql`create function refuse_batch_case() returns trigger language plpgsql as $$
    begin
      if new.summary = ${sql.lit(summary)} then raise exception 'refused by the test'; end if;
      return new;
    end $$`.execute(db);
  await sql`create trigger refuse_batch_case before insert on issues
    for each row execute function refuse_batch_case()`.execute(db);
  return async () => {
    await sql`drop trigger refuse_batch_case on issues`.execute(db);
    await sql`drop function refuse_batch_case()`.execute(db);
  };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`mail handler: one refused write in a batch transaction (${dialect})`, () => {
    let world: OutlinkMailWorld;
    let mailbox: TestMailbox;
    let server: MailServerJson;

    before(async () => {
      world = await startOutlinkMailWorld({
        dialect,
        mailTimeouts: { connectMs: 5_000, tlsMs: 5_000, greetingMs: 5_000, commandMs: 60_000 },
      });
      mailbox = await openTestMailbox(world, world.alice);
      await mailbox.append(Array.from({ length: COUNT }, (_, i) => message(i + 1)));
      server = await world.createServer({
        name: 'Batches',
        protocol: 'imap',
        host: '127.0.0.1',
        port: world.dovecot.ports.imaps!,
        security: 'tls',
        username: ALICE,
        authentication: { method: 'oauth2', connectionId: world.alice },
        handlerEnabled: true,
        issueKeyPrefix: 'BAT',
      });
    });
    after(async () => {
      await mailbox?.close();
      await world?.close();
    });

    it('fails that message alone; the rest of its batch is made, and the next run makes it', async () => {
      const db = world.outlink.services.store.db;
      const allow = await refuseCase(world, dialect);
      try {
        const first = await world.api('POST', `/api/v1/mail-servers/${server.id}/poll`);
        assert.equal(first.statusCode, 200, first.body);
        assert.deepEqual(first.json(), {
          fetched: COUNT,
          created: COUNT - REPLIES.size - 1,
          commented: REPLIES.size,
          skipped: 0,
          failed: 1,
        });
        const flags = await mailbox.flags();
        for (let uid = 1; uid <= COUNT; uid++) {
          assert.equal(flags.get(uid)?.has('\\Seen'), uid !== REFUSED, `message ${uid} seen`);
        }
        const rows = await db
          .selectFrom('mail_messages')
          .select('location')
          .where('mail_server_id', '=', server.id)
          .execute();
        assert.equal(rows.length, COUNT - 1, 'every message but the refused one is recorded');
        assert.ok(!rows.some((r) => r.location.endsWith(`:${REFUSED}`)));
      } finally {
        await allow();
      }
      // The replies of the refused message's batch thread to the issues made in that batch.
      for (const [reply, about] of REPLIES) {
        const comment = await db
          .selectFrom('comments')
          .innerJoin('issues', 'issues.id', 'comments.issue_id')
          .select(['issues.summary', 'comments.body'])
          .where('comments.message_id', '=', `batch-${reply}@customer.test`)
          .executeTakeFirstOrThrow();
        assert.equal(comment.summary, subjectOf(about));
        assert.equal(comment.body.trim(), `About case ${reply}.`);
      }

      const second = await world.api('POST', `/api/v1/mail-servers/${server.id}/poll`);
      assert.equal(second.statusCode, 200, second.body);
      assert.deepEqual(second.json(), {
        fetched: 1,
        created: 1,
        commented: 0,
        skipped: 0,
        failed: 0,
      });
      const summaries = (
        await db
          .selectFrom('issues')
          .select('summary')
          .where('mail_server_id', '=', server.id)
          .execute()
      ).map((r) => r.summary);
      const expected = Array.from({ length: COUNT }, (_, i) => i + 1)
        .filter((n) => !REPLIES.has(n))
        .map(subjectOf);
      assert.deepEqual(summaries.sort(), expected.sort());
      assert.equal(new Set(summaries).size, summaries.length, 'no issue made twice');
    });
  });
}
