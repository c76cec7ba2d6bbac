import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import type { DatabaseTarget } from '../../src/config/config.js';
import { type Config, loadConfig } from '../../src/config/config.js';
import type { Clock } from '../../src/domain/clock.js';
import { buildApp } from '../../src/http/app.js';
import type { MailPollerHooks } from '../../src/jobs/mail-poller.js';
import type { SchedulerOptions } from '../../src/jobs/scheduler.js';
import type { WebhookDispatcherOptions } from '../../src/jobs/webhook-dispatcher.js';
import type { MailTimeouts, MailTlsOptions } from '../../src/mail/endpoint.js';
import { compose, type Composition as Services } from '../../src/main/compose.js';
import { createLogger } from '../../src/main/log.js';
import type { Resolver } from '../../src/net/address-guard.js';
import type { Fetch } from '../../src/oauth/discovery.js';
import type { LoginGuardOptions } from '../../src/services/login-guard.js';
import { openStore, type Store } from '../../src/store/db.js';
import type { TokenServiceOptions } from '../../src/tokens/token-service.js';

/**
 * The two lowest layers of the test worlds (test/support/worlds.ts lists them all): a
 * database of either dialect, and Outlink's services and app over it.
 */

/** The password of Outlink's user `admin` in every test world. */
export const ADMIN_PASSWORD = 'test-admin-password-1';
export const Dialects = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof Dialects)[number];

/** The PostgreSQL server of the development machines (DESIGN §9). */
export const PG_ADMIN_URL =
  process.env.OUTLINK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh, empty database of the given dialect, dropped by `drop()`. */
export interface TestDatabase {
  readonly url: string;
  readonly dataDir: string;
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** The PostgreSQL server's admin URL (default `PG_ADMIN_URL`). */
  readonly adminUrl?: string;
}

/** Where `openStore` finds a test database. */
export const storeTargetOf = (database: TestDatabase): DatabaseTarget =>
  database.url.startsWith('sqlite:')
    ? { kind: 'sqlite', file: database.url.slice('sqlite:'.length) }
    : { kind: 'postgres', url: database.url };

/** A store alone on a new, migrated test database of `dialect` (for the store's own tests). */
export async function openTestStore(
  dialect: TestDialect,
): Promise<{ database: TestDatabase; store: Store }> {
  const database = await createTestDatabase(dialect);
  const store = openStore(storeTargetOf(database));
  await store.migrate();
  return { database, store };
}

/** Closes what `openTestStore` opened (either may be missing when opening failed). */
export async function closeTestStore(store?: Store, database?: TestDatabase): Promise<void> {
  await store?.close();
  await database?.drop();
}

/** Layer 1, a database only: a temporary data dir, and a new PostgreSQL database if asked. */
export async function createTestDatabase(
  dialect: TestDialect,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'outlink-test-'));
  if (dialect === 'sqlite') {
    return {
      url: `sqlite:${join(dataDir, 'outlink.db')}`,
      dataDir,
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const adminUrl = options.adminUrl ?? PG_ADMIN_URL;
  const name = `outlink_test_${randomBytes(6).toString('hex')}`;
  let admin: pg.Client;
  try {
    admin = await connectAdmin(adminUrl);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    dataDir,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Connects to the PostgreSQL server the tests create their databases on. A server that is
 * not there fails the test with the command that installs and starts one: a PostgreSQL
 * test is never skipped.
 */
async function connectAdmin(adminUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
    return client;
  } catch (error) {
    const { hostname, port } = new URL(adminUrl);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `PostgreSQL for the tests is not usable at ${hostname}:${port || 5432} (${reason}): ` +
        'run scripts/test, which installs PostgreSQL, starts it and lets the tests sign in',
      { cause: error },
    );
  }
}

/** The environment that points Outlink at `database`, with the test admin's password. */
export function databaseConfigEnv(database: TestDatabase): Record<string, string> {
  return {
    OUTLINK_DATA_DIR: database.dataDir,
    OUTLINK_DATABASE_URL: database.url,
    OUTLINK_ADMIN_PASSWORD: ADMIN_PASSWORD,
  };
}

/** Collects every log line the app writes, so tests can search them for secrets. */
export function captureLog(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

export interface ServicesOptions {
  /** More configuration, over `databaseConfigEnv(database)`. */
  readonly env?: Record<string, string>;
  readonly clock?: Clock;
  readonly fetch?: Fetch;
  /** Waits between token request retries (compose's `sleep`): tests pass a fast, recording one. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly tokenOptions?: Partial<TokenServiceOptions>;
  readonly schedulerOptions?: Partial<SchedulerOptions>;
  readonly webhookOptions?: Partial<WebhookDispatcherOptions>;
  /** Mail servers' TLS trust (the test CA) and step timeouts. */
  readonly mailTls?: MailTlsOptions;
  readonly mailTimeouts?: Partial<MailTimeouts>;
  /** Told when an IDLE watcher idles and when its runs end. */
  readonly mailPollerHooks?: MailPollerHooks;
  /** Answers host names without DNS, for every outgoing connection (compose's `resolve`). */
  readonly resolve?: Resolver;
  /** Sign-in limits, e.g. a short failure-event window. */
  readonly loginGuard?: Partial<LoginGuardOptions>;
}

/** Outlink's services over a test database, as the composition root builds them. */
export interface TestServices {
  readonly services: Services;
  readonly config: Config;
  /** Every line the services logged. */
  readonly logLines: string[];
}

/** Layer 2, + services: Outlink's services over `database`, logging into memory. */
export async function startServices(
  database: TestDatabase,
  options: ServicesOptions = {},
): Promise<TestServices> {
  const config = loadConfig({
    ...databaseConfigEnv(database),
    OUTLINK_LOG_LEVEL: 'info',
    ...options.env,
  });
  const log = captureLog();
  const services = await compose(config, {
    log: createLogger({ level: config.logLevel, destination: log.stream }),
    clock: options.clock,
    fetch: options.fetch,
    sleep: options.sleep,
    tokenOptions: options.tokenOptions,
    schedulerOptions: options.schedulerOptions,
    webhookOptions: options.webhookOptions,
    mailTls: options.mailTls,
    mailTimeouts: options.mailTimeouts,
    loginGuard: options.loginGuard,
    ...(options.mailPollerHooks ? { mailPollerHooks: options.mailPollerHooks } : {}),
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  return { services, config, logLines: log.lines };
}

export interface TestOutlink {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly config: Config;
  readonly database: TestDatabase;
  readonly logLines: string[];
  /** Headers of a signed-in admin session: cookie and CSRF token. */
  adminHeaders(): Promise<Record<string, string>>;
  /** Headers carrying a fresh admin API token. */
  tokenHeaders(): Promise<Record<string, string>>;
  /** Closes the app and services; keeps the database unless `drop` is true. */
  close(options?: { drop?: boolean }): Promise<void>;
}

export interface StartOptions extends ServicesOptions {
  /** Reuse a database (e.g. to restart on the same data); a new one otherwise. */
  readonly database?: TestDatabase;
}

/** Layer 2, + app: the real app over a real database of `dialect`, ready for `inject()`. */
export async function startOutlink(
  dialect: TestDialect,
  options: StartOptions = {},
): Promise<TestOutlink> {
  const database = options.database ?? (await createTestDatabase(dialect));
  const { services, config, logLines } = await startServices(database, options);
  const app = await buildApp(services);
  let session: Record<string, string> | undefined;
  const outlink: TestOutlink = {
    app,
    services,
    config,
    database,
    logLines,
    async adminHeaders() {
      if (session) return session;
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { username: 'admin', password: ADMIN_PASSWORD },
      });
      if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
      const cookie = String(res.headers['set-cookie']).split(';')[0]!;
      session = { cookie, 'x-csrf-token': (res.json() as { csrfToken: string }).csrfToken };
      return session;
    },
    async tokenHeaders() {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers: await outlink.adminHeaders(),
        payload: { name: `test-${randomBytes(3).toString('hex')}` },
      });
      if (res.statusCode !== 201) throw new Error(`token failed: ${res.statusCode} ${res.body}`);
      return { authorization: `Bearer ${(res.json() as { token: string }).token}` };
    },
    async close({ drop = true } = {}) {
      await app.close();
      await services.close();
      if (drop) await database.drop();
    },
  };
  return outlink;
}

/** A valid Google link body; tests override fields. */
export function googleLink(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `Gmail ${randomBytes(3).toString('hex')}`,
    provider: 'google',
    clientId: '123-abc.apps.googleusercontent.com',
    clientSecret: 'GOCSPX-test-secret',
    ...overrides,
  };
}
