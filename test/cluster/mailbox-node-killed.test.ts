import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAILBOX_PREFIX, type MailboxWorld, startMailboxWorld } from '../handler/mailbox-world.js';
import { assertCorpusOutcomes } from '../handler/outcomes.js';
import {
  type ClusterNode,
  createNodeLauncher,
  leaseHolder,
  type NodeLauncher,
} from './cluster-world.js';

/**
 * Issue 14: a node SIGKILLed while it polls a mailbox. Two node processes on one PostgreSQL
 * database, one IMAP mailbox in Dovecot with 300 messages and the mail handler on; the node
 * holding the mailbox's lease is killed once its first batches are committed. Another node
 * takes the mailbox over within `OUTLINK_LEASE_SECONDS` (+ a margin) and finishes it, and
 * every message is recorded exactly once — by its place in the mailbox and by its
 * Message-ID — as the issue, comment, skip or failure the corpus expects.
 */
const MESSAGES = 300;
const LEASE_SECONDS = 4;
/** A scheduler tick, the lease's take-over and a loaded machine. */
const MARGIN_MS = 3_000;

let setup: MailboxWorld | undefined;
let launcher: NodeLauncher | undefined;
after(async () => {
  try {
    await launcher?.close();
  } finally {
    await setup?.close();
  }
});

test('a node killed mid-poll: another takes the mailbox over, nothing lost or done twice', async (t) => {
  setup = await startMailboxWorld({
    dialect: 'postgres',
    protocol: 'imap',
    account: 'alice',
    corpus: { count: MESSAGES, seed: 14 },
    server: { pollIntervalSeconds: 30 },
  });
  const { world, server, corpus } = setup;
  const { db } = world.outlink.services.store;
  launcher = await createNodeLauncher(world.outlink.database, {
    OUTLINK_LEASE_SECONDS: String(LEASE_SECONDS),
    // Polling only (no IDLE sessions), looked at twice a second.
    OUTLINK_TEST_JOBS: JSON.stringify({ mailPoller: { intervalMs: 500, idle: false } }),
  });
  const nodes = await Promise.all([1, 2].map(() => launcher!.start()));

  const lease = `mail-handler:${server.id}`;
  const recorded = async () => {
    const rows = await db
      .selectFrom('mail_messages')
      .select('id')
      .where('mail_server_id', '=', server.id)
      .execute();
    return rows.length;
  };
  /** The lease's holder now: its owner id and the node process it names (by pid). */
  const holder = async () => {
    const held = await leaseHolder(db, lease);
    return held && { owner: held.owner, node: nodes.find((n) => n.pid === held.pid) };
  };

  // Kill the holder once its first batch of 50 is committed, while it fetches the next ones.
  let victim: { owner: string; node: ClusterNode | undefined } | undefined;
  let before = 0;
  const deadline = Date.now() + 120_000;
  while (!victim && Date.now() < deadline) {
    before = await recorded();
    if (before >= 50) victim = await holder();
    else await sleep(20);
  }
  assert.ok(victim?.node, `a node held the mailbox's lease with ${before} messages recorded`);
  assert.ok(before < MESSAGES, 'the poll was still running');
  await victim.node.stop('SIGKILL');
  const killedAt = Date.now();
  const atKill = await recorded();

  // Another node takes the lease over once it has run out, and goes on recording.
  let successor: Awaited<ReturnType<typeof holder>>;
  while (Date.now() - killedAt < 60_000) {
    successor = await holder();
    if (successor && successor.owner !== victim.owner) break;
    await sleep(100);
  }
  const takeoverMs = Date.now() - killedAt;
  assert.ok(successor?.node, 'a surviving node took the lease');
  assert.notEqual(successor.node, victim.node);
  assert.ok(
    takeoverMs <= LEASE_SECONDS * 1_000 + MARGIN_MS,
    `taken over after ${takeoverMs} ms (lease ${LEASE_SECONDS} s)`,
  );

  // It finishes the mailbox: every message recorded and settled (marked seen or left).
  const finished = async () => {
    const rows = await db
      .selectFrom('mail_messages')
      .select('settled_at')
      .where('mail_server_id', '=', server.id)
      .execute();
    const state = await db
      .selectFrom('mail_handler_state')
      .select('status')
      .where('mail_server_id', '=', server.id)
      .executeTakeFirst();
    return (
      rows.length === MESSAGES && rows.every((r) => r.settled_at) && state?.status !== 'running'
    );
  };
  const finishBy = Date.now() + 180_000;
  while (!(await finished()) && Date.now() < finishBy) await sleep(250);
  assert.ok(await finished(), `the mailbox was finished: ${await recorded()} recorded`);
  const finishedMs = Date.now() - killedAt;
  for (const node of nodes.filter((n) => n !== victim?.node)) await node.stop('SIGTERM');

  // Exactly once, by place: one ledger row per message, each the outcome the corpus expects,
  // and as many issues and comments as it expects in all.
  const state = await db
    .selectFrom('mail_handler_state')
    .select('uid_validity')
    .where('mail_server_id', '=', server.id)
    .executeTakeFirstOrThrow();
  await assertCorpusOutcomes(
    db,
    server.id,
    corpus,
    MAILBOX_PREFIX,
    (i) => `imap:INBOX:${state.uid_validity}:${i + 1}`,
  );
  // And by Message-ID: the ledger holds each message's id as often as the mailbox does.
  const ledgerIds = (
    await db
      .selectFrom('mail_messages')
      .select('message_id')
      .where('mail_server_id', '=', server.id)
      .execute()
  )
    .map((r) => r.message_id)
    .filter((id): id is string => id !== null)
    .sort();
  const mailboxIds = corpus
    .map((m) => m.messageId)
    .filter((id): id is string => id !== null)
    .sort();
  assert.deepEqual(ledgerIds, mailboxIds);
  t.diagnostic(
    `killed with ${atKill}/${MESSAGES} recorded; taken over after ${takeoverMs} ms ` +
      `(lease ${LEASE_SECONDS} s); finished ${finishedMs} ms after the kill`,
  );
});
