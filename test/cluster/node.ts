/**
 * One cluster node for the tests and the cluster benchmark, in a process of its own: what
 * `outlink serve` runs (configuration from the environment, `startServer`, the scheduler, the
 * webhook dispatcher and the mail poller, SIGTERM handling), with the background loops'
 * pace taken from `OUTLINK_TEST_JOBS` (JSON `{scheduler?, mailPoller?}`), since tokens that
 * live 20 seconds need a scheduler that looks more often than every 30. Prints one JSON line,
 * `{"port": n}`, once it listens.
 */
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/main/log.js';
import { closeOnSignals, startServer } from '../../src/main/serve.js';

const jobs = JSON.parse(process.env.OUTLINK_TEST_JOBS ?? '{}') as {
  scheduler?: Record<string, number>;
  mailPoller?: Record<string, number | boolean>;
};
// Configuration from the environment, as the CLI reads it (only Outlink's own variables).
const config = loadConfig(process.env);
const log = createLogger({ level: config.logLevel });
const server = await startServer(config, {
  log,
  ...(jobs.scheduler ? { schedulerOptions: jobs.scheduler } : {}),
  ...(jobs.mailPoller ? { mailPollerOptions: jobs.mailPoller } : {}),
});
closeOnSignals(server, log);
process.stdout.write(`${JSON.stringify({ port: server.address.port, pid: process.pid })}\n`);
