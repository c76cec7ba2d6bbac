/**
 * The token API as shipped, measured from outside: `outlink serve` in a child process over
 * HTTPS at its default log level, on a SQLite database with connections authorized through
 * the real flow at the test oidc-provider (in this otherwise idle process); the load
 * generator is another child (bench/api-load.ts or bench/https-load.ts).
 * - refresh-api: `POST /api/v1/connections/:id/refresh` one after another vs the same
 *   refresh grant (a grant from the same code flow) sent straight to the provider, warmed
 *   up, alternating rounds; and, as the ceiling of any server in between, a bare Node HTTPS
 *   server forwarding the grant (bench/https-bare.ts `forward`);
 * - fan-in: callers simultaneous on an expired token, their p99 vs one refresh's time;
 * - soak: the token route under load for `soakSeconds`, the server's RSS sampled every
 *   few seconds, reported as a slope.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATED_CERT_FILE, GENERATED_KEY_FILE } from '../src/crypto/tls-certificate.js';
import { ROOT } from '../test/cli/cli-harness.js';
import {
  authorizeAccount,
  DEFAULT_BASE_URL,
  startAuthorizedWorld,
  storedTokens,
  TEST_ACCOUNTS,
  TEST_CLIENT,
} from '../test/support/worlds.js';
import { lineOf, spawnServe, stop } from './https-routes.js';
import { loadAverage, range, roundedSpread, spreadOf } from './stats.js';
import { cpuOfMs, jsonChild, rssOfMb } from './tokens-refresh.js';

export { benchRefreshDue, mintGrants } from './tokens-refresh.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A result's words for the provider's distance (none on loopback). */
const awayOf = (ms: number) => (ms > 0 ? `, the provider ${ms} ms away` : '');

/** Least-squares slope of `samples` ([seconds, MB]) in MB per minute. */
function slopePerMinute(samples: readonly [number, number][]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mx = samples.reduce((s, [x]) => s + x, 0) / n;
  const my = samples.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of samples) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}

export async function benchTokens(options: {
  seconds: number;
  rounds: number;
  callers: number;
  soakSeconds: number;
  /**
   * Besides the loopback provider, refresh-api and fan-in again with the provider's token
   * endpoint held this long (a provider at a distance); 0: loopback only.
   */
  providerMs: number;
  wanted: (name: string) => boolean;
  log: (line: string) => void;
  cpuProfileDir?: string;
}) {
  // Short-lived access tokens, so that fan-in rounds find the token expired by waiting.
  const ttl = 4;
  const world = await startAuthorizedWorld('sqlite', {
    baseUrl: DEFAULT_BASE_URL,
    accessTokenTtl: ttl,
    accounts: [...TEST_ACCOUNTS, 'bench@example.test', 'forward@example.test'],
  });
  const children: ChildProcess[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'outlink-bench-tokens-'));
  const cores = availableParallelism();
  const results: { summary: string }[] = [];
  const distances = [0, ...(options.providerMs > 0 ? [options.providerMs] : [])];
  try {
    const { outlink } = world;
    const admin = await outlink.tokenHeaders();
    // The provider's baseline refreshes a grant made the way Outlink's are, through the real
    // code flow (a session-bound grant costs the provider about a millisecond more per refresh
    // than one minted in its model): a third account's, taken out of Outlink's database.
    const baselineConnection = await authorizeAccount(
      outlink,
      world,
      world.linkId,
      'bench@example.test',
    );
    // The forwarder's grant, the same way.
    const forwardConnection = await authorizeAccount(
      outlink,
      world,
      world.linkId,
      'forward@example.test',
    );
    const baselineGrant = (await storedTokens(world, baselineConnection)).refreshToken;
    const forwardGrant = (await storedTokens(world, forwardConnection)).refreshToken;
    if (!baselineGrant || !forwardGrant)
      throw new Error('a baseline connection has no refresh token');
    // Out of Outlink's hands (no revocation at the provider): its scheduler would rotate them.
    await outlink.services.store.db
      .deleteFrom('connections')
      .where('id', 'in', [baselineConnection, forwardConnection])
      .execute();
    await outlink.close({ drop: false });
    const { server, base } = await spawnServe({
      database: outlink.database,
      providerCaPem: world.as.caPem,
      scratch,
      cpuProfileDir: options.cpuProfileDir,
    });
    children.push(server);
    const loaderProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/api-load.ts'], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(loaderProcess);
    const loader = jsonChild(loaderProcess, 'the load generator');
    await loader.ready;

    if (options.wanted('refresh-api')) {
      let refreshToken = baselineGrant;
      const grantForm = (token: string) => ({
        grant_type: 'refresh_token',
        refresh_token: token,
        client_id: TEST_CLIENT.clientId,
        client_secret: TEST_CLIENT.clientSecret,
      });
      const caFile = join(scratch, 'forward-ca.pem');
      writeFileSync(caFile, world.as.caPem);
      const forwarder = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'bench/https-bare.ts',
          'forward',
          JSON.stringify({
            certFile: join(outlink.database.dataDir, GENERATED_CERT_FILE),
            keyFile: join(outlink.database.dataDir, GENERATED_KEY_FILE),
            forward: {
              tokenEndpoint: world.as.endpoints.token,
              caFile,
              form: grantForm(forwardGrant),
            },
          }),
        ],
        { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
      );
      children.push(forwarder);
      const [, forwardPort] = await lineOf(forwarder, /^listening (\d+)$/, 'the forwarder');
      const sides = {
        outlink: async (seconds: number) => {
          const cpu = cpuOfMs(server.pid!);
          const r = await loader.ask({
            kind: 'sequential',
            url: `${base}/api/v1/connections/${world.alice}/refresh`,
            method: 'POST',
            headers: admin,
            seconds,
          });
          if (r.errors) throw new Error(`refresh API: ${r.errors} errors`);
          // The server's CPU a refresh, its scheduler's work in the round included.
          return { ...r, cpuMs: (cpuOfMs(server.pid!) - cpu) / r.count! };
        },
        provider: async (seconds: number) => {
          const r = (await loader.ask({
            kind: 'sequential',
            url: world.as.endpoints.token,
            method: 'POST',
            form: grantForm(refreshToken),
            seconds,
          })) as Record<string, number> & { refreshToken?: string };
          if (r.errors) throw new Error(`provider: ${r.errors} errors`);
          refreshToken = r.refreshToken ?? refreshToken;
          return r;
        },
        forward: async (seconds: number) => {
          const r = await loader.ask({
            kind: 'sequential',
            url: `https://127.0.0.1:${forwardPort}/token`,
            method: 'POST',
            seconds,
          });
          if (r.errors) throw new Error(`forwarder: ${r.errors} errors`);
          return r;
        },
      };
      const order = ['outlink', 'provider', 'forward'] as const;
      for (const distanceMs of distances) {
        world.as.setTokenLatency(distanceMs);
        const away = awayOf(distanceMs);
        options.log(`refresh API${away}: warming up (load ${loadAverage()})`);
        // A full round each: the server's first seconds of refreshes run slower (JIT, WAL).
        for (const side of order) await sides[side](options.seconds);
        const rounds: Record<string, Record<string, number>>[] = [];
        for (let i = 0; i < options.rounds; i++) {
          const round: Record<string, Record<string, number>> = {};
          for (const side of i % 2 === 0 ? order : [...order].reverse())
            round[side] = await sides[side](options.seconds);
          rounds.push(round);
          options.log(
            `refresh API${away} round ${i + 1}/${options.rounds}: ` +
              order.map((side) => `${side} ${round[side]!.perSecond!.toFixed(0)}/s`).join(', ') +
              ` (load ${loadAverage()})`,
          );
        }
        /** A figure taken round by round: its median and spread, rounded. */
        const perRound = (figure: (round: (typeof rounds)[number]) => number, digits: number) =>
          roundedSpread(spreadOf(rounds.map(figure)), digits);
        const ratioOf = (side: string, to: string) =>
          perRound((r) => r[side]!.perSecond! / r[to]!.perSecond!, 3);
        const ratio = ratioOf('outlink', 'provider');
        const ofForward = ratioOf('outlink', 'forward');
        const forwardRatio = ratioOf('forward', 'provider');
        const median = (side: string) =>
          Math.round(spreadOf(rounds.map((r) => r[side]!.perSecond!)).median);
        // What each server in between adds to one refresh, in milliseconds (round by round).
        const addedMs = (side: string) =>
          perRound((r) => 1000 / r[side]!.perSecond! - 1000 / r.provider!.perSecond!, 2);
        const outlinkAdds = addedMs('outlink');
        const outlinkCpu = perRound((r) => r.outlink!.cpuMs!, 2);
        const forwardAdds = addedMs('forward');
        results.push({
          name: `POST /api/v1/connections/:id/refresh one after another vs the refresh grant straight to the provider${away}`,
          cores,
          providerLatencyMs: distanceMs,
          transport:
            'HTTPS keep-alive from a load-generator process; outlink serve at its default log level',
          outlinkPerSecond: median('outlink'),
          providerPerSecond: median('provider'),
          forwardPerSecond: median('forward'),
          ratio,
          ratioToForward: ofForward,
          forwardRatio,
          loadAverage: loadAverage(),
          summary:
            `POST …/refresh: outlink serve ${median('outlink')}/s = ${range(ratio)}× of the same refresh ` +
            `grant straight to the provider (${median('provider')}/s), one after another; a bare Node ` +
            `HTTPS server forwarding the grant ${median('forward')}/s = ${range(forwardRatio)}× of the ` +
            `provider, Outlink ${range(ofForward)}× of it; each refresh takes Outlink ` +
            `${range(outlinkAdds)} ms more than the provider alone (of it ${range(outlinkCpu)} ms of ` +
            `the server's CPU), the forwarder ${range(forwardAdds)} ms; ` +
            `${options.rounds} alternating rounds of ${options.seconds}s${away}, ${cores} cores, load ${loadAverage()}`,
          outlinkAddsMs: outlinkAdds,
          outlinkCpuMs: outlinkCpu,
          forwardAddsMs: forwardAdds,
        } as { summary: string });
      }
      world.as.setTokenLatency(0);
    }

    if (options.wanted('fan-in')) {
      const url = `${base}/api/v1/connections/${world.bob}/token`;
      await loader.ask({ kind: 'warm', url: `${base}/healthz`, callers: options.callers });
      // A burst on a token that expired while it waited: counted only when the provider saw a
      // grant during the burst and none while it waited (the server's scheduler, every 10 s,
      // may refresh the token in between, and then the burst would find it fresh).
      const timed = async (callers: number) => {
        for (let attempt = 1; ; attempt++) {
          const before = world.as.tokenRequests;
          await sleep(ttl * 1000 + 200);
          const waited = world.as.tokenRequests - before;
          const start = world.as.tokenRequests;
          const r = await loader.ask({ kind: 'burst', url, headers: admin, callers });
          const grants = world.as.tokenRequests - start;
          if (r.errors || r.distinctAnswers !== 1)
            throw new Error(`fan-in: ${r.errors} errors, ${r.distinctAnswers} distinct answers`);
          // Two at most: this one, and the scheduler's of the other connection.
          if (grants > 2) throw new Error(`fan-in: ${grants} grants for one burst`);
          if (waited === 0 && grants > 0) return r;
          if (attempt === 5) throw new Error('fan-in: the token was refreshed before each burst');
        }
      };
      for (const distanceMs of distances) {
        world.as.setTokenLatency(distanceMs);
        const away = awayOf(distanceMs);
        options.log(`fan-in${away}: warming up (load ${loadAverage()})`);
        await timed(1);
        await timed(options.callers);
        const single: number[] = [];
        const p99: number[] = [];
        // The same burst on a fresh token: what the callers cost without any refresh.
        const freshP99: number[] = [];
        const ratios: number[] = [];
        // The burst on an expired token against the same burst on a fresh token plus one
        // refresh: what sharing the refresh costs beyond the load itself.
        const overLoad: number[] = [];
        for (let i = 0; i < options.rounds; i++) {
          const one = i % 2 === 0 ? await timed(1) : undefined;
          const many = await timed(options.callers);
          const other = one ?? (await timed(1));
          const fresh = await loader.ask({
            kind: 'burst',
            url,
            headers: admin,
            callers: options.callers,
          });
          freshP99.push(fresh.p99Ms!);
          single.push(other.allMs!);
          p99.push(many.p99Ms!);
          ratios.push(many.p99Ms! / other.allMs!);
          overLoad.push(many.p99Ms! / (fresh.p99Ms! + other.allMs!));
          options.log(
            `fan-in${away} round ${i + 1}/${options.rounds}: one refresh ${other.allMs!.toFixed(1)} ms, ` +
              `${options.callers} callers p99 ${many.p99Ms!.toFixed(1)} ms, on a fresh token ` +
              `${fresh.p99Ms!.toFixed(1)} ms (load ${loadAverage()})`,
          );
        }
        const ratio = roundedSpread(spreadOf(ratios), 3);
        const ratioOverLoad = roundedSpread(spreadOf(overLoad), 3);
        const singleMs = spreadOf(single).median;
        const p99Ms = spreadOf(p99).median;
        const freshP99Ms = spreadOf(freshP99).median;
        // Over HTTPS the burst is bound by the route's throughput (1,000 answers take a few
        // hundred ms even on a fresh token), so the refresh's own share is the difference.
        results.push({
          name: `fan-in: ${options.callers} callers on an expired token (p99) vs one refresh, over HTTPS${away}`,
          cores,
          providerLatencyMs: distanceMs,
          singleMs: Number(singleMs.toFixed(1)),
          p99Ms: Number(p99Ms.toFixed(1)),
          freshP99Ms: Number(freshP99Ms.toFixed(1)),
          ratio,
          ratioOverLoad,
          loadAverage: loadAverage(),
          summary:
            `fan-in: ${options.callers} simultaneous callers of GET …/token on an expired token, p99 ` +
            `${p99Ms.toFixed(1)} ms = ${range(ratio)}× one caller's refresh (${singleMs.toFixed(1)} ms); ` +
            `the same burst on a fresh token p99 ${freshP99Ms.toFixed(1)} ms (so the refresh adds ` +
            `${(p99Ms - freshP99Ms).toFixed(1)} ms = ${((p99Ms - freshP99Ms) / singleMs).toFixed(2)}× one refresh; ` +
            `p99 = ${range(ratioOverLoad)}× of the fresh burst's p99 plus one refresh, round by round), ` +
            `outlink serve over HTTPS, callers in a load-generator process on open connections, ` +
            `${options.rounds} rounds${away}, ${cores} cores, load ${loadAverage()}`,
        } as { summary: string });
      }
      world.as.setTokenLatency(0);
    }

    if (options.wanted('soak')) {
      const samples: [number, number][] = [];
      // Before the soak: after the other token benchmarks when they ran first, idle otherwise.
      const beforeRssMb = rssOfMb(server.pid!);
      const start = performance.now();
      const load = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'bench/https-load.ts',
          JSON.stringify({
            url: `${base}/api/v1/connections/${world.alice}/token`,
            seconds: options.soakSeconds,
            connections: 10,
            headers: admin,
          }),
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(load);
      const done = lineOf(load, /^\{.*\}$/, 'the soak load generator');
      const sampler = setInterval(
        () => {
          samples.push([(performance.now() - start) / 1000, rssOfMb(server.pid!)]);
        },
        Math.min(5_000, (options.soakSeconds * 1000) / 10),
      );
      const [line] = await done;
      clearInterval(sampler);
      const result = JSON.parse(line) as { requestsPerSecond: number; errors: number };
      // The first fifth is warm-up (JIT, pools); the trend is taken over the rest.
      const steady = samples.filter(([t]) => t >= options.soakSeconds / 5);
      const slope = slopePerMinute(steady);
      const rss = samples.map(([, mb]) => mb);
      results.push({
        name: `soak: token API for ${options.soakSeconds}s, server RSS`,
        seconds: options.soakSeconds,
        requestsPerSecond: Math.round(result.requestsPerSecond),
        errors: result.errors,
        beforeRssMb: Math.round(beforeRssMb),
        firstRssMb: Math.round(rss[0] ?? 0),
        lastRssMb: Math.round(rss.at(-1) ?? 0),
        maxRssMb: Math.round(Math.max(...rss)),
        minSteadyRssMb: Math.round(Math.min(...steady.map(([, mb]) => mb))),
        slopeMbPerMinute: Number(slope.toFixed(2)),
        samples: samples.length,
        loadAverage: loadAverage(),
        summary:
          `soak: GET …/token for ${options.soakSeconds}s at ${Math.round(result.requestsPerSecond)}/s ` +
          `(${result.errors} errors): server RSS ${Math.round(beforeRssMb)} MB before, ` +
          `${Math.round(rss[0] ?? 0)} → ${Math.round(rss.at(-1) ?? 0)} MB (max ${Math.round(Math.max(...rss))}), ` +
          `slope ${slope.toFixed(2)} MB/min after warm-up over ${steady.length} samples, load ${loadAverage()}`,
      } as { summary: string });
    }
    // Ending the server cleanly writes its CPU profile.
    const exited = new Promise((r) => server.once('exit', r));
    stop(server);
    await exited;
    return results;
  } finally {
    for (const child of children) stop(child);
    await world.outlink.database.drop();
    await world.proxy.close();
    await world.as.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
