import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { ensureGeneratedCertificate, fingerprintOf } from '../crypto/tls-certificate.js';
import { buildApp } from '../http/app.js';
import type { MailPollerOptions } from '../jobs/mail-poller.js';
import type { SchedulerOptions } from '../jobs/scheduler.js';
import type { Fetch } from '../oauth/discovery.js';
import { type Composition, compose } from './compose.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly services: Composition;
  /** The address actually bound (the port may have been 0). */
  readonly address: { host: string; port: number };
  /** Whether the listener speaks TLS (`OUTLINK_TLS` is not `off`). */
  readonly tls: boolean;
  readonly fingerprint: string | undefined;
  /** True when the certificate was generated into the data folder. */
  readonly certificateGenerated: boolean;
  /** Stops accepting, finishes in-flight requests, closes the database. */
  close(): Promise<void>;
}

export interface ServeOptions {
  readonly log: Logger;
  readonly fetch?: Fetch;
  /** Called once with a generated admin password, which is never logged. */
  readonly onGeneratedAdminPassword?: (password: string, file: string) => void;
  /** The background loops' pace; tests of a cluster tick faster than the defaults. */
  readonly schedulerOptions?: Partial<SchedulerOptions>;
  readonly mailPollerOptions?: Partial<MailPollerOptions>;
}

/**
 * `outlink serve`: the HTTPS listener over the composed services, the scheduler and the mail
 * poller.
 */
export async function startServer(config: Config, options: ServeOptions): Promise<RunningServer> {
  const services = await compose(config, {
    log: options.log,
    longRunning: true,
    fetch: options.fetch,
    onGeneratedAdminPassword: options.onGeneratedAdminPassword,
    schedulerOptions: options.schedulerOptions,
    mailPollerOptions: options.mailPollerOptions,
  });
  try {
    const tls = await loadTls(config);
    const app = await buildApp(services, {
      fastify: tls ? { https: { cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2' } } : {},
    });
    await app.listen({ host: config.listen.host, port: config.listen.port });
    await services.node.start('serve');
    services.scheduler.start();
    services.webhookDispatcher.start();
    services.notifier.start();
    services.mailPoller.start();
    const bound = app.server.address();
    const address =
      typeof bound === 'object' && bound
        ? { host: bound.address, port: bound.port }
        : { host: config.listen.host, port: config.listen.port };
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      address,
      tls: tls !== undefined,
      fingerprint: tls ? fingerprintOf(tls.certPem) : undefined,
      certificateGenerated: tls?.generated ?? false,
      close: () => {
        closing ??= (async () => {
          await app.close();
          await services.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await services.close();
    throw error;
  }
}

async function loadTls(config: Config) {
  switch (config.tls.mode) {
    case 'off':
      return undefined;
    case 'files':
      return {
        certPem: readFileSync(config.tls.certFile, 'utf8'),
        keyPem: readFileSync(config.tls.keyFile, 'utf8'),
        generated: false,
      };
    case 'generated':
      return ensureGeneratedCertificate(config.dataDir, config.baseUrl.hostname);
  }
}

/**
 * Closes the server on SIGTERM or SIGINT; a second signal exits at once. The entry point
 * owns the process, so only here does Outlink call `process.exit`.
 */
export function closeOnSignals(server: Pick<RunningServer, 'close'>, log: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
