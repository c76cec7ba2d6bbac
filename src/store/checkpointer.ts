import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Issue 12: SQLite's WAL checkpoints, run on a thread of their own. By default the connection
 * whose commit crosses 1,000 WAL pages copies them into the database file and syncs it, inside
 * that commit, on the event loop: while the scheduler refreshed, one commit in a hundred took
 * 2–20 ms that way (more than half of all commit time), and every request waited meanwhile.
 * Here a second connection, on a worker thread, checkpoints the WAL every `intervalMs` in
 * PASSIVE mode (never waiting for a reader or the writer); the process's own connection only
 * checkpoints as a backstop, past `BACKSTOP_PAGES`, should this thread fall behind or die.
 */
export interface Checkpointer {
  /** Stops the thread (before the main connection closes, so that it checkpoints last). */
  close(): Promise<void>;
}

export interface CheckpointerOptions {
  readonly intervalMs?: number;
  /** Told when a checkpoint fails or the thread ends unexpectedly. */
  readonly onError?: (error: Error) => void;
}

/** The main connection's `wal_autocheckpoint` while a checkpointer runs (about 40 MB). */
export const BACKSTOP_PAGES = 10_000;

// Plain JavaScript, evaluated in the worker: no loader needed under tsx or from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** Starts checkpointing the WAL-mode SQLite database `file`, which the caller holds open. */
export function startCheckpointer(file: string, options: CheckpointerOptions = {}): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    execArgv: [],
    workerData: {
      file,
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      intervalMs: options.intervalMs ?? 250,
    },
  });
  // Never what keeps the process alive.
  worker.unref();
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (message: { error?: string }) => {
    if (message.error) options.onError?.(new Error(`WAL checkpoint failed: ${message.error}`));
  });
  worker.on('error', (error) => options.onError?.(error));
  worker.once('exit', (code) => {
    if (!stopping) options.onError?.(new Error(`the WAL checkpoint thread ended (${code})`));
  });
  return {
    async close() {
      if (stopping) return exited;
      stopping = true;
      // Held open until the thread has closed its connection.
      worker.ref();
      worker.postMessage('stop');
      return exited;
    },
  };
}
