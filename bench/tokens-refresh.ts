/**
 * Refreshing due connections, measured from outside: Outlink's scheduler runs in a child
 * process built by the real composition root (bench/refresh-outlink.ts), the baseline — a
 * bare oauth4webapi loop with the same concurrency — in another (bench/refresh-raw.ts),
 * both over HTTPS to the same oidc-provider, which runs in this (otherwise idle) process:
 * the refresher with Outlink's own HTTP client (the guarded fetch), the loop with the global
 * fetch (or, `rawClient: 'outlink'`, with Outlink's client too). Each pass gets fresh grants minted beforehand (not timed), so
 * both sides refresh the same kind of grant; both are warmed up with one pass, then the
 * rounds alternate their order. Also reported: the refresher's RSS idle and while
 * refreshing, and `outlink serve`'s start-up time to `/readyz` 200 with the connections in
 * the database.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { redirectUrlFor } from '../src/domain/link.js';
import { databaseEnv, ROOT } from '../test/cli/cli-harness.js';
import { type AuthorizationServer, startAuthorizationServer } from '../test/peers/oidc-provider.js';
import { startOutlink } from '../test/support/harness.js';
import { createTestLink, DEFAULT_BASE_URL, TEST_CLIENT } from '../test/support/worlds.js';
import { getSelfSigned, lineOf, SHIPPED_CLI, stop } from './https-routes.js';
import { loadAverage, range, roundedSpread, spreadOf } from './stats.js';

// The parts of oidc-provider's model API used to mint grants (see mintGrants).
declare module 'oidc-provider' {
  interface RefreshTokenInstance {
    save(): Promise<string>;
  }
  interface RefreshTokenModel {
    new (init: Readonly<Record<string, unknown>>): RefreshTokenInstance;
  }
  interface ClientModel {
    find(id: string): Promise<object | undefined>;
  }
  interface Provider {
    readonly RefreshToken: RefreshTokenModel;
    readonly Client: ClientModel;
  }
}

const SCOPE = 'openid email offline_access';
const ACCOUNT = 'bench@example.test';

/**
 * Real grants at the real authorization server, `n` of them, each with its own refresh
 * token: made through oidc-provider's own Grant and RefreshToken models, the records its
 * code flow stores. Driving the interactive flow (login and consent pages, code exchange)
 * manages about 90 grants a second here, too slow for 10,000; a refresh request cannot
 * tell the difference, since it is validated against the same stored grant either way.
 */
export async function mintGrants(as: AuthorizationServer, n: number): Promise<string[]> {
  const client = await as.provider.Client.find(TEST_CLIENT.clientId);
  if (!client) throw new Error('the bench client is not registered');
  const tokens: string[] = [];
  const authTime = Math.floor(Date.now() / 1000);
  for (let i = 0; i < n; i++) {
    const grant = new as.provider.Grant({ accountId: ACCOUNT, clientId: TEST_CLIENT.clientId });
    grant.addOIDCScope(SCOPE);
    const grantId = await grant.save();
    const token = new as.provider.RefreshToken({
      accountId: ACCOUNT,
      client,
      grantId,
      gty: 'authorization_code',
      scope: SCOPE,
      authTime,
      rotations: 0,
      expiresWithSession: false,
    });
    tokens.push(await token.save());
  }
  return tokens;
}

/** A child speaking JSON lines: `ask` writes one command and resolves with the next answer. */
export function jsonChild(child: ChildProcess, what: string) {
  const answers: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4000);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) answers.shift()?.resolve(line);
  });
  child.once('exit', (code) => {
    for (const waiting of answers.splice(0))
      waiting.reject(new Error(`${what} exited (${code}):\n${stderr}`));
  });
  const next = () =>
    new Promise<Record<string, number>>((resolve, reject) => {
      answers.push({
        resolve: (line) => resolve(JSON.parse(line) as Record<string, number>),
        reject,
      });
    });
  return {
    ready: next(),
    ask(command: unknown) {
      const answer = next();
      child.stdin!.write(`${JSON.stringify(command)}\n`);
      return answer;
    },
  };
}

/** The resident set of another process, from /proc (Linux). */
export function rssOfMb(pid: number): number {
  const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1];
  return Number(kb ?? 0) / 1024;
}

/**
 * Another process's CPU time so far (user + system), in ms, from /proc (Linux): fields 14 and
 * 15 of its stat line, in clock ticks of 10 ms (Linux's USER_HZ of 100).
 */
export function cpuOfMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count from after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Refreshing `connections` due connections with the scheduler against the same number of
 * fresh grants refreshed by a bare oauth4webapi loop at the same concurrency.
 */
export async function benchRefreshDue(options: {
  connections: number;
  concurrency: number;
  rounds: number;
  log: (line: string) => void;
  /** Writes CPU profiles of the refresher process into this folder. */
  cpuProfileDir?: string;
  /**
   * The raw loop's HTTP client: the global fetch (the baseline), or Outlink's own (the
   * guarded fetch, undici's `request` underneath), to tell the client's share of the ratio.
   */
  rawClient?: 'fetch' | 'outlink';
}) {
  const rawClient = options.rawClient ?? 'fetch';
  const as = await startAuthorizationServer({
    clients: ({ endpoints }) => [
      {
        ...TEST_CLIENT,
        redirectUris: [redirectUrlFor(new URL(DEFAULT_BASE_URL), endpoints.authorization)],
      },
    ],
    accounts: [{ email: ACCOUNT }],
  });
  const outlink = await startOutlink('sqlite', {
    fetch: as.fetch,
    env: { OUTLINK_LOG_LEVEL: 'warn' },
  });
  const scratch = mkdtempSync(join(tmpdir(), 'outlink-bench-refresh-'));
  const children: ChildProcess[] = [];
  try {
    const linkId = await createTestLink(outlink, { as, tokenEndpoint: as.endpoints.token });
    await outlink.close({ drop: false });
    const caFile = join(scratch, 'provider-ca.pem');
    writeFileSync(caFile, as.caPem);
    const env = databaseEnv(outlink.database, {
      OUTLINK_BASE_URL: DEFAULT_BASE_URL,
      NODE_EXTRA_CA_CERTS: caFile,
      BENCH_CONCURRENCY: String(options.concurrency),
    });
    // The default log level, as shipped.
    delete env.OUTLINK_LOG_LEVEL;
    const profile = options.cpuProfileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`]
      : [];
    const refresher = spawn(
      process.execPath,
      [...profile, '--import', 'tsx', 'bench/refresh-outlink.ts'],
      { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    children.push(refresher);
    const raw = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/refresh-raw.ts',
        JSON.stringify({
          issuer: as.issuer,
          tokenEndpoint: as.endpoints.token,
          clientId: TEST_CLIENT.clientId,
          clientSecret: TEST_CLIENT.clientSecret,
          concurrency: options.concurrency,
          client: rawClient,
        }),
      ],
      { cwd: ROOT, env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile }, stdio: 'pipe' },
    );
    children.push(raw);
    const outlinkSide = jsonChild(refresher, 'the refresher');
    const rawSide = jsonChild(raw, 'the raw loop');
    const idle = await outlinkSide.ready;
    await rawSide.ready;
    const idleRssMb = idle.rssMb ?? 0;

    const grantsFile = join(scratch, 'grants.json');
    const mint = async () =>
      writeFileSync(grantsFile, JSON.stringify(await mintGrants(as, options.connections)));
    const passes = {
      outlink: async () => {
        await mint();
        await outlinkSide.ask({ load: grantsFile, linkId, issuer: as.issuer });
        const r = await outlinkSide.ask({ run: true });
        if (r.refreshed !== options.connections || r.failed !== 0)
          throw new Error(`the refresher refreshed ${r.refreshed}, failed ${r.failed}`);
        return r;
      },
      raw: async () => {
        await mint();
        const r = await rawSide.ask({ file: grantsFile });
        if (r.refreshed !== options.connections) throw new Error(`raw refreshed ${r.refreshed}`);
        return r;
      },
    };
    options.log(`refresh: warming up (load ${loadAverage()})`);
    await passes.outlink();
    await passes.raw();
    const rounds: { outlink: Record<string, number>; raw: Record<string, number> }[] = [];
    for (let i = 0; i < options.rounds; i++) {
      const round: Partial<(typeof rounds)[number]> = {};
      for (const side of i % 2 === 0
        ? (['outlink', 'raw'] as const)
        : (['raw', 'outlink'] as const))
        round[side] = await passes[side]();
      rounds.push(round as (typeof rounds)[number]);
      const rate = (ms: number) => Math.round((options.connections / ms) * 1000);
      options.log(
        `refresh round ${i + 1}/${options.rounds}: outlink ${rate(round.outlink!.ms!)}/s, ` +
          `raw ${rate(round.raw!.ms!)}/s (load ${loadAverage()})`,
      );
    }
    const rate = (ms: number) => (options.connections / ms) * 1000;
    const ratio = roundedSpread(spreadOf(rounds.map((r) => r.raw.ms! / r.outlink.ms!)), 3);
    const outlinkPerSecond = Math.round(spreadOf(rounds.map((r) => rate(r.outlink.ms!))).median);
    const rawPerSecond = Math.round(spreadOf(rounds.map((r) => rate(r.raw.ms!))).median);
    const peakRssMb = Math.round(Math.max(...rounds.map((r) => r.outlink.peakRssMb!)));
    // CPU a refresh in each side's own process (the provider's, in this one, is left out).
    const cpuPerRefresh = (side: 'outlink' | 'raw') =>
      roundedSpread(spreadOf(rounds.map((r) => r[side].cpuUs! / options.connections)), 0);
    const outlinkCpuUs = cpuPerRefresh('outlink');
    const rawCpuUs = cpuPerRefresh('raw');
    // Ending stdin ends each child cleanly (so that a CPU profile gets written).
    for (const child of [refresher, raw]) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await exited;
    }

    // Start-up of `outlink serve` with the connections in the database.
    const startup: number[] = [];
    let serveIdleRssMb = 0;
    for (let i = 0; i < (options.rounds > 1 ? 3 : 1); i++) {
      const start = performance.now();
      const server = spawn(process.execPath, [SHIPPED_CLI, 'serve'], {
        cwd: ROOT,
        env: { ...env, OUTLINK_LISTEN: '127.0.0.1:0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(server);
      const [, port] = await lineOf(server, /https:\/\/127\.0\.0\.1:(\d+)/, 'outlink serve');
      for (;;) {
        const res = await getSelfSigned(`https://127.0.0.1:${port}/readyz`, {}).catch(() => ({
          status: 0,
        }));
        if (res.status === 200) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      startup.push(performance.now() - start);
      serveIdleRssMb = rssOfMb(server.pid!);
      stop(server);
      await new Promise((r) => server.once('exit', r));
    }
    const startupMs = roundedSpread(spreadOf(startup), 0);
    const cores = availableParallelism();
    return [
      {
        name: 'refreshing due connections (scheduler, own process) vs a raw oauth4webapi loop (own process)',
        cores,
        transport: `HTTPS to oidc-provider, every side in its own process; Outlink's guarded fetch (undici request) in the refresher, ${rawClient === 'fetch' ? 'the global fetch' : "Outlink's guarded fetch"} in the raw loop`,
        rawClient,
        connections: options.connections,
        concurrency: options.concurrency,
        outlinkPerSecond,
        rawPerSecond,
        ratio,
        outlinkCpuUs,
        rawCpuUs,
        loadAverage: loadAverage(),
        summary:
          `refreshing ${options.connections} due connections: outlink ${outlinkPerSecond}/s = ` +
          `${range(ratio)}× of a raw oauth4webapi loop (${rawPerSecond}/s, ${rawClient === 'fetch' ? 'global fetch' : "Outlink's HTTP client"}), concurrency ` +
          `${options.concurrency}, ${options.rounds} alternating rounds, ${cores} cores, load ${loadAverage()}; ` +
          `CPU a refresh in the refresher ${range(outlinkCpuUs, 0)} µs, in the raw loop ${range(rawCpuUs, 0)} µs`,
      },
      {
        name: 'memory: refresher RSS idle and while refreshing',
        idleRssMb: Math.round(idleRssMb),
        refreshingPeakRssMb: peakRssMb,
        serveIdleRssMb: Math.round(serveIdleRssMb),
        loadAverage: loadAverage(),
        summary:
          `memory: the refresher process ${Math.round(idleRssMb)} MB RSS idle, ${peakRssMb} MB peak ` +
          `while refreshing ${options.connections}; outlink serve ${Math.round(serveIdleRssMb)} MB ` +
          `idle after start-up (load ${loadAverage()})`,
      },
      {
        name: `startup: outlink serve to /readyz 200 with ${options.connections} connections`,
        startupMs,
        loadAverage: loadAverage(),
        summary:
          `startup: outlink serve answers /readyz 200 after ${range(startupMs, 0)} ms with ` +
          `${options.connections} connections in the database (from spawning dist/main/cli.js serve), ` +
          `${startup.length} start(s), load ${loadAverage()}`,
      },
    ];
  } finally {
    for (const child of children) stop(child);
    await outlink.database.drop();
    await as.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
