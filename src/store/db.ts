import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, type SqliteDatabase, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseTarget } from '../config/config.js';
import { OutlinkError } from '../domain/errors.js';
import { type ChangeProbe, openWalChangeProbe, registerChangeProbe } from './change-probe.js';
import { BACKSTOP_PAGES, type Checkpointer, startCheckpointer } from './checkpointer.js';
import {
  CODE_SCHEMA_VERSION,
  MIN_COMPATIBLE_SCHEMA_VERSION,
  migrationsFor,
} from './migrations/index.js';
import { createClusterNodesRepository } from './repositories/cluster-nodes.js';
import { createClusterStateRepository } from './repositories/cluster-state.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /**
   * Applies pending migrations; returns the names it applied. Refuses (`schema_too_new`)
   * when the database was migrated by newer code this code cannot run with, and
   * (`migration_blocked`) when a migration would break a node still alive on older code.
   */
  migrate(options?: MigrateOptions): Promise<string[]>;
  /** Names of migrations not yet applied. */
  pendingMigrations(): Promise<string[]>;
  /** Cheap round trip that proves the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface MigrateOptions {
  /** Now, for judging which nodes are alive. */
  readonly now?: Date;
  /** A node whose heartbeat is older than this is gone (the lease timeout). */
  readonly nodeTimeoutMs?: number;
}

export interface StoreOptions {
  /** PostgreSQL: connections per node at most (default 10). */
  readonly poolMax?: number;
  /** PostgreSQL: how long a new connection may take before the request fails (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Told when the server drops an idle PostgreSQL connection (restart, failover). */
  readonly onIdleError?: (error: Error) => void;
  /**
   * SQLite: checkpoint the WAL on a thread of its own (checkpointer.ts), for long-running
   * processes (`serve`, `worker`); a CLI command checkpoints the usual way.
   */
  readonly backgroundCheckpoints?: { readonly onError?: (error: Error) => void };
}

/** Opens the configured database: SQLite in WAL mode by default, or a PostgreSQL pool. */
export function openStore(target: DatabaseTarget, options: StoreOptions = {}): Store {
  const dialect: Dialect = target.kind;
  let probe: ChangeProbe | undefined;
  let checkpointer: Checkpointer | undefined;
  let db: Kysely<Database>;
  if (target.kind === 'sqlite') {
    const database = openSqlite(target.file);
    db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: withStatementCache(database) }),
    });
    if (target.file !== ':memory:' && database.pragma('journal_mode', { simple: true }) === 'wal') {
      probe = openWalChangeProbe(target.file);
      registerChangeProbe(db, probe);
      if (options.backgroundCheckpoints) {
        database.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
        checkpointer = startCheckpointer(target.file, options.backgroundCheckpoints);
      }
    }
  } else {
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: openPool(target.url, options) }),
    });
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrationsFor(dialect) },
  });
  let closed = false;
  return {
    db,
    dialect,
    async migrate(migrateOptions = {}) {
      const now = migrateOptions.now ?? new Date();
      const state = createClusterStateRepository(db);
      const before = await state.readAll();
      const dbVersion = Number(before?.schema_version ?? 0);
      const dbMinimum = Number(before?.min_compatible_schema ?? 0);
      if (dbVersion > CODE_SCHEMA_VERSION) {
        if (CODE_SCHEMA_VERSION < dbMinimum) {
          throw new OutlinkError('schema_too_new', {
            database: dbVersion,
            code: CODE_SCHEMA_VERSION,
            minimum: dbMinimum,
          });
        }
        // Newer, but compatible: a rolling upgrade in progress. Nothing to apply here.
        return [];
      }
      if (before && MIN_COMPATIBLE_SCHEMA_VERSION > dbMinimum) {
        const since = new Date(now.getTime() - (migrateOptions.nodeTimeoutMs ?? 30_000));
        const older = (await createClusterNodesRepository(db).alive(since.toISOString())).filter(
          (node) => node.schema_version < MIN_COMPATIBLE_SCHEMA_VERSION,
        );
        if (older.length > 0) {
          throw new OutlinkError('migration_blocked', {
            nodes: older.map((n) => `${n.hostname}:${n.pid} (${n.version})`).join(', '),
            minimum: MIN_COMPATIBLE_SCHEMA_VERSION,
          });
        }
      }
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error;
      const at = now.toISOString();
      if (dbVersion < CODE_SCHEMA_VERSION) {
        await state.set('schema_version', String(CODE_SCHEMA_VERSION), at);
      }
      if (dbMinimum < MIN_COMPATIBLE_SCHEMA_VERSION) {
        await state.set('min_compatible_schema', String(MIN_COMPATIBLE_SCHEMA_VERSION), at);
      }
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
      await checkpointer?.close();
      await db.destroy();
      probe?.close();
    },
  };
}

function openPool(url: string, options: StoreOptions): pg.Pool {
  // Bounded per node: N nodes open at most N × max connections. A connection that cannot be
  // opened within the timeout fails the query, so a request answers 503 at once instead of
  // queueing while PostgreSQL is away.
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    // A half-open connection (a cut network) is noticed by TCP keepalive.
    keepAlive: true,
  });
  // Without a listener, an idle connection the server drops is an uncaught 'error' that ends
  // the process; the pool has already discarded it and the next query opens a new one.
  pool.on('error', (error) => options.onIdleError?.(error));
  // A connection cut while checked out but between two queries (inside a transaction, say)
  // emits 'error' on the client, where the pool listens only while it is idle: unheard, that
  // ends the process. The query in flight, if any, fails on its own; the pool drops the client.
  pool.on('connect', (client) => {
    client.on('error', (error) => options.onIdleError?.(error));
  });
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

/** SQLSTATE classes and driver errors that mean "the database is not there right now". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);

/**
 * True when `error` says the database cannot be reached (refused, cut, restarting, a
 * connection that could not be opened in time), as opposed to a query that failed.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('08'))) {
    return true;
  }
  if (
    error instanceof AggregateError &&
    error.errors.some((x) => isDatabaseUnavailable(x, depth + 1))
  ) {
    return true;
  }
  // pg's own messages when a connection dies or cannot be had in time carry no code.
  if (
    typeof e.message === 'string' &&
    /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection terminated unexpectedly)/.test(
      e.message,
    )
  ) {
    return true;
  }
  return isDatabaseUnavailable(e.cause, depth + 1);
}
