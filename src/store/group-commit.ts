import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** Past this many writes a batch is cut: a transaction holds its locks no longer than that. */
const MAX_BATCH = 64;

/**
 * Issue 12: group commit. Writes queued in the same turn of the event loop (every refresh
 * whose token response was read in it, say) share one transaction, and those queued while it
 * runs share the next one: one commit, and one of each write the batch needs only once,
 * instead of one per write. A write is acknowledged only once its batch committed.
 *
 * A batch that fails is not the end of its writes: unless the database itself is away
 * (`isUnavailable`: each one alone would fail too, and each caller is told), every write is
 * tried again alone, in its own transaction, so one write the database refuses never costs
 * the others theirs — a rotated refresh token among them exists nowhere else.
 */
export function createGroupCommit<T, R>(options: {
  db: Kysely<Database>;
  /** Writes a batch in the transaction given: one result per item, in their order. */
  write(trx: Transaction<Database>, batch: readonly T[]): Promise<readonly R[]>;
  isUnavailable?: (error: unknown) => boolean;
}): (item: T) => Promise<R> {
  interface Queued {
    readonly item: T;
    resolve(result: R): void;
    reject(error: unknown): void;
  }
  let queue: Queued[] = [];
  let flushing = false;

  const commit = (batch: readonly Queued[]) =>
    options.db.transaction().execute(async (trx) => {
      const results = await options.write(
        trx,
        batch.map((q) => q.item),
      );
      if (results.length !== batch.length) throw new Error('a group write lost a result');
      return results;
    });

  const flush = async () => {
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      try {
        const results = await commit(batch);
        for (const [i, q] of batch.entries()) q.resolve(results[i]!);
      } catch (error) {
        if (batch.length === 1 || options.isUnavailable?.(error)) {
          for (const q of batch) q.reject(error);
          continue;
        }
        for (const q of batch) {
          await commit([q]).then(
            (results) => q.resolve(results[0]!),
            (alone) => q.reject(alone),
          );
        }
      }
    }
    flushing = false;
  };

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (flushing) return;
      flushing = true;
      // After the I/O callbacks of this turn: every write they queue joins the first batch.
      setImmediate(() => void flush());
    });
}
