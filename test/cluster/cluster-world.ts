import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Kysely } from 'kysely';
import type { Fetch } from '../../src/oauth/discovery.js';
import type { Database } from '../../src/store/schema.js';
import { databaseEnv, ROOT } from '../cli/cli-harness.js';
import { testTls } from '../peers/ca.js';
import { insertDueConnections } from '../support/due-connections.js';
import {
  createTestDatabase,
  startOutlink,
  type TestDatabase,
  type TestOutlink,
} from '../support/harness.js';
import {
  ALICE,
  createTestLink,
  DEFAULT_BASE_URL,
  startTestProvider,
  TEST_CLIENT,
  type TestProvider,
} from '../support/worlds.js';

/**
 * A cluster on the real PostgreSQL: node processes (test/cluster/node.ts, what `outlink
 * serve` runs) sharing one database, one master key, one base URL and one TLS certificate,
 * as nodes behind a load balancer do; the test oidc-provider, which counts every refresh
 * grant per grant (so per connection); and an in-process Outlink over the same database
 * (`inspector`, its background loops never started) to seed and read rows.
 */
export interface ClusterWorld {
  readonly provider: TestProvider;
  readonly inspector: TestOutlink;
  /** A custom link to the provider; its token endpoint is the proxy's or the provider's. */
  readonly linkId: string;
  /** Refresh grants the provider answered, by grant id, with the time of each. */
  readonly refreshes: RefreshLog;
  /** Starts one more node; `env` adds to (or overrides) the cluster's environment. */
  startNode(env?: Record<string, string>): Promise<ClusterNode>;
  /**
   * `n` connections of the link holding real grants minted at the provider, their access
   * tokens expired so that they are due at once. Returns each connection's id and grant id.
   */
  seedConnections(n: number, linkId?: string): Promise<SeededConnection[]>;
  close(): Promise<void>;
}

export interface SeededConnection {
  readonly connectionId: string;
  readonly grantId: string;
}

export interface ClusterNode {
  readonly pid: number;
  /** `https://127.0.0.1:<port>`, served with the cluster's certificate. */
  readonly origin: string;
  /** The last lines the node logged (stderr). */
  stderr(): string;
  /** How many of every line the node logged (stderr) contain `text`. */
  logged(text: string): number;
  /** Sends `signal` to this node's process (by its pid) and waits until it exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Sends `signal` (SIGSTOP, SIGCONT) to this node's process without waiting. */
  signal(signal: NodeJS.Signals): void;
}

export interface RefreshLog {
  /** Times (ms since the epoch) of the refresh grants of `grantId`, in order. */
  of(grantId: string): readonly number[];
  /** Refresh grants the provider answered in all. */
  total(): number;
  /** Token requests the provider refused (e.g. a consumed refresh token used again). */
  errors(): readonly string[];
}

export interface ClusterOptions {
  /** The provider's access token lifetime in seconds (default 3600). */
  readonly accessTokenTtl?: number;
  /** Send the link's token requests through the fault proxy (default: straight). */
  readonly viaProxy?: boolean;
  /** The background loops' pace in every node (`OUTLINK_TEST_JOBS`). */
  readonly jobs?: {
    readonly scheduler?: Record<string, number>;
    readonly mailPoller?: Record<string, number | boolean>;
  };
  /** More environment for every node. */
  readonly env?: Record<string, string>;
  /** The PostgreSQL server to create the cluster's database on (default `PG_ADMIN_URL`). */
  readonly pgAdminUrl?: string;
}

const SCOPE = 'openid email offline_access';

/** The provider's events this world listens to (oidc-provider is an EventEmitter). */
interface ProviderEvents {
  on(event: 'grant.success', listener: (ctx: GrantContext) => void): void;
  on(event: 'grant.error', listener: (ctx: GrantContext, error: Error) => void): void;
}

interface GrantContext {
  readonly oidc: {
    readonly params?: Record<string, unknown>;
    readonly entities: { readonly Grant?: { readonly jti: string } };
  };
}

export async function startCluster(options: ClusterOptions = {}): Promise<ClusterWorld> {
  const provider = await startTestProvider({
    ...(options.accessTokenTtl ? { accessTokenTtl: options.accessTokenTtl } : {}),
  });
  const masterKey = randomBytes(32).toString('base64');
  let launcher: NodeLauncher | undefined;
  let inspector: TestOutlink | undefined;
  try {
    inspector = await startOutlink('postgres', {
      ...(options.pgAdminUrl
        ? { database: await createTestDatabase('postgres', { adminUrl: options.pgAdminUrl }) }
        : {}),
      fetch: provider.as.fetch,
      env: { OUTLINK_MASTER_KEY: masterKey, OUTLINK_LOG_LEVEL: 'warn' },
    });
    const linkId = await createTestLink(inspector, {
      as: provider.as,
      tokenEndpoint: options.viaProxy ? provider.tokenEndpoint : provider.as.endpoints.token,
    });

    const times = new Map<string, number[]>();
    const errors: string[] = [];
    let total = 0;
    const events = provider.as.provider as unknown as ProviderEvents;
    events.on('grant.success', (ctx) => {
      if (ctx.oidc.params?.grant_type !== 'refresh_token') return;
      const grantId = ctx.oidc.entities.Grant?.jti ?? 'unknown';
      const list = times.get(grantId) ?? [];
      list.push(Date.now());
      times.set(grantId, list);
      total++;
    });
    events.on('grant.error', (_ctx, error) => {
      errors.push(error.message);
    });

    launcher = await createNodeLauncher(inspector.database, {
      OUTLINK_MASTER_KEY: masterKey,
      ...(options.jobs ? { OUTLINK_TEST_JOBS: JSON.stringify(options.jobs) } : {}),
      ...options.env,
    });
    const nodes = launcher;

    const world: ClusterWorld = {
      provider,
      inspector,
      linkId,
      refreshes: {
        of: (grantId) => times.get(grantId) ?? [],
        total: () => total,
        errors: () => errors,
      },
      startNode: (env) => nodes.start(env),
      seedConnections: (n, link = linkId) => seed(inspector as TestOutlink, provider, link, n),
      async close() {
        await nodes.close();
        await inspector?.close();
        await provider.close();
      },
    };
    return world;
  } catch (error) {
    await launcher?.close();
    await inspector?.close();
    await provider.close();
    throw error;
  }
}

/**
 * The live holder of lease `name` (e.g. `refresh:<connection id>`): its owner id and the pid
 * of the node process the cluster registry names for it; undefined when none holds it.
 */
export async function leaseHolder(
  db: Kysely<Database>,
  name: string,
): Promise<{ owner: string; pid: number } | undefined> {
  const row = await db
    .selectFrom('leases')
    .innerJoin('cluster_nodes', 'cluster_nodes.id', 'leases.owner')
    .select(['leases.owner', 'leases.expires_at', 'cluster_nodes.pid'])
    .where('leases.name', '=', name)
    .executeTakeFirst();
  if (!row || Date.parse(row.expires_at) <= Date.now()) return undefined;
  return { owner: row.owner, pid: row.pid };
}

/** Starts node processes on one database; `close()` SIGKILLs those still running. */
export interface NodeLauncher {
  /** Starts one more node; `env` adds to (or overrides) the launcher's environment. */
  start(env?: Record<string, string>): Promise<ClusterNode>;
  close(): Promise<void>;
}

/**
 * Node processes (test/cluster/node.ts) on `database`, as behind a load balancer: one base
 * URL, one TLS certificate signed by the test CA (so the tests' `fetch`, which trusts the
 * provider, trusts the nodes too), and the test CA trusted by every node for the provider
 * and the mail servers. The master key is the data dir's key file unless `env` gives one.
 */
export async function createNodeLauncher(
  database: TestDatabase,
  env: Record<string, string> = {},
): Promise<NodeLauncher> {
  const tls = await testTls();
  const dir = database.dataDir;
  const files = {
    ca: join(dir, 'test-ca.pem'),
    cert: join(dir, 'node-cert.pem'),
    key: join(dir, 'node-key.pem'),
  };
  writeFileSync(files.ca, tls.caPem);
  writeFileSync(files.cert, tls.server.certPem);
  writeFileSync(files.key, tls.server.keyPem, { mode: 0o600 });
  const nodeEnv = databaseEnv(database, {
    OUTLINK_BASE_URL: DEFAULT_BASE_URL,
    OUTLINK_LISTEN: '127.0.0.1:0',
    OUTLINK_TLS_CERT: files.cert,
    OUTLINK_TLS_KEY: files.key,
    NODE_EXTRA_CA_CERTS: files.ca,
    OUTLINK_TEST_JOBS: '{}',
    ...env,
  });
  const children = new Set<ChildProcess>();
  return {
    async start(more = {}) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/cluster/node.ts'], {
        cwd: ROOT,
        env: { ...nodeEnv, ...more },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      return nodeOf(child, () => children.delete(child));
    },
    close: async () => {
      await Promise.all([...children].map((child) => stopChild(child, 'SIGKILL')));
    },
  };
}

async function nodeOf(child: ChildProcess, onExit: () => void): Promise<ClusterNode> {
  let stderr = '';
  const lines: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
  child.once('exit', onExit);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the node did not listen within 120 s:\n${stderr}`));
    }, 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the node exited (${code ?? signal}) before it listened:\n${stderr}`));
    });
  });
  return {
    pid: child.pid!,
    origin: `https://127.0.0.1:${port}`,
    stderr: () => stderr,
    logged: (text) => lines.filter((line) => line.includes(text)).length,
    stop: (signal = 'SIGTERM') => stopChild(child, signal),
    signal: (signal) => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, signal);
    },
  };
}

/** Signals a child by its pid and waits for its exit (SIGKILL after 20 s of waiting). */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.pid !== undefined) process.kill(child.pid, signal);
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, 20_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Real grants at the provider for `account` (one the provider knows: a refresh looks it
 * up), each with its own refresh token, made through oidc-provider's
 * own Grant and RefreshToken models (the records its code flow stores; the flow itself runs
 * at about 90 grants a second here, too slow for thousands). A refresh request cannot tell
 * the difference.
 */
export async function mintGrants(
  provider: Pick<TestProvider, 'as'>,
  n: number,
  account = ALICE,
): Promise<{ refreshToken: string; grantId: string }[]> {
  const { as } = provider;
  const client = await as.provider.Client.find(TEST_CLIENT.clientId);
  if (!client) throw new Error('the test client is not registered');
  const minted: { refreshToken: string; grantId: string }[] = [];
  const authTime = Math.floor(Date.now() / 1000);
  for (let i = 0; i < n; i++) {
    const grant = new as.provider.Grant({ accountId: account, clientId: TEST_CLIENT.clientId });
    grant.addOIDCScope(SCOPE);
    const grantId = await grant.save();
    const token = new as.provider.RefreshToken({
      accountId: account,
      client,
      grantId,
      gty: 'authorization_code',
      scope: SCOPE,
      authTime,
      rotations: 0,
      expiresWithSession: false,
    });
    minted.push({ refreshToken: await token.save(), grantId });
  }
  return minted;
}

async function seed(
  outlink: TestOutlink,
  provider: TestProvider,
  linkId: string,
  n: number,
): Promise<SeededConnection[]> {
  const { db } = outlink.services.store;
  const { cipher } = outlink.services;
  const minted = await mintGrants(provider, n);
  const ids = await insertDueConnections(db, cipher, {
    linkId,
    issuer: provider.as.issuer,
    scope: SCOPE,
    accountPrefix: 'cluster',
    refreshTokens: minted.map((m) => m.refreshToken),
  });
  return minted.map(({ grantId }, i) => ({ connectionId: ids[i] as string, grantId }));
}

/** A `fetch` that trusts the nodes' (and the provider's) certificate. */
export function clusterFetch(world: ClusterWorld): Fetch {
  return world.provider.as.fetch;
}
