/**
 * The API's hot routes as shipped, measured from outside: `outlink serve` runs in a child
 * process over HTTPS (its generated certificate) at its default log level, on a SQLite
 * database with a link and a connection authorized through the real flow; the baselines
 * are a bare Fastify route and a bare Node HTTPS server, each in a process of its own,
 * answering the same bytes over TLS with the same certificate; the load generator is a
 * third kind of child process (bench/https-load.ts). Every side is warmed up, then the
 * rounds alternate the order of the sides; each figure is the median of the per-round
 * ratios, with their spread.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GENERATED_CERT_FILE, GENERATED_KEY_FILE } from '../src/crypto/tls-certificate.js';
import { databaseEnv, ROOT } from '../test/cli/cli-harness.js';
import type { TestDatabase } from '../test/support/harness.js';
import { DEFAULT_BASE_URL, startAuthorizedWorld } from '../test/support/worlds.js';
import { roundedSpread, spreadOf } from './stats.js';

interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/** Resolves with the first stdout line of `child` that matches `pattern`. */
export function lineOf(
  child: ChildProcess,
  pattern: RegExp,
  what: string,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr = (stderr + String(chunk)).slice(-4000);
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = line.match(pattern);
      if (match) resolve(match);
    });
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}):\n${stderr}`)));
  });
}

/**
 * The CLI as `npm start` runs it: the compiled `dist/` (bench/run.ts builds it first), so
 * what is measured is what ships, not the TypeScript loader's output.
 */
export const SHIPPED_CLI = 'dist/main/cli.js';

/**
 * `outlink serve` in a process of its own on `database` (which the benchmark's in-process
 * Outlink has let go of), at the default log level as shipped (its log goes to the child's
 * stderr, read and dropped), trusting the provider's CA; with `cpuProfileDir`, profiled.
 * Resolves once it listens, with its base URL.
 */
export async function spawnServe(options: {
  database: TestDatabase;
  providerCaPem: string;
  scratch: string;
  cpuProfileDir?: string | undefined;
}): Promise<{ server: ChildProcess; base: string }> {
  const caFile = join(options.scratch, 'provider-ca.pem');
  writeFileSync(caFile, options.providerCaPem);
  const env = databaseEnv(options.database, {
    OUTLINK_LISTEN: '127.0.0.1:0',
    OUTLINK_BASE_URL: DEFAULT_BASE_URL,
    NODE_EXTRA_CA_CERTS: caFile,
  });
  delete env.OUTLINK_LOG_LEVEL;
  const profile = options.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`]
    : [];
  const server = spawn(process.execPath, [...profile, SHIPPED_CLI, 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [, port] = await lineOf(server, /https:\/\/127\.0\.0\.1:(\d+)/, 'outlink serve');
  return { server, base: `https://127.0.0.1:${port}` };
}

/** One load-generator process against `url`; its result. */
async function load(
  url: string,
  options: { seconds: number; connections: number; headers: Record<string, string> },
): Promise<LoadResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/https-load.ts', JSON.stringify({ url, ...options })],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const [line] = await lineOf(child, /^\{.*\}$/, 'the load generator');
  return JSON.parse(line) as LoadResult;
}

/** A GET over TLS to a loopback server with a self-signed certificate (not checked). */
export function getSelfSigned(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsGet(url, { headers, rejectUnauthorized: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

export function stop(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null && child.pid) {
    process.kill(child.pid, 'SIGTERM');
  }
}

export interface RouteFigures {
  readonly name: string;
  readonly cores: number;
  readonly transport: string;
  readonly outlinkRps: number;
  readonly fastifyRps: number;
  readonly nodeRps: number;
  /** Outlink's throughput / the bare Fastify route's, per round. */
  readonly vsFastify: ReturnType<typeof roundedSpread>;
  readonly vsNode: ReturnType<typeof roundedSpread>;
  /** Outlink's p99 latency / the bare Fastify route's, per round (each at least 1 ms). */
  readonly p99VsFastify: ReturnType<typeof roundedSpread>;
  readonly outlinkP99Ms: number;
  readonly fastifyP99Ms: number;
  readonly summary: string;
}

/**
 * `GET /api/v1/connections/:id/token` (a `token:read` API token for that connection) and
 * `GET /api/v1/links/:id` (an admin API token) against the bare servers.
 */
export async function benchHttpsRoutes(options: {
  seconds: number;
  rounds: number;
  connections: number;
  log: (line: string) => void;
  /** Writes a CPU profile of the `outlink serve` process into this folder. */
  cpuProfileDir?: string;
}): Promise<RouteFigures[]> {
  const world = await startAuthorizedWorld('sqlite', { baseUrl: DEFAULT_BASE_URL });
  const children: ChildProcess[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'outlink-bench-'));
  try {
    const { outlink } = world;
    const readerToken = await outlink.app.inject({
      method: 'POST',
      url: '/api/v1/api-tokens',
      headers: await outlink.adminHeaders(),
      payload: { name: 'bench reader', scopes: ['token:read'], connectionIds: [world.alice] },
    });
    if (readerToken.statusCode !== 201) throw new Error(`api token: ${readerToken.body}`);
    const reader = { authorization: `Bearer ${(readerToken.json() as { token: string }).token}` };
    const admin = await outlink.tokenHeaders();
    // Outlink itself now runs in its own process on the same database.
    await outlink.close({ drop: false });
    const { server, base: outlinkBase } = await spawnServe({
      database: outlink.database,
      providerCaPem: world.as.caPem,
      scratch,
      cpuProfileDir: options.cpuProfileDir,
    });
    children.push(server);

    const routes = [
      {
        name: 'GET /api/v1/connections/:id/token',
        path: `/api/v1/connections/${world.alice}/token`,
        headers: reader,
      },
      { name: 'GET /api/v1/links/:id', path: `/api/v1/links/${world.linkId}`, headers: admin },
    ];
    const bodies: Record<string, unknown> = {};
    for (const route of routes) {
      const res = await getSelfSigned(`${outlinkBase}${route.path}`, route.headers);
      if (res.status !== 200) throw new Error(`${route.name}: ${res.status} ${res.body}`);
      bodies[route.path] = JSON.parse(res.body);
    }
    const spec = JSON.stringify({
      certFile: join(outlink.database.dataDir, GENERATED_CERT_FILE),
      keyFile: join(outlink.database.dataDir, GENERATED_KEY_FILE),
      routes: bodies,
    });
    const bases: Record<string, string> = { outlink: outlinkBase };
    for (const kind of ['fastify', 'node']) {
      const bare = spawn(process.execPath, ['--import', 'tsx', 'bench/https-bare.ts', kind, spec], {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.push(bare);
      const [, barePort] = await lineOf(bare, /^listening (\d+)$/, `the bare ${kind} server`);
      bases[kind] = `https://127.0.0.1:${barePort}`;
    }

    const figures: RouteFigures[] = [];
    for (const route of routes) {
      const run = async (side: string, seconds: number) => {
        const result = await load(`${bases[side]}${route.path}`, {
          seconds,
          connections: options.connections,
          headers: route.headers,
        });
        if (result.errors) throw new Error(`${route.name} on ${side}: ${result.errors} errors`);
        return result;
      };
      const sides = ['outlink', 'fastify', 'node'];
      options.log(`${route.name}: warming up`);
      for (const side of sides) await run(side, Math.max(2, Math.ceil(options.seconds / 2)));
      const rounds: Record<string, LoadResult>[] = [];
      for (let i = 0; i < options.rounds; i++) {
        const order = i % 2 === 0 ? sides : [...sides].reverse();
        const round: Record<string, LoadResult> = {};
        for (const side of order) round[side] = await run(side, options.seconds);
        rounds.push(round);
        options.log(
          `${route.name} round ${i + 1}/${options.rounds}: ` +
            sides.map((s) => `${s} ${Math.round(round[s]!.requestsPerSecond)}/s`).join(', '),
        );
      }
      const ratio = (a: string, b: string, key: keyof LoadResult) =>
        roundedSpread(spreadOf(rounds.map((r) => r[a]![key] / r[b]![key])), 3);
      const median = (side: string) =>
        Math.round(spreadOf(rounds.map((r) => r[side]!.requestsPerSecond)).median);
      const vsFastify = ratio('outlink', 'fastify', 'requestsPerSecond');
      const vsNode = ratio('outlink', 'node', 'requestsPerSecond');
      // autocannon measures latency in whole milliseconds: a p99 under 1 ms reads 0, and
      // counts as 1 ms here (so two such sides compare as 1.00×).
      const p99VsFastify = roundedSpread(
        spreadOf(rounds.map((r) => Math.max(1, r.outlink!.p99Ms) / Math.max(1, r.fastify!.p99Ms))),
        3,
      );
      const p99Ms = (side: string) => spreadOf(rounds.map((r) => r[side]!.p99Ms)).median;
      const range = (s: { median: number; min: number; max: number }) =>
        `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
      figures.push({
        name: `${route.name} (outlink serve, HTTPS, default log level) vs bare routes`,
        cores: availableParallelism(),
        transport: 'HTTPS (TLS 1.3, keep-alive), every side in its own process',
        outlinkRps: median('outlink'),
        fastifyRps: median('fastify'),
        nodeRps: median('node'),
        vsFastify,
        vsNode,
        p99VsFastify,
        outlinkP99Ms: p99Ms('outlink'),
        fastifyP99Ms: p99Ms('fastify'),
        summary:
          `${route.name}: outlink ${median('outlink')}/s = ${range(vsFastify)} of a bare Fastify route ` +
          `(${median('fastify')}/s), ${range(vsNode)} of a bare Node HTTPS server (${median('node')}/s); ` +
          `p99 ${p99Ms('outlink')} ms = ${range(p99VsFastify)} of the bare route's (${p99Ms('fastify')} ms; ` +
          `whole milliseconds, under 1 ms counted as 1); ${options.rounds} alternating rounds of ` +
          `${options.seconds}s, ${options.connections} connections, ${availableParallelism()} cores`,
      });
    }
    return figures;
  } finally {
    for (const child of children) stop(child);
    await world.outlink.database.drop();
    await world.proxy.close();
    await world.as.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
