import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { ensureGeneratedCertificate, fingerprintOf } from '../crypto/tls-certificate.js';
import { buildApp } from '../http/app.js';
import type { Fetch } from '../oauth/discovery.js';
import { type Composition, compose } from './compose.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly services: Composition;
  /** The address actually bound (the port may have been 0). */
  readonly address: { host: string; port: number };
  readonly fingerprint: string | undefined;
  /** Stops accepting, finishes in-flight requests, closes the database. */
  close(): Promise<void>;
}

export interface ServeOptions {
  readonly log: Logger;
  readonly fetch?: Fetch;
  /** Where the start banner goes (the URL, fingerprint, a generated admin password). */
  readonly print: (line: string) => void;
}

/** `outlink serve`: the HTTPS listener over the composed services. */
export async function startServer(config: Config, options: ServeOptions): Promise<RunningServer> {
  const services = await compose(config, {
    log: options.log,
    fetch: options.fetch,
    onGeneratedAdminPassword: (password, file) => {
      options.print(
        `Generated the password of user "admin" (shown once; also in ${file}): ${password}`,
      );
    },
  });
  try {
    const tls = await loadTls(config);
    const app = await buildApp(services, {
      fastify: tls ? { https: { cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2' } } : {},
    });
    await app.listen({ host: config.listen.host, port: config.listen.port });
    services.scheduler.start();
    const bound = app.server.address();
    const address =
      typeof bound === 'object' && bound
        ? { host: bound.address, port: bound.port }
        : { host: config.listen.host, port: config.listen.port };
    const fingerprint = tls ? fingerprintOf(tls.certPem) : undefined;
    options.print(
      `Outlink is serving ${config.baseUrl.href} (listening on ${tls ? 'https' : 'http'}://${address.host}:${address.port})`,
    );
    if (fingerprint) {
      options.print(
        `TLS certificate SHA-256 fingerprint: ${fingerprint}${tls?.generated ? ' (generated)' : ''}`,
      );
    }
    if (!config.baseUrlIsHttps) {
      options.print(
        'Warning: the base URL is not https://, so links cannot be created or authorized.',
      );
    }
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      address,
      fingerprint,
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

/** Closes the server on SIGTERM or SIGINT; a second signal exits at once. */
export function closeOnSignals(server: RunningServer, log: Logger): void {
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
