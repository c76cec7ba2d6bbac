import { createLogger } from '../main/log.js';
import { defineCommand } from './command.js';
import { loadCliConfig } from './context.js';
import { CliError } from './failures.js';

/** `outlink serve`: the HTTPS server; the banner goes to stdout, the log to stderr. */
export const serveCommand = defineCommand({
  path: ['serve'],
  summary: 'cli.serve.summary',
  details: 'cli.serve.details',
  options: {},
  async run(ctx) {
    const config = loadCliConfig(ctx);
    const log = createLogger({ level: config.logLevel });
    // Loaded on demand: `--help` and usage errors should not pay for the whole server.
    const { closeOnSignals, startServer } = await import('../main/serve.js');
    const server = await startServer(config, { log, print: (line) => ctx.out(line) }).catch(
      (error: unknown) => {
        const code = (error as { code?: unknown }).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
          throw new CliError(
            'listen_failed',
            { address: `${config.listen.host}:${config.listen.port}`, problem: String(code) },
            error,
          );
        }
        throw error;
      },
    );
    closeOnSignals(server, log);
    // The listener keeps the process alive; the signal handlers end it.
    return 0;
  },
});
