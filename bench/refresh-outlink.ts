/**
 * The Outlink side of the refresh benchmark, in a process of its own: the composition root
 * of the built `dist/` as `outlink worker` builds it (config from the environment, the
 * global fetch, the default log level), its scheduler driven tick after tick until nothing is due. Commands arrive as
 * JSON lines on stdin, answers leave as JSON lines on stdout:
 * - `{"load": file, "linkId", "issuer"}` stores the refresh tokens in `file` as due
 *   connections of the link (not timed), answers `{"loaded": n}`;
 * - `{"run": true}` refreshes until nothing is due, answers `{"ms", "refreshed", "failed",
 *   "cpuUs", "rssMb", "peakRssMb"}` (the process's CPU time during the run; RSS sampled every
 *   100 ms).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { insertDueConnections } from '../test/support/due-connections.js';

// The compiled dist/ (bench/run.ts builds it), as `outlink worker` runs it; typed by the sources.
const dist = (path: string) => `../dist/${path}`;
const { loadConfig } = (await import(
  dist('config/config.js')
)) as typeof import('../src/config/config.js');
const { compose } = (await import(
  dist('main/compose.js')
)) as typeof import('../src/main/compose.js');
const { createLogger } = (await import(dist('main/log.js'))) as typeof import('../src/main/log.js');

const SCOPE = 'openid email offline_access';
const config = loadConfig(process.env);
const services = await compose(config, {
  log: createLogger({ level: config.logLevel }),
  longRunning: true,
  schedulerOptions: { concurrency: Number(process.env.BENCH_CONCURRENCY ?? 8) },
});
const { db } = services.store;
const { cipher } = services;

async function load(file: string, linkId: string, issuer: string): Promise<number> {
  const tokens = JSON.parse(readFileSync(file, 'utf8')) as string[];
  await db.deleteFrom('connections').where('link_id', '=', linkId).execute();
  await insertDueConnections(db, cipher, {
    linkId,
    issuer,
    scope: SCOPE,
    accountPrefix: 'bench',
    refreshTokens: tokens,
  });
  return tokens.length;
}

async function run() {
  const rssMb = () => process.memoryUsage().rss / 2 ** 20;
  let peak = rssMb();
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb());
  }, 100);
  const start = performance.now();
  // The whole process's: the WAL checkpoint thread's CPU counts too.
  const cpu = process.cpuUsage();
  let refreshed = 0;
  let failed = 0;
  for (;;) {
    const tick = await services.scheduler.tick();
    refreshed += tick.refreshed;
    failed += tick.failed;
    if (tick.due === 0) break;
  }
  const ms = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  clearInterval(sampler);
  return { ms, refreshed, failed, cpuUs: user + system, rssMb: rssMb(), peakRssMb: peak };
}

const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
say({ ready: true, rssMb: process.memoryUsage().rss / 2 ** 20 });
for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { load?: string; linkId?: string; issuer?: string };
  if (command.load) say({ loaded: await load(command.load, command.linkId!, command.issuer!) });
  else say(await run());
}
await services.close();
