/**
 * Where messages are parsed: on the calling thread ({@link inlineParser}), or on a small pool
 * of worker threads ({@link createParsePool}) so that mailparser's work — most of a message's
 * CPU time — runs beside the fetching, deciding and committing on the main thread.
 *
 * Why it reads this way: a worker gets a copy of the message's bytes (transferred, never a
 * view into a shared pool) and answers plain data — a `ParsedMessage` minus its `header`
 * function, which `parsedFromData` rebuilds. Workers start when the first message comes,
 * are unreferenced while idle (an idle pool never keeps the process alive) and end after
 * `idleMs` without work. A worker that has been given `messagesPerWorker` messages takes no
 * more and ends when its last answer is in; a fresh one takes its place, so the memory a
 * long batch leaves in a worker's heap (mailparser's and iconv's buffers, fragmented) is
 * given back instead of growing with the mailbox. A worker that dies or answers an error
 * costs nothing but time: its messages are parsed again on the calling thread, which
 * throws as `parseMessage` would.
 * Under tsx (source runs and tests) the worker is the `.ts` file and registers tsx itself.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  type ParsedMessage,
  type ParsedMessageData,
  type ParseLimits,
  parsedFromData,
  parseMessage,
  UnparseableMessage,
} from './parse.js';

/** A message's content hash (SHA-256 of its bytes, hex) and its parse; null: unparseable. */
export interface ParseOutcome {
  readonly contentHash: string;
  readonly parsed: ParsedMessage | null;
}

export interface MessageParser {
  /** Rejects only on what is no property of the message (see `parseMessage`). */
  parse(raw: Buffer, limits: ParseLimits): Promise<ParseOutcome>;
}

export interface ParsePool extends MessageParser {
  /** Ends the workers; messages still being parsed are parsed on the calling thread. */
  close(): Promise<void>;
  /** Worker threads started so far (recycled ones count again). */
  stats(): ParsePoolStats;
}

/** What the pool sends a worker. */
export interface ParseTask {
  readonly id: number;
  readonly raw: Uint8Array;
  readonly limits: ParseLimits;
}

/** What a worker answers: the data, or unparseable, or an error to parse again here. */
export interface ParseReply {
  readonly id: number;
  readonly contentHash: string;
  readonly data?: ParsedMessageData;
  readonly unparseable?: true;
  readonly error?: string;
}

/** Parses on the calling thread. */
export const inlineParser: MessageParser = {
  async parse(raw, limits) {
    const contentHash = createHash('sha256').update(raw).digest('hex');
    try {
      return { contentHash, parsed: await parseMessage(raw, limits) };
    } catch (error) {
      if (!(error instanceof UnparseableMessage)) throw error;
      return { contentHash, parsed: null };
    }
  },
};

/** One thread per core but one (the main thread fetches and commits), at least one, at most 4. */
export function defaultParseThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

export interface ParsePoolOptions {
  /** Worker threads at most (default {@link defaultParseThreads}). */
  readonly threads?: number;
  /** A pool without work this long ends its workers (default 30 s). */
  readonly idleMs?: number;
  /**
   * A worker given this many messages is replaced by a fresh one (default 2,000). Each new
   * worker costs its start and its JIT warm-up (about a second of CPU under tsx): at 1,000 the
   * 10,000-message benchmark ran 22 % slower, at 4,000 its peak RSS was 1.20× that at 1,000
   * messages (without replacing, 1.28×); at 2,000, 1.15×.
   */
  readonly messagesPerWorker?: number;
  /** Told when a worker fails (it will not start, dies, or throws); the message is parsed here. */
  onError?(error: unknown): void;
}

interface Pending {
  readonly raw: Buffer;
  readonly limits: ParseLimits;
  resolve(outcome: ParseOutcome): void;
  reject(error: unknown): void;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  /** Messages given to this worker so far; at `messagesPerWorker` it retires. */
  given: number;
}

/** How many worker threads a pool has started; for tests of recycling. */
export interface ParsePoolStats {
  readonly started: number;
}

export function createParsePool(options: ParsePoolOptions = {}): ParsePool {
  const threads = Math.max(1, options.threads ?? defaultParseThreads());
  const idleMs = options.idleMs ?? 30_000;
  const messagesPerWorker = Math.max(1, options.messagesPerWorker ?? 2_000);
  const workers: PoolWorker[] = [];
  let started = 0;
  let nextId = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let closed = false;

  /** Parses on this thread what a worker could not (it died, or answered an error). */
  const again = (task: Pending) =>
    inlineParser.parse(task.raw, task.limits).then(task.resolve, task.reject);

  const start = (): PoolWorker => {
    const worker = startWorker();
    started++;
    const own: PoolWorker = { worker, pending: new Map(), given: 0 };
    worker.on('message', (reply: ParseReply) => {
      const task = own.pending.get(reply.id);
      if (!task) return;
      own.pending.delete(reply.id);
      settled(own);
      if (reply.error !== undefined) {
        options.onError?.(new Error(reply.error));
        void again(task);
      } else if (reply.unparseable || !reply.data)
        task.resolve({ contentHash: reply.contentHash, parsed: null });
      else
        task.resolve({
          contentHash: reply.contentHash,
          parsed: parsedFromData(withBuffers(reply.data)),
        });
    });
    // An uncaught error ends the worker; 'exit' follows and hands its messages back.
    worker.on('error', (error) => options.onError?.(error));
    worker.on('exit', () => {
      const at = workers.indexOf(own);
      if (at !== -1) workers.splice(at, 1);
      const orphans = [...own.pending.values()];
      own.pending.clear();
      for (const task of orphans) void again(task);
    });
    workers.push(own);
    return own;
  };

  /** A worker with nothing to do must not keep the process alive; a pool idle too long ends. */
  const settled = (own: PoolWorker) => {
    if (own.pending.size > 0) return;
    if (retired(own)) {
      // Out of the pool at once, so `pick` starts its successor; 'exit' finds it gone.
      workers.splice(workers.indexOf(own), 1);
      void own.worker.terminate();
    } else own.worker.unref();
    if (workers.some((w) => w.pending.size > 0)) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      for (const w of [...workers]) if (w.pending.size === 0) void w.worker.terminate();
    }, idleMs);
    idleTimer.unref();
  };

  const retired = (own: PoolWorker) => own.given >= messagesPerWorker;

  /** The least busy worker that takes work; a new one while the pool has room. */
  const pick = (): PoolWorker => {
    const least = workers.reduce<PoolWorker | undefined>(
      (best, w) => (!retired(w) && (!best || w.pending.size < best.pending.size) ? w : best),
      undefined,
    );
    if (least && (least.pending.size === 0 || workers.length >= threads)) return least;
    return start();
  };

  return {
    parse(raw, limits) {
      if (closed) return inlineParser.parse(raw, limits);
      clearTimeout(idleTimer);
      return new Promise<ParseOutcome>((resolve, reject) => {
        const own = pick();
        own.given++;
        const id = nextId++;
        own.pending.set(id, { raw, limits, resolve, reject });
        own.worker.ref();
        const bytes = new Uint8Array(raw);
        own.worker.postMessage({ id, raw: bytes, limits } satisfies ParseTask, [bytes.buffer]);
      });
    },
    async close() {
      closed = true;
      clearTimeout(idleTimer);
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
    stats: () => ({ started }),
  };
}

/** Attachment contents arrive as Uint8Array; the handler stores Buffers. */
function withBuffers(data: ParsedMessageData): ParsedMessageData {
  return {
    ...data,
    attachments: data.attachments.map((a) => ({
      ...a,
      content: Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength),
    })),
  };
}

/**
 * The worker's script beside this file: the compiled `.js` in `dist/`, or under tsx the `.ts`
 * source, whose thread registers tsx's loader first (a worker's loaders are its own, and
 * Node 20 does not apply an `--import`ed loader to a worker's entry file).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./parse-worker.js', import.meta.url), { execArgv: [] });
  }
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./parse-worker.ts', import.meta.url).href);
  return new Worker(
    `import(${tsx}).then(({ register }) => { register(); return import(${entry}); });`,
    { eval: true, execArgv: [] },
  );
}
