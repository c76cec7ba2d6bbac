import type { CliHost } from '../cli/context.js';
import type { Clock } from '../domain/clock.js';
import type { MailTimeouts, MailTlsOptions } from '../mail/endpoint.js';
import type { Fetch } from '../oauth/discovery.js';
import { createLogger } from './log.js';

/**
 * What the composed services reach providers and mail servers with and tell time by: the
 * global `fetch`, Node's TLS roots and the system clock unless given. Tests give a `fetch`
 * and a mail CA that trust their peers, and a clock they can move; `cli.ts` gives none.
 */
export interface CliHostOptions {
  readonly fetch?: Fetch;
  readonly clock?: Clock;
  readonly mailTls?: MailTlsOptions;
  readonly mailTimeouts?: Partial<MailTimeouts>;
}

/**
 * The composition root's side of the CLI: composing services and serving, which the CLI
 * asks for through `CliHost` instead of importing `main/`. Modules load on demand, so that
 * `--help` and usage errors do not pay for the whole server.
 */
export function createCliHost(options: CliHostOptions = {}): CliHost {
  return {
    async openServices(config, { onGeneratedAdminPassword }) {
      const { compose } = await import('./compose.js');
      return compose(config, {
        // pino writes to fd 2: stdout carries only a command's data (`outlink token` relies on it).
        log: createLogger({ level: config.logLevel }),
        fetch: options.fetch,
        clock: options.clock,
        mailTls: options.mailTls,
        mailTimeouts: options.mailTimeouts,
        onGeneratedAdminPassword,
      });
    },
    async serve(config, { onGeneratedAdminPassword }) {
      const log = createLogger({ level: config.logLevel });
      const { closeOnSignals, startServer } = await import('./serve.js');
      const server = await startServer(config, {
        log,
        fetch: options.fetch,
        onGeneratedAdminPassword,
      });
      closeOnSignals(server, log);
      const { address, tls, fingerprint, certificateGenerated } = server;
      return { address, tls, certificateGenerated, ...(fingerprint ? { fingerprint } : {}) };
    },
    async work(config, { onGeneratedAdminPassword }) {
      const { runWorker } = await import('./worker.js');
      await runWorker(config, {
        log: createLogger({ level: config.logLevel }),
        fetch: options.fetch,
        onGeneratedAdminPassword,
      });
    },
  };
}
