/**
 * Crash safety of the mail handler, with real processes: `outlink mail poll` and `outlink
 * worker` run as child processes on the world's database against real Dovecot, and are
 * SIGKILLed at random points while they handle a mailbox — before the first batch, while a
 * batch is fetched, between a message's commit and its mark, mid-transaction. Each next run
 * waits out the dead run's lease and goes on. At the end every message is accounted for
 * exactly once: the issues and comments the corpus expects, one ledger row per message, each
 * handled message marked seen and each failed one left unread.
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { databaseEnv, spawnCli } from '../cli/cli-harness.js';
import type { MailServerJson, OutlinkMailWorld } from '../mail/mail-servers-world.js';
import type { CorpusMessage } from './corpus.js';
import type { TestMailbox } from './mailbox.js';
import {
  MAILBOX_PREFIX,
  type MailboxWorld,
  SLOW_MAIL_TIMEOUTS,
  startMailboxWorld,
} from './mailbox-world.js';
import { assertCorpusOutcomes } from './outcomes.js';

const PREFIX = MAILBOX_PREFIX;
const RUNS = 20;
const LEASE_SECONDS = 2;
/** A deterministic random sequence, so that a failing run can be repeated. */
const SEED = 20261205;

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves when the child has exited (by itself or killed); its stderr so far. */
function exited(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode });
    else child.once('exit', (code) => resolve({ code }));
  });
}

describe('mail handler crash safety: SIGKILL at random points, then finish', () => {
  let world: OutlinkMailWorld;
  let mailbox: TestMailbox;
  let server: MailServerJson;
  let corpus: CorpusMessage[];
  let env: Record<string, string>;
  let setup: MailboxWorld | undefined;

  before(async () => {
    // Runs commit a batch of 50 at a time, so twenty kills inside runs need more than 1,000.
    setup = await startMailboxWorld({
      protocol: 'imap',
      account: 'alice',
      corpus: { count: 2000, seed: 3 },
      mailTimeouts: SLOW_MAIL_TIMEOUTS,
      // The worker polls again soon after a run that died.
      server: { pollIntervalSeconds: 60 },
    });
    ({ world, mailbox, corpus, server } = setup);
    const caFile = join(world.outlink.database.dataDir, 'test-ca.pem');
    writeFileSync(caFile, world.tls.caPem);
    env = databaseEnv(world.outlink.database, {
      NODE_EXTRA_CA_CERTS: caFile,
      OUTLINK_LEASE_SECONDS: String(LEASE_SECONDS),
      // The mail step timeouts of the child: a batch of 50 takes longer than the default
      // allows on a loaded test machine.
      OUTLINK_LOG_LEVEL: 'warn',
    });
  });
  after(async () => {
    await setup?.close();
  });

  const ledger = async () => {
    const rows = await world.outlink.services.store.db
      .selectFrom('mail_messages')
      .select(['settled_at'])
      .where('mail_server_id', '=', server.id)
      .execute();
    return { rows: rows.length, unsettled: rows.filter((r) => r.settled_at === null).length };
  };

  it(`survives ${RUNS} kills and then handles every message exactly once`, async (t) => {
    const next = random(SEED);
    const log: string[] = [];
    let killedMidway = 0;
    let killedBetweenCommitAndMark = 0;
    let previous = 0;
    for (let run = 0; run < RUNS; run++) {
      // Alternate the two processes that run the handler, the CLI's poll and the worker.
      // Every fourth run is killed a random time after it started (while it starts,
      // connects, lists or fetches); the others once this run's first batch is committed
      // (then a few milliseconds more): between the batch's commit and its mark, or inside
      // the next batch's transaction. Progress, not the clock, picks the moment, so a slow
      // or loaded machine kills at the same kinds of places.
      const worker = run % 2 === 1;
      const child = worker
        ? spawnCli(['worker'], env)
        : spawnCli(['mail', 'poll', server.name], env);
      child.stdin.end();
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const gone = exited(child);
      let finished = false;
      void gone.then(() => {
        finished = true;
      });
      const early = run % 4 === 0;
      // A batch commits its 50 messages at once: the first commit of the run is the target.
      const target = previous + 1;
      const extra = next() * 30;
      let when: string;
      if (early) {
        const delay = next() * 1_500;
        when = `${Math.round(delay)} ms after start`;
        await Promise.race([sleep(delay), gone]);
      } else {
        when = `at ${target} recorded (+${Math.round(extra)} ms)`;
        const deadline = Date.now() + 120_000;
        while (!finished && Date.now() < deadline && (await ledger()).rows < target) {
          await sleep(20);
        }
        await Promise.race([sleep(extra), gone]);
      }
      const outcome = finished ? 'exited' : 'kill';
      if (outcome === 'kill') child.kill('SIGKILL');
      const { code } = await gone;
      const now = await ledger();
      log.push(
        `run ${run} ${worker ? 'worker' : 'poll'} ${outcome} ${when} ` +
          `(exit ${code}): ledger ${previous} → ${now.rows}, unsettled ${now.unsettled}`,
      );
      if (outcome === 'exited' && !worker && code !== 0) {
        // Only a busy mailbox (the previous run's lease) may end a poll early.
        assert.match(stderr, /mail_handler_busy/, `run ${run}: ${stderr}`);
      }
      if (outcome === 'kill' && now.rows > previous && now.rows < corpus.length) killedMidway++;
      if (outcome === 'kill' && now.unsettled > 0) killedBetweenCommitAndMark++;
      previous = now.rows;
      // The dead run's lease runs out before the next run starts.
      await sleep(LEASE_SECONDS * 1_000 + 200);
    }
    t.diagnostic(log.join('\n'));
    // The kills really landed inside runs, and some between a commit and its mark.
    assert.ok(killedMidway >= RUNS / 2, `too few kills inside a run:\n${log.join('\n')}`);
    assert.ok(
      killedBetweenCommitAndMark >= 3,
      `no kill between commit and mark:\n${log.join('\n')}`,
    );
    assert.ok(previous < corpus.length, `the runs finished before the kills:\n${log.join('\n')}`);

    // A last run without a kill finishes the mailbox.
    const last = spawnCli(['mail', 'poll', server.name, '--json'], env);
    last.stdin.end();
    let stdout = '';
    last.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const { code } = await exited(last);
    assert.ok(code === 0 || code === 1, `the last run failed (${code}):\n${log.join('\n')}`);
    const counts = JSON.parse(stdout) as Record<string, number>;
    assert.equal(counts.fetched, corpus.length - previous, 'the last run fetched the rest');

    const db = world.outlink.services.store.db;
    const state = await db.selectFrom('mail_handler_state').selectAll().executeTakeFirstOrThrow();
    await assertCorpusOutcomes(
      db,
      server.id,
      corpus,
      PREFIX,
      (i) => `imap:INBOX:${state.uid_validity}:${i + 1}`,
    );
    assert.equal((await ledger()).unsettled, 0, 'every message marked after its commit');
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
});
