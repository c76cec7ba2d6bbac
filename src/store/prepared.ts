/**
 * Statements built and compiled once, then run with new values. Kysely builds and compiles a
 * query on every call, and for the small statements of the hot paths that costs more than
 * SQLite takes to run them (issue 10: about 40 of the 55 µs of a one-row insert). A prepared
 * statement compiles once per database — shared by its transactions, whose SQL is the same
 * (issue 12: the refresh runs its statements in one) — and afterwards only fills its
 * parameters in. An executor with plugins, which may rewrite the query, keeps its own.
 *
 * `build` gets placeholders instead of the values. It must use each only as a value (a
 * parameter of the statement), never to choose the statement's shape: no `if (value)`, no
 * `is null` for a null, no list whose length varies. The first compile checks that every
 * value became a parameter and throws when one did not. A call with an `undefined` value
 * (Kysely leaves such a column out of an insert) is built and run the ordinary way.
 */
import { type Compilable, CompiledQuery, type QueryResult } from 'kysely';
import type { Executor } from './repositories/transaction.js';

const PLACEHOLDER = '\u0000outlink-value:';

type Slot = { readonly key: string } | { readonly constant: unknown };

interface Compiled {
  readonly keys: number;
  readonly sql: string;
  readonly slots: readonly Slot[];
}

export type PreparedStatement<V extends object, Row> = (
  db: Executor,
  values: V,
) => Promise<QueryResult<Row>>;

export function prepare<V extends object, Row>(
  build: (db: Executor, values: V) => Compilable<Row>,
): PreparedStatement<V, Row> {
  const compiled = new WeakMap<object, Compiled>();
  return async (db, values) => {
    const record = values as Record<string, unknown>;
    if (Object.values(record).some((v) => v === undefined))
      return db.executeQuery(build(db, values));
    const key = compileKey(db);
    let statement = compiled.get(key);
    if (!statement) {
      statement = compile(db, values, build);
      compiled.set(key, statement);
    } else if (Object.keys(values).length !== statement.keys) {
      throw new Error('a prepared statement takes the same values on every call');
    }
    const parameters = statement.slots.map((slot) =>
      'key' in slot ? record[slot.key] : slot.constant,
    );
    return db.executeQuery(CompiledQuery.raw(statement.sql, parameters) as CompiledQuery<Row>);
  };
}

/**
 * What the compiled SQL depends on: the dialect's adapter, which a database and every
 * transaction on it share; an executor with plugins is its own key.
 */
function compileKey(db: Executor): object {
  const executor = db.getExecutor();
  return executor.plugins.length === 0 ? executor.adapter : db;
}

function compile<V extends object>(
  db: Executor,
  values: V,
  build: (db: Executor, values: V) => Compilable<unknown>,
): Compiled {
  const keys = Object.keys(values);
  const placeholders = Object.fromEntries(keys.map((key) => [key, `${PLACEHOLDER}${key}`]));
  const query = build(db, placeholders as V).compile();
  const slots = query.parameters.map((parameter): Slot => {
    if (typeof parameter === 'string' && parameter.startsWith(PLACEHOLDER)) {
      return { key: parameter.slice(PLACEHOLDER.length) };
    }
    return { constant: parameter };
  });
  const used = new Set(slots.flatMap((slot) => ('key' in slot ? [slot.key] : [])));
  const unused = keys.filter((key) => !used.has(key));
  if (unused.length > 0 || query.sql.includes(PLACEHOLDER)) {
    throw new Error(
      `a prepared statement must use every value as a parameter: ${unused.join(', ') || 'a value reached the SQL text'}`,
    );
  }
  return { keys: keys.length, sql: query.sql, slots };
}
