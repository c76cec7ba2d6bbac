import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, type SqliteDatabase, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseTarget } from '../config/config.js';
import { migrationsFor } from './migrations/index.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Applies pending migrations; returns the names it applied. */
  migrate(): Promise<string[]>;
  /** Names of migrations not yet applied. */
  pendingMigrations(): Promise<string[]>;
  /** Cheap round trip that proves the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Told when the server drops an idle PostgreSQL connection (restart, failover). */
  readonly onIdleError?: (error: Error) => void;
}

/** Opens the configured database: SQLite in WAL mode by default, or a PostgreSQL pool. */
export function openStore(target: DatabaseTarget, options: StoreOptions = {}): Store {
  const dialect: Dialect = target.kind;
  const db =
    target.kind === 'sqlite'
      ? new Kysely<Database>({
          dialect: new SqliteDialect({ database: withStatementCache(openSqlite(target.file)) }),
        })
      : new Kysely<Database>({
          dialect: new PostgresDialect({ pool: openPool(target.url, options) }),
        });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrationsFor(dialect) },
  });
  let closed = false;
  return {
    db,
    dialect,
    async migrate() {
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error;
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    async pendingMigrations() {
      const all = await migrator.getMigrations();
      return all.filter((m) => !m.executedAt).map((m) => m.name);
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

function openPool(url: string, options: StoreOptions): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // Without a listener, an idle connection the server drops is an uncaught 'error' that ends
  // the process; the pool has already discarded it and the next query opens a new one.
  pool.on('error', (error) => options.onIdleError?.(error));
  return pool;
}

function openSqlite(file: string): SQLite.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const database = new SQLite(file);
  // WAL lets readers run beside the one writer; busy_timeout makes a second process wait
  // for the write lock instead of failing at once with SQLITE_BUSY.
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  return database;
}

/** Statements kept prepared; past this the oldest is dropped (`IN (…)` lists vary in length). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every query anew, and preparing costs more than running
 * the small queries Outlink makes. Statements are reusable and SQLite re-prepares them itself
 * after a schema change, so one prepared statement per SQL text is kept.
 */
function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        statement = database.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/** True when `error` is a unique-constraint violation in either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
