/**
 * The mail handler under faults, against real Dovecot: the IMAP connection dropped in the
 * middle of a FETCH and the POP3 connection in the middle of a RETR (a TCP proxy in front of
 * Dovecot cuts them), the database refusing one write in the middle of a batch, the folder's
 * UIDVALIDITY changing, and a connection that needs re-authorization. Each time nothing is
 * lost and nothing is handled twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import {
  type MailServerJson,
  type OutlinkMailWorld,
  startOutlinkMailWorld,
} from '../mail/mail-servers-world.js';
import type { TcpProxy } from '../peers/tcp-proxy.js';
import { ALICE, authorizeAccount, expireToken } from '../support/worlds.js';
import type { CorpusMessage } from './corpus.js';
import { openTestMailbox, type TestMailbox } from './mailbox.js';
import {
  MAILBOX_MAX_MESSAGE_BYTES,
  MAILBOX_PREFIX,
  type MailboxWorld,
  SLOW_MAIL_TIMEOUTS,
  startMailboxWorld,
} from './mailbox-world.js';
import { assertCorpusOutcomes } from './outcomes.js';

const PREFIX = MAILBOX_PREFIX;
const MAX_MESSAGE_BYTES = MAILBOX_MAX_MESSAGE_BYTES;

type Counts = {
  fetched: number;
  created: number;
  commented: number;
  skipped: number;
  failed: number;
};

/** What the corpus expects a complete run to count. */
function expectedCounts(corpus: readonly CorpusMessage[]): Counts {
  const counts = { fetched: corpus.length, created: 0, commented: 0, skipped: 0, failed: 0 };
  for (const m of corpus) {
    if (m.expect.kind === 'issue') counts.created++;
    else if (m.expect.kind === 'comment') counts.commented++;
    else if (m.expect.kind === 'failed') counts.failed++;
    else counts.skipped++;
  }
  return counts;
}

/** Bytes the peer sends before the cut: the first `messages` messages that are fetched whole. */
function bytesOf(corpus: readonly CorpusMessage[], messages: number): number {
  return corpus
    .slice(0, messages)
    .filter((m) => m.raw.length <= MAX_MESSAGE_BYTES)
    .reduce((sum, m) => sum + m.raw.length, 0);
}

async function ledgerRows(world: OutlinkMailWorld, serverId: string) {
  return world.outlink.services.store.db
    .selectFrom('mail_messages')
    .select(['location', 'outcome', 'reason', 'issue_id', 'settled_at'])
    .where('mail_server_id', '=', serverId)
    .execute();
}

async function poll(world: OutlinkMailWorld, serverId: string) {
  return world.api('POST', `/api/v1/mail-servers/${serverId}/poll`);
}

async function handlerStatus(world: OutlinkMailWorld, serverId: string) {
  const res = await world.api('GET', `/api/v1/mail-servers/${serverId}/handler`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as { status: string; lastError: { code: string; message: string } | null };
}

describe('mail handler: the IMAP connection dropped in the middle of a FETCH', () => {
  let world: OutlinkMailWorld;
  let proxy: TcpProxy;
  let mailbox: TestMailbox;
  let corpus: CorpusMessage[];
  let server: MailServerJson;
  let setup: MailboxWorld | undefined;

  before(async () => {
    setup = await startMailboxWorld({
      protocol: 'imap',
      account: 'alice',
      corpus: { count: 200, seed: 4 },
      proxied: true,
      mailTimeouts: SLOW_MAIL_TIMEOUTS,
      server: { name: 'Support via proxy' },
    });
    ({ world, mailbox, corpus, server } = setup);
    proxy = setup.proxy!;
  });
  after(async () => {
    await setup?.close();
  });

  it('keeps what was committed, loses nothing, and the next run finishes without duplicates', async () => {
    // Cut inside the second batch of 50: the first is committed and marked by then.
    proxy.cutAfter(bytesOf(corpus, 75));
    const cut = await poll(world, server.id);
    assert.equal(proxy.cuts, 1, 'the proxy cut the connection');
    assert.notEqual(cut.statusCode, 200, `a cut run is not a success: ${cut.body}`);
    assert.equal((await handlerStatus(world, server.id)).status, 'failed');
    const partial = await ledgerRows(world, server.id);
    assert.ok(
      partial.length >= 50 && partial.length < corpus.length,
      `the cut came mid-run: ${partial.length} of ${corpus.length} recorded`,
    );
    const seen = [...(await mailbox.flags()).values()].filter((f) => f.has('\\Seen')).length;
    assert.ok(seen <= partial.length, 'nothing is marked that was not recorded');

    proxy.cutAfter(null);
    const rest = await poll(world, server.id);
    assert.equal(rest.statusCode, 200, rest.body);
    assert.equal((rest.json() as Counts).fetched, corpus.length - partial.length);

    const state = await world.outlink.services.store.db
      .selectFrom('mail_handler_state')
      .selectAll()
      .executeTakeFirstOrThrow();
    await assertCorpusOutcomes(
      world.outlink.services.store.db,
      server.id,
      corpus,
      PREFIX,
      (i) => `imap:INBOX:${state.uid_validity}:${i + 1}`,
    );
    const flags = await mailbox.flags();
    for (const m of corpus) {
      assert.equal(
        flags.get(m.index + 1)?.has('\\Seen'),
        m.expect.kind !== 'failed',
        `message ${m.index} (${m.label})`,
      );
    }
  });
});

describe('mail handler: POP3, the connection dropped in the middle of a RETR, UIDL idempotence', () => {
  let world: OutlinkMailWorld;
  let proxy: TcpProxy;
  let mailbox: TestMailbox;
  let corpus: CorpusMessage[];
  let server: MailServerJson;
  let setup: MailboxWorld | undefined;

  before(async () => {
    setup = await startMailboxWorld({
      protocol: 'pop3',
      account: 'bob',
      corpus: { count: 200, seed: 5 },
      proxied: true,
      mailTimeouts: SLOW_MAIL_TIMEOUTS,
      server: { name: 'Support POP3', processedAction: 'delete' },
    });
    ({ world, mailbox, corpus, server } = setup);
    proxy = setup.proxy!;
  });
  after(async () => {
    await setup?.close();
  });

  it('handles each message once by its UIDL and deletes it only after its commit', async () => {
    const uidValidity = await mailbox.uidValidity('INBOX');
    // Dovecot's default pop3_uidl_format, %08Xu%08Xv: the UID and the UIDVALIDITY in hex (Dovecot writes it lower-case).
    const hex = (n: number) => n.toString(16).padStart(8, '0');
    const locationOf = (i: number) => `pop3:${hex(i + 1)}${hex(uidValidity)}`;

    proxy.cutAfter(bytesOf(corpus, 75));
    const cut = await poll(world, server.id);
    assert.equal(proxy.cuts, 1, 'the proxy cut the connection');
    assert.notEqual(cut.statusCode, 200, `a cut run is not a success: ${cut.body}`);
    const partial = await ledgerRows(world, server.id);
    assert.ok(
      partial.length >= 50 && partial.length < corpus.length,
      `the cut came mid-run: ${partial.length} of ${corpus.length} recorded`,
    );
    // POP3 deletes at QUIT (RFC 1939 §6): a cut session deleted nothing.
    assert.equal(await mailbox.count('INBOX'), corpus.length, 'nothing deleted by a cut session');

    proxy.cutAfter(null);
    const rest = await poll(world, server.id);
    assert.equal(rest.statusCode, 200, rest.body);
    assert.equal(
      (rest.json() as Counts).fetched,
      corpus.length - partial.length,
      'messages recorded before the cut are not fetched again, only deleted',
    );
    const locations = (await ledgerRows(world, server.id)).map((r) => r.location).sort();
    assert.deepEqual(locations, corpus.map((m) => locationOf(m.index)).sort(), 'one row per UIDL');
    await assertCorpusOutcomes(
      world.outlink.services.store.db,
      server.id,
      corpus,
      PREFIX,
      locationOf,
    );
    const expected = expectedCounts(corpus);
    assert.equal(
      await mailbox.count('INBOX'),
      expected.failed,
      'every handled message deleted, every failed one kept',
    );

    const again = await poll(world, server.id);
    assert.equal(again.statusCode, 200, again.body);
    assert.deepEqual(again.json(), { fetched: 0, created: 0, commented: 0, skipped: 0, failed: 0 });
  });
});

describe('mail handler: a refused write, a UIDVALIDITY change, re-authorization', () => {
  let world: OutlinkMailWorld;
  let mailbox: TestMailbox;

  before(async () => {
    world = await startOutlinkMailWorld();
    mailbox = await openTestMailbox(world, world.alice);
  });
  after(async () => {
    await mailbox?.close();
    await world?.close();
  });

  const message = (subject: string, id: string) =>
    Buffer.from(
      [
        'From: Dana Customer <dana@customer.test>',
        `To: ${ALICE}`,
        `Subject: ${subject}`,
        `Message-ID: <${id}@customer.test>`,
        'Date: Sat, 05 Dec 2026 09:00:00 +0000',
        'Content-Type: text/plain; charset=utf-8',
        '',
        `About ${subject}.`,
        '',
      ].join('\r\n'),
    );

  const imapServer = (name: string, folder: string, prefix: string) =>
    world.createServer({
      name,
      protocol: 'imap',
      host: '127.0.0.1',
      port: world.dovecot.ports.imaps!,
      security: 'tls',
      username: ALICE,
      authentication: { method: 'oauth2', connectionId: world.alice },
      folder,
      handlerEnabled: true,
      issueKeyPrefix: prefix,
    });

  const summaries = async (serverId: string) =>
    (
      await world.outlink.services.store.db
        .selectFrom('issues')
        .select('summary')
        .where('mail_server_id', '=', serverId)
        .execute()
    )
      .map((r) => r.summary)
      .sort();

  it('a write the database refuses mid-batch fails that message alone, which the next run makes', async () => {
    await mailbox.createFolder('Refused');
    const subjects = Array.from({ length: 10 }, (_, i) => `Refused case ${i + 1}`);
    await mailbox.append(
      subjects.map((s, i) => message(s, `refused-${i}`)),
      'Refused',
    );
    const server = await imapServer('Refused writes', 'Refused', 'REF');
    const db = world.outlink.services.store.db;
    await sql`create trigger refuse_case_5 before insert on issues
      when new.summary = 'Refused case 5'
      begin select raise(abort, 'refused by the test'); end`.execute(db);
    try {
      const first = await poll(world, server.id);
      assert.equal(first.statusCode, 200, first.body);
      assert.deepEqual(first.json(), {
        fetched: 10,
        created: 9,
        commented: 0,
        skipped: 0,
        failed: 1,
      });
      const flags = await mailbox.flags('Refused');
      for (let uid = 1; uid <= 10; uid++) {
        assert.equal(flags.get(uid)?.has('\\Seen'), uid !== 5, `message ${uid} seen`);
      }
      const rows = await ledgerRows(world, server.id);
      assert.equal(rows.length, 9, 'the refused message is not recorded');
      assert.equal((await handlerStatus(world, server.id)).status, 'failed');
    } finally {
      await sql`drop trigger refuse_case_5`.execute(db);
    }
    const second = await poll(world, server.id);
    assert.equal(second.statusCode, 200, second.body);
    assert.deepEqual(second.json(), {
      fetched: 1,
      created: 1,
      commented: 0,
      skipped: 0,
      failed: 0,
    });
    assert.deepEqual(await summaries(server.id), [...subjects].sort());
    assert.equal((await handlerStatus(world, server.id)).status, 'idle');
  });

  it('a UIDVALIDITY change re-reads the folder without making anything twice', async () => {
    await mailbox.createFolder('Renewed');
    const subjects = ['Renewed one', 'Renewed two', 'Renewed three'];
    const messages = subjects.map((s, i) => message(s, `renewed-${i}`));
    // One message without a Message-ID: the content hash recognises it.
    messages.push(
      Buffer.from(
        message('Renewed four', 'x')
          .toString()
          .replace(/^Message-ID.*\r\n/m, ''),
      ),
    );
    await mailbox.append(messages, 'Renewed');
    const server = await imapServer('Renewed folder', 'Renewed', 'REN');
    const first = await poll(world, server.id);
    assert.deepEqual(first.json(), { fetched: 4, created: 4, commented: 0, skipped: 0, failed: 0 });
    const before = await world.outlink.services.store.db
      .selectFrom('mail_handler_state')
      .select('uid_validity')
      .where('mail_server_id', '=', server.id)
      .executeTakeFirstOrThrow();

    // The folder is deleted and made again (a restore, a migration of the mail store): the
    // same messages, unread, under a new UIDVALIDITY, and one new message.
    await mailbox.deleteFolder('Renewed');
    await sleep(1_100);
    await mailbox.createFolder('Renewed');
    await mailbox.append([...messages, message('Renewed five', 'renewed-5')], 'Renewed');
    assert.notEqual(await mailbox.uidValidity('Renewed'), Number(before.uid_validity));

    const second = await poll(world, server.id);
    assert.equal(second.statusCode, 200, second.body);
    assert.deepEqual(second.json(), {
      fetched: 5,
      created: 1,
      commented: 0,
      skipped: 4,
      failed: 0,
    });
    assert.deepEqual(
      await summaries(server.id),
      [...subjects, 'Renewed four', 'Renewed five'].sort(),
    );
    const rows = await ledgerRows(world, server.id);
    assert.equal(rows.filter((r) => r.outcome === 'duplicate').length, 4);
    const flags = await mailbox.flags('Renewed');
    assert.equal([...flags.values()].filter((f) => f.has('\\Seen')).length, 5, 'all marked');
  });

  it('waits while the connection needs re-authorization and resumes by itself after it', async () => {
    await mailbox.createFolder('Waiting');
    await mailbox.append([message('Waiting case', 'waiting-1')], 'Waiting');
    const server = await imapServer('Waiting mailbox', 'Waiting', 'WAIT');
    // The provider revokes the grant: the refresh token and the access token with it.
    await world.revoke(world.alice, 'refresh_token');
    const db = world.outlink.services.store.db;
    await expireToken(db, world.alice, world.outlink.services.clock);

    const refused = await poll(world, server.id);
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(
      (refused.json() as { error: { code: string } }).error.code,
      'reauthorization_required',
      refused.body,
    );
    const waiting = await handlerStatus(world, server.id);
    assert.equal(waiting.status, 'waiting_reauthorization');
    assert.equal(waiting.lastError?.code, 'reauthorization_required');
    assert.equal((await ledgerRows(world, server.id)).length, 0);

    // The scheduler's pass finds nothing to do while the connection still waits…
    await world.outlink.services.mailHandler.runDue();
    assert.equal((await handlerStatus(world, server.id)).status, 'waiting_reauthorization');

    // …and runs the mailbox on its next pass once an administrator authorized the account
    // again, without waiting for the poll interval.
    await authorizeAccount(world.outlink, world, world.linkId, ALICE);
    await world.outlink.services.mailHandler.runDue();
    const resumed = await handlerStatus(world, server.id);
    assert.equal(resumed.status, 'idle', JSON.stringify(resumed));
    assert.deepEqual(await summaries(server.id), ['Waiting case']);
  });
});
