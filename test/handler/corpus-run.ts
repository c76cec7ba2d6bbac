/**
 * The mail handler end to end, against real Dovecot validating the tokens of the real test
 * provider: a mailbox of 1,000 mixed messages (test/handler/corpus.ts) becomes exactly the
 * expected issues and comments, each asserted; what was handled is marked seen (failures stay
 * unread); a second run handles nothing again. On SQLite and PostgreSQL
 * (handler-sqlite.test.ts, handler-postgres.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type MailServerJson,
  type OutlinkMailWorld,
  startOutlinkMailWorld,
} from '../mail/mail-servers-world.js';
import type { TestDialect } from '../support/harness.js';
import { ALICE } from '../support/worlds.js';
import { buildCorpus, type CorpusMessage } from './corpus.js';
import { openTestMailbox, type TestMailbox } from './mailbox.js';
import { assertCorpusOutcomes } from './outcomes.js';

const PREFIX = 'MAIL';
const MAX_MESSAGE_BYTES = 200_000;

/** The corpus test on one dialect (one file per dialect keeps each file well within the timeout). */
export function corpusSuite(dialect: TestDialect): void {
  describe(`mail handler on a 1,000-message mailbox (${dialect})`, () => {
    let world: OutlinkMailWorld;
    let mailbox: TestMailbox;
    let server: MailServerJson;
    let corpus: CorpusMessage[];

    before(async () => {
      // A thousand messages take longer per command than the 5 s the failure tests allow.
      world = await startOutlinkMailWorld({
        dialect,
        mailTimeouts: { connectMs: 5_000, tlsMs: 5_000, greetingMs: 5_000, commandMs: 60_000 },
      });
      mailbox = await openTestMailbox(world, world.alice);
      corpus = buildCorpus({
        count: 1000,
        seed: dialect === 'sqlite' ? 1 : 2,
        mailbox: ALICE,
        prefix: PREFIX,
        maxMessageBytes: MAX_MESSAGE_BYTES,
      });
      await mailbox.append(corpus.map((m) => m.raw));
      server = await world.createServer({
        name: 'Support',
        protocol: 'imap',
        host: '127.0.0.1',
        port: world.dovecot.ports.imaps!,
        security: 'tls',
        username: ALICE,
        authentication: { method: 'oauth2', connectionId: world.alice },
        handlerEnabled: true,
        issueKeyPrefix: PREFIX,
        maxMessageBytes: MAX_MESSAGE_BYTES,
      });
    });
    after(async () => {
      await mailbox?.close();
      await world?.close();
    });

    it('makes exactly the expected issues and comments, and marks only what it handled', async () => {
      const res = await world.api('POST', `/api/v1/mail-servers/${server.id}/poll`);
      assert.equal(res.statusCode, 200, res.body);
      const counts = res.json() as Record<string, number>;
      const expected = { fetched: corpus.length, created: 0, commented: 0, skipped: 0, failed: 0 };
      for (const m of corpus) {
        if (m.expect.kind === 'issue') expected.created++;
        else if (m.expect.kind === 'comment') expected.commented++;
        else if (m.expect.kind === 'failed') expected.failed++;
        else expected.skipped++;
      }
      assert.deepEqual(counts, expected);

      const db = world.outlink.services.store.db;
      const state = await db.selectFrom('mail_handler_state').selectAll().executeTakeFirstOrThrow();
      const uidValidity = state.uid_validity;
      await assertCorpusOutcomes(
        db,
        server.id,
        corpus,
        PREFIX,
        (i) => `imap:INBOX:${uidValidity}:${i + 1}`,
      );

      const flags = await mailbox.flags();
      for (const m of corpus) {
        const seen = flags.get(m.index + 1)?.has('\\Seen');
        assert.equal(
          seen,
          m.expect.kind !== 'failed',
          `message ${m.index} (${m.label}) seen=${seen}`,
        );
      }
    });

    it('handles nothing twice: a second run fetches nothing new', async () => {
      const res = await world.api('POST', `/api/v1/mail-servers/${server.id}/poll`);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { fetched: 0, created: 0, commented: 0, skipped: 0, failed: 0 });
      const status = await world.api('GET', `/api/v1/mail-servers/${server.id}/handler`);
      assert.equal(status.statusCode, 200, status.body);
      const body = status.json() as { status: string; lastCounts: unknown; enabled: boolean };
      assert.equal(body.status, 'idle');
      assert.equal(body.enabled, true);
      assert.deepEqual(body.lastCounts, {
        fetched: 0,
        created: 0,
        commented: 0,
        skipped: 0,
        failed: 0,
      });
    });
  });
}
