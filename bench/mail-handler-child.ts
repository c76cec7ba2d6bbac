/**
 * One side of the mail handler benchmark (bench/mail-handler.ts), in a process of its own so
 * that nothing of the parent (Dovecot's driver, the authorization server, the other side)
 * shares its event loop or heap. Reads one job as JSON on stdin, makes one warm-up pass over
 * the job's warm-up folder, then the measured pass, and answers one JSON line on stdout:
 * messages, milliseconds and the process's peak RSS. Logs go to stderr.
 *
 * Sides:
 * - `outlink`: composes Outlink on the benchmark's database and runs `mailHandler.poll` on the
 *   mail server whose folder holds the mailbox: connect, list, fetch, parse, decide, one
 *   transaction per message, mark seen.
 * - `fetch`: the baseline, a raw imapflow session with the same token and TLS that fetches
 *   every message of the folder (`1:*`, `BODY.PEEK[]`) and discards it.
 * - `parse`: the same fetch, plus mailparser's `simpleParser` on each message with the
 *   handler's options: the part of the gap between the two that parsing alone explains.
 */
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import { loadConfig } from '../src/config/config.js';
import type { Actor } from '../src/domain/actor.js';
import { PARSER_OPTIONS } from '../src/handler/parse.js';
import { compose } from '../src/main/compose.js';
import { createLogger } from '../src/main/log.js';
import type { HandlerCounts } from '../src/services/mail-handler.js';
import { createTrustingFetch } from '../test/peers/fetch.js';

/** What the parent asks of one child. */
export type ChildJob =
  | {
      readonly side: 'outlink';
      readonly dataDir: string;
      readonly databaseUrl: string;
      /** Trust for the authorization server (a token refresh, should one fall due). */
      readonly asCaPem: string;
      /** Trust for Dovecot's certificate. */
      readonly mailCaPem: string;
      readonly warmServerId: string;
      readonly serverId: string;
    }
  | {
      readonly side: 'fetch' | 'parse';
      readonly host: string;
      readonly port: number;
      readonly user: string;
      readonly accessToken: string;
      readonly mailCaPem: string;
      readonly warmFolder: string;
      readonly folder: string;
    };

/** What one child answers. */
export interface ChildReport {
  readonly side: ChildJob['side'];
  /** Messages handled (`outlink`: fetched, whatever became of them) or fetched. */
  readonly messages: number;
  readonly ms: number;
  /** CPU time of this process (user + system) during the measured pass. */
  readonly cpuMs: number;
  readonly bytes: number;
  /** `process.resourceUsage().maxRSS`, in kilobytes, at the end of the measured pass. */
  readonly maxRssKb: number;
  /**
   * The heap still in use after the measured pass and a full GC (the parent starts children
   * with `--expose-gc`), in kilobytes: what the run retained, apart from garbage not yet
   * collected, which peak RSS includes.
   */
  readonly liveHeapKb: number;
  readonly counts?: HandlerCounts;
}

const BENCH_ACTOR: Actor = { kind: 'cli' };

async function readJob(): Promise<ChildJob> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChildJob;
}

async function runOutlink(job: Extract<ChildJob, { side: 'outlink' }>): Promise<ChildReport> {
  const trusting = createTrustingFetch(job.asCaPem);
  const config = loadConfig({
    OUTLINK_DATA_DIR: job.dataDir,
    OUTLINK_DATABASE_URL: job.databaseUrl,
    OUTLINK_LOG_LEVEL: 'warn',
  });
  const services = await compose(config, {
    log: createLogger({ level: 'warn' }),
    fetch: trusting.fetch,
    mailTls: { ca: job.mailCaPem },
  });
  try {
    await services.mailHandler.poll(BENCH_ACTOR, job.warmServerId);
    const started = performance.now();
    const cpu = process.cpuUsage();
    const counts = await services.mailHandler.poll(BENCH_ACTOR, job.serverId);
    const ms = performance.now() - started;
    return {
      side: 'outlink',
      messages: counts.fetched,
      ms,
      cpuMs: cpuMsSince(cpu),
      bytes: 0,
      maxRssKb: process.resourceUsage().maxRSS,
      liveHeapKb: liveHeapKb(),
      counts,
    };
  } finally {
    await services.close();
    await trusting.close();
  }
}

/** One imapflow session over `folder`: every message's source, parsed or not. */
async function fetchAll(
  job: Extract<ChildJob, { side: 'fetch' | 'parse' }>,
  folder: string,
): Promise<{ messages: number; bytes: number }> {
  const client = new ImapFlow({
    host: job.host,
    port: job.port,
    secure: true,
    tls: { ca: job.mailCaPem, servername: 'localhost' },
    auth: { user: job.user, accessToken: job.accessToken },
    logger: false,
    disableAutoIdle: true,
    // A COPY or FETCH of 10,000 messages on a loaded machine can be quiet for minutes.
    socketTimeout: 30 * 60_000,
  });
  // A failure surfaces through the awaited command; an unheard 'error' event would end the
  // process instead.
  client.on('error', () => {});
  await client.connect();
  let messages = 0;
  let bytes = 0;
  try {
    await client.mailboxOpen(folder);
    for await (const message of client.fetch('1:*', { uid: true, source: true })) {
      if (!message.source) continue;
      messages++;
      bytes += message.source.length;
      if (job.side === 'parse') await simpleParser(message.source, PARSER_OPTIONS);
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return { messages, bytes };
}

async function runFetch(job: Extract<ChildJob, { side: 'fetch' | 'parse' }>): Promise<ChildReport> {
  await fetchAll(job, job.warmFolder);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { messages, bytes } = await fetchAll(job, job.folder);
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  const maxRssKb = process.resourceUsage().maxRSS;
  return { side: job.side, messages, ms, cpuMs, bytes, maxRssKb, liveHeapKb: liveHeapKb() };
}

function liveHeapKb(): number {
  globalThis.gc?.();
  return Math.round(process.memoryUsage().heapUsed / 1024);
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
}

const job = await readJob();
const report = job.side === 'outlink' ? await runOutlink(job) : await runFetch(job);
process.stdout.write(`${JSON.stringify(report)}\n`);
