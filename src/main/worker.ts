import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Fetch } from '../oauth/discovery.js';
import { compose } from './compose.js';
import { closeOnSignals } from './serve.js';

export interface RunningWorker {
  close(): Promise<void>;
}

/**
 * `outlink worker`: the background work without the web server — token refreshes and
 * webhook deliveries (the scheduler), the mail handler's polling, IDLE watchers and
 * acknowledgements (the mail poller). Any number of workers and servers may share a
 * database: leases keep each mailbox and each refresh to one of them at a time.
 */
export async function startWorker(
  config: Config,
  options: {
    readonly log: Logger;
    readonly fetch?: Fetch;
    readonly onGeneratedAdminPassword?: (password: string, file: string) => void;
  },
): Promise<RunningWorker> {
  const services = await compose(config, {
    log: options.log,
    longRunning: true,
    fetch: options.fetch,
    onGeneratedAdminPassword: options.onGeneratedAdminPassword,
  });
  try {
    await services.node.start('worker');
  } catch (error) {
    await services.close();
    throw error;
  }
  services.scheduler.start();
  services.webhookDispatcher.start();
  services.notifier.start();
  services.mailPoller.start();
  // The jobs' timers do not hold the process open (they must not keep a CLI command
  // alive); a worker has nothing else to wait for, so this one does until it is closed.
  const alive = setInterval(() => undefined, 60_000);
  let closing: Promise<void> | undefined;
  return {
    close: () => {
      closing ??= (async () => {
        clearInterval(alive);
        await services.close();
      })();
      return closing;
    },
  };
}

/** Starts a worker whose SIGTERM and SIGINT close it and end the process. */
export async function runWorker(
  config: Config,
  options: Parameters<typeof startWorker>[1],
): Promise<void> {
  const worker = await startWorker(config, options);
  closeOnSignals(worker, options.log);
  options.log.info('worker started: token refreshes, webhooks, mail handler');
}
