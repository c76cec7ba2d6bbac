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
