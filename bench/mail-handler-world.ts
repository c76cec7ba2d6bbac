/**
 * The peers of the mail handler benchmark and what it does to them between runs: one
 * Outlink mail world (oidc-provider, Outlink on SQLite, Dovecot with TLS), two source folders
 * appended once (the corpus, and a small warm-up corpus of its own), a fresh copy of them for
 * every child (IMAP COPY on the server: the handler marks what it handled, so no copy serves
 * twice), and the handler's tables emptied before every Outlink child.
 *
 * Why empty the tables rather than a new database per run: the connection's tokens, the master
 * key and the two mail servers stay as they are (a new database would need a new
 * authorization, or a copied file whose refresh token the first run rotates away), and every
 * Outlink run starts from the same rows — none of the handler's. VACUUM afterwards gives the
 * file back its pages, so a later run does not write into a file an earlier one grew.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { sql } from 'kysely';
import type { HandlerCounts } from '../src/services/mail-handler.js';
import { buildCorpus, type CorpusMessage } from '../test/handler/corpus.js';
import { MAILBOX_MAX_MESSAGE_BYTES, startMailboxWorld } from '../test/handler/mailbox-world.js';
import type { OutlinkMailWorld } from '../test/mail/mail-servers-world.js';
import { ALICE } from '../test/support/worlds.js';
import type { ChildJob, ChildReport } from './mail-handler-child.js';

const CHILD = fileURLToPath(new URL('./mail-handler-child.ts', import.meta.url));
const SOURCE = 'bench-source';
const WARM_SOURCE = 'bench-warm-source';
const WARM_PREFIX = 'WARM';
const MAX_MESSAGE_BYTES = MAILBOX_MAX_MESSAGE_BYTES;

/** What a run measures: Outlink's handler, the raw fetch, or the fetch with mailparser. */
export type Side = ChildJob['side'];

export interface BenchMailbox {
  /** How many messages the source folder holds. */
  readonly messages: number;
  readonly warmMessages: number;
  /** How the corpus's first `n` messages must come out (a wrong handler is not fast). */
  expectedCounts(n: number): HandlerCounts;
  /**
   * One child of `side` over a fresh copy of the first `n` source messages (after a warm-up
   * pass over a fresh copy of the warm-up folder). `nodeOptions` go before the script
   * (e.g. `--cpu-prof`).
   */
  run(side: Side, n: number, nodeOptions?: readonly string[]): Promise<ChildReport>;
  close(): Promise<void>;
}

/** Starts the world and fills the source folders: `messages` corpus messages, `warm` others. */
export async function openBenchMailbox(options: {
  messages: number;
  warm: number;
  log(line: string): void;
}): Promise<BenchMailbox> {
  const started = performance.now();
  // The corpus goes into a folder of its own below, not the INBOX.
  const setup = await startMailboxWorld({
    protocol: 'imap',
    account: 'alice',
    corpus: { count: options.messages, seed: 1 },
    append: false,
    server: { name: 'Bench', processedAction: 'seen' },
  });
  const { world, corpus } = setup;
  try {
    const warm = buildCorpus({
      count: options.warm,
      seed: 2,
      mailbox: ALICE,
      prefix: WARM_PREFIX,
      maxMessageBytes: MAX_MESSAGE_BYTES,
    });
    await withAdmin(world, async (client) => {
      for (const [folder, messages] of [
        [SOURCE, corpus],
        [WARM_SOURCE, warm],
      ] as const) {
        await client.mailboxCreate(folder);
        // One by one, in order: UIDs follow the corpus's order, replies after what they answer.
        for (const m of messages) await client.append(folder, m.raw);
      }
    });
    options.log(
      `mail handler bench: ${corpus.length} + ${warm.length} messages built and appended in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    const server = setup.server.id;
    const warmServer = await createBenchServer(world, 'Bench warm-up', WARM_PREFIX);
    let sequence = 0;

    return {
      messages: corpus.length,
      warmMessages: warm.length,
      expectedCounts: (n) => expectedCounts(corpus.slice(0, n)),
      async run(side, n, nodeOptions = []) {
        sequence++;
        const folder = `bench-run-${sequence}`;
        const warmFolder = `bench-warm-${sequence}`;
        await withAdmin(world, async (client) => {
          await copyFolder(client, SOURCE, folder, n);
          await copyFolder(client, WARM_SOURCE, warmFolder, warm.length);
        });
        try {
          if (side === 'outlink') {
            await emptyHandlerTables(world);
            await setFolder(world, server, folder);
            await setFolder(world, warmServer, warmFolder);
          }
          return await runChild(
            await jobFor(world, side, { server, warmServer, folder, warmFolder }),
            nodeOptions,
          );
        } finally {
          await withAdmin(world, async (client) => {
            await client.mailboxDelete(folder);
            await client.mailboxDelete(warmFolder);
          });
        }
      },
      close: () => setup.close(),
    };
  } catch (error) {
    await setup.close();
    throw error;
  }
}

async function createBenchServer(world: OutlinkMailWorld, name: string, prefix: string) {
  const created = await world.createServer({
    name,
    protocol: 'imap',
    host: '127.0.0.1',
    port: world.dovecot.ports.imaps!,
    security: 'tls',
    username: ALICE,
    authentication: { method: 'oauth2', connectionId: world.alice },
    handlerEnabled: true,
    issueKeyPrefix: prefix,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    processedAction: 'seen',
  });
  return created.id;
}

async function setFolder(world: OutlinkMailWorld, id: string, folder: string): Promise<void> {
  const res = await world.api('PATCH', `/api/v1/mail-servers/${id}`, { folder });
  assert.equal(res.statusCode, 200, res.body);
}

async function jobFor(
  world: OutlinkMailWorld,
  side: Side,
  where: { server: string; warmServer: string; folder: string; warmFolder: string },
): Promise<ChildJob> {
  const { database } = world.outlink;
  if (side === 'outlink') {
    return {
      side,
      dataDir: database.dataDir,
      databaseUrl: database.url,
      asCaPem: world.as.caPem,
      mailCaPem: world.tls.caPem,
      serverId: where.server,
      warmServerId: where.warmServer,
    };
  }
  // The token Outlink holds for the connection, fresh (refreshed here if it fell due), so both
  // sides log in alike: XOAUTH2/OAUTHBEARER with a token Dovecot introspects at the provider.
  const { accessToken } = await world.outlink.services.tokens.getAccessToken(world.alice);
  return {
    side,
    host: '127.0.0.1',
    port: world.dovecot.ports.imaps!,
    user: ALICE,
    accessToken,
    mailCaPem: world.tls.caPem,
    folder: where.folder,
    warmFolder: where.warmFolder,
  };
}

/** Spawns `node --import tsx` on the child script, hands it the job, reads its one line. */
function runChild(job: ChildJob, nodeOptions: readonly string[]): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', ...nodeOptions, '--import', 'tsx', CHILD],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const line = stdout.trim().split('\n').pop();
      if (code !== 0 || !line) {
        reject(new Error(`${job.side} child ended with ${code ?? signal}: ${stderr.slice(-4000)}`));
        return;
      }
      resolve(JSON.parse(line) as ChildReport);
    });
    child.stdin.end(JSON.stringify(job));
  });
}

/** A short admin session as ALICE over implicit TLS (the bench's own, not a measured one). */
async function withAdmin(
  world: OutlinkMailWorld,
  work: (client: ImapFlow) => Promise<void>,
): Promise<void> {
  const { accessToken } = await world.outlink.services.tokens.getAccessToken(world.alice);
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: world.dovecot.ports.imaps!,
    secure: true,
    tls: { ca: world.tls.caPem, servername: 'localhost' },
    auth: { user: ALICE, accessToken },
    logger: false,
    disableAutoIdle: true,
    // A COPY or FETCH of 10,000 messages on a loaded machine can be quiet for minutes.
    socketTimeout: 30 * 60_000,
  });
  // A failure surfaces through the awaited command; an unheard 'error' event would end the
  // process instead.
  client.on('error', () => {});
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** COPY of the first `n` messages of `from` into a new folder `to`, on the server. */
async function copyFolder(client: ImapFlow, from: string, to: string, n: number): Promise<void> {
  await client.mailboxCreate(to);
  const lock = await client.getMailboxLock(from);
  try {
    const copied = await client.messageCopy(`1:${n}`, to);
    assert.ok(copied, `COPY ${from} → ${to} failed`);
  } finally {
    lock.release();
  }
}

/** Deletes every row the handler writes, so the next Outlink run starts as the first did. */
async function emptyHandlerTables(world: OutlinkMailWorld): Promise<void> {
  const { db } = world.outlink.services.store;
  for (const table of [
    'attachments',
    'comments',
    'thread_messages',
    'mail_outbox',
    'issues',
    'issue_counters',
    'mail_messages',
    'mail_handler_state',
  ] as const) {
    await db.deleteFrom(table).execute();
  }
  await db.deleteFrom('events').where('type', 'in', ['issue.created', 'comment.created']).execute();
  await db.deleteFrom('leases').where('name', 'like', 'mail-handler:%').execute();
  await sql`vacuum`.execute(db);
}

function expectedCounts(corpus: readonly CorpusMessage[]): HandlerCounts {
  const counts = { fetched: corpus.length, created: 0, commented: 0, skipped: 0, failed: 0 };
  for (const m of corpus) {
    if (m.expect.kind === 'issue') counts.created++;
    else if (m.expect.kind === 'comment') counts.commented++;
    else if (m.expect.kind === 'failed') counts.failed++;
    else counts.skipped++;
  }
  return counts;
}
