import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { benchCluster } from './cluster.js';
import { benchHttpsRoutes } from './https-routes.js';
import { benchMail } from './mail.js';
import { benchMailHandler } from './mail-handler.js';
import { benchPop3 } from './pop3.js';
import { benchTokens } from './tokens.js';
import { benchRefreshDue } from './tokens-refresh.js';

/**
 * `npm run bench`: every benchmark, each reported as a ratio to a baseline measured in the
 * same run. `--seconds=N` sets the length of each throughput round (default 5); `--quick`
 * runs smaller sizes as a smoke test; `--only=a,b` runs the named ones (routes; refresh,
 * memory and startup, which run together; tokens = refresh-api, fan-in and soak; mail,
 * mail-handler, pop3); `--json` prints the results as JSON instead of the summaries.
 * The refresh benchmark takes `--connections=N` (default 10000, quick 1000),
 * `--rounds=N` and `--raw-client=outlink` (its baseline loop over Outlink's HTTP client
 * instead of the global fetch); the token ones `--rounds=N`, `--soak=SECONDS` (default 60, quick 10; the
 * issue's 10-minute soak is `--soak=600`) and `--provider-ms=N` (refresh-api and fan-in once
 * more with the provider's token endpoint held N ms, a provider at a distance; default 20,
 * 0 for loopback only). Every figure quotes the load average.
 * The mail handler benchmark also takes `--messages=N` (default 10000, quick 1000),
 * `--rounds=N` (counted rounds, default 5), `--parse` (side C: fetch + mailparser) and
 * `--cpu-prof` (CPU profiles of its Outlink children, in bench/results/profiles).
 * `--only=cluster` (never run otherwise) measures cluster mode on PostgreSQL: refresh
 * throughput with 1, 2 and 3 nodes on `--connections=N` (default 10000, quick 1000) over
 * `--rounds=N` (default 3), and the takeover time after a node is killed.
 */
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = flag('quick');
const json = flag('json');
const secondsArg = value('seconds');
const seconds = secondsArg ? Number(secondsArg) : quick ? 1 : 5;
const only = value('only')?.split(',');
const wanted = (name: string) => !only || only.includes(name);
// With --json, progress goes to stderr so that stdout is the JSON alone.
const log = (line: string) => (json ? console.error(line) : console.log(line));

// `outlink serve` is measured as `npm start` runs it, from the compiled dist/ (SHIPPED_CLI).
log('building dist/ (npm run build)');
execFileSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });

const results: { summary: string }[] = [];
const profiles = 'bench/results/profiles';
if (flag('cpu-prof')) mkdirSync(profiles, { recursive: true });
if (wanted('routes'))
  results.push(
    ...(await benchHttpsRoutes({
      seconds,
      rounds: quick ? 1 : 5,
      connections: 10,
      log,
      ...(flag('cpu-prof') ? { cpuProfileDir: profiles } : {}),
    })),
  );
if (['tokens', 'refresh-api', 'fan-in', 'soak'].some(wanted))
  results.push(
    ...(await benchTokens({
      seconds,
      rounds: Number(value('rounds') ?? (quick ? 2 : 5)),
      callers: 1_000,
      soakSeconds: Number(value('soak') ?? (quick ? 10 : 60)),
      providerMs: Number(value('provider-ms') ?? 20),
      wanted: (name) => wanted('tokens') || wanted(name),
      log,
      ...(flag('cpu-prof') ? { cpuProfileDir: profiles } : {}),
    })),
  );
if (wanted('refresh') || wanted('memory') || wanted('startup'))
  results.push(
    ...(await benchRefreshDue({
      connections: Number(value('connections') ?? (quick ? 1000 : 10_000)),
      concurrency: 8,
      rounds: Number(value('rounds') ?? (quick ? 2 : 5)),
      log,
      ...(flag('cpu-prof') ? { cpuProfileDir: profiles } : {}),
      ...(value('raw-client') === 'outlink' ? { rawClient: 'outlink' as const } : {}),
    })),
  );
if (wanted('mail'))
  results.push(...(await benchMail({ seconds: quick ? 1 : 3, rounds: quick ? 1 : 5, log })));
if (wanted('pop3')) {
  // --messages is the mail handler's; the POP3 download is fixed at 1,000 (100 with --quick).
  results.push(
    await benchPop3({
      messages: quick ? 100 : 1000,
      rounds: quick ? 1 : Number(value('rounds') ?? 5),
      downloads: quick ? 1 : 7,
      log,
    }),
  );
}
if (wanted('mail-handler')) {
  results.push(
    await benchMailHandler({
      messages: Number(value('messages') ?? (quick ? 1000 : 10_000)),
      rounds: Number(value('rounds') ?? (quick ? 2 : 5)),
      parse: flag('parse'),
      ...(flag('cpu-prof')
        ? { outlinkNodeOptions: ['--cpu-prof', `--cpu-prof-dir=${profiles}`] }
        : {}),
      log,
    }),
  );
}
// Cluster mode (issue 14) runs only when asked: PostgreSQL and three node processes.
if (only?.includes('cluster'))
  results.push(
    ...(await benchCluster({
      connections: Number(value('connections') ?? (quick ? 1000 : 10_000)),
      rounds: Number(value('rounds') ?? (quick ? 1 : 3)),
      takeovers: quick ? 1 : 3,
      log,
    })),
  );
if (json) console.log(JSON.stringify(results, null, 2));
else for (const r of results) console.log(r.summary);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);
