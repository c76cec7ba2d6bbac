import type { Compilable, CompiledQuery } from 'kysely';
import type { Executor } from './transaction.js';

/**
 * Issue 12: a hot read built and compiled once, at its first use, then run with each call's
 * parameter values — no query tree and no SQL text per request. `build` receives placeholder
 * values and must use each parameter exactly once, in the order `run` is given them (both
 * dialects number parameters in order of appearance).
 */
export function compiledOnce<P extends readonly unknown[], R>(
  db: Executor,
  build: (...placeholders: P) => Compilable<R>,
  placeholders: P,
): (...values: P) => Promise<R[]> {
  let compiled: CompiledQuery<R> | undefined;
  return async (...values) => {
    compiled ??= build(...placeholders).compile();
    if (compiled.parameters.length !== values.length) {
      throw new Error(`compiled query expects ${compiled.parameters.length} parameters`);
    }
    const { rows } = await db.executeQuery<R>({ ...compiled, parameters: values });
    return rows;
  };
}
