import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../schema.js';

/**
 * What a repository runs its statements on: the database, or a transaction open on it. Every
 * repository factory takes one, so the same repository works inside and outside a transaction.
 */
export type Executor = Kysely<Database> | Transaction<Database>;

/**
 * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
 * Given a transaction already, `work` joins it (Kysely does not nest transactions).
 */
export function inTransaction<T>(
  db: Executor,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  if (db.isTransaction) return work(db as Transaction<Database>);
  return db.transaction().execute(work);
}

/** How many times `whileBusy` runs a transaction SQLite refused with SQLITE_BUSY. */
const BUSY_ATTEMPTS = 10;

/**
 * Runs `transaction` again when SQLite refuses it with SQLITE_BUSY: a transaction that reads
 * before it writes cannot wait for another process's write lock (SQLite refuses at once
 * rather than risk a deadlock, whatever `busy_timeout` says), and a later try starts from a
 * new snapshot. PostgreSQL never answers so; other errors go to the caller.
 */
export async function whileBusy<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= BUSY_ATTEMPTS || typeof code !== 'string' || !code.startsWith('SQLITE_BUSY'))
        throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10 * attempt));
    }
  }
}
