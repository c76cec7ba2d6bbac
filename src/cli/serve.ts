import { defineCommand } from './command.js';
import { loadCliConfig } from './context.js';
import { CliError } from './failures.js';

/** Listen errors that mean "this address cannot be served from here". */
const LISTEN_FAILURES = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

/** `outlink serve`: the HTTPS server; the banner goes to stdout, the log to stderr. */
export const serveCommand = defineCommand({
  path: ['serve'],
  summary: 'cli.serve.summary',
  details: 'cli.serve.details',
  options: {},
  async run(ctx) {
    const config = loadCliConfig(ctx);
    const serving = await ctx.host
      .serve(config, {
        onGeneratedAdminPassword: (password, file) =>
          ctx.out(ctx.t('cli.admin_password_generated', { password, file })),
      })
      .catch((error: unknown) => {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string' && LISTEN_FAILURES.has(code)) {
          throw new CliError(
            'listen_failed',
            { address: `${config.listen.host}:${config.listen.port}`, problem: code },
            error,
          );
        }
        throw error;
      });
    const { address, tls, fingerprint } = serving;
    ctx.out(
      ctx.t('cli.serve.serving', {
        baseUrl: config.baseUrl.href,
        listen: `${tls ? 'https' : 'http'}://${address.host}:${address.port}`,
      }),
    );
    if (fingerprint) {
      const key = serving.certificateGenerated
        ? 'cli.serve.fingerprint_generated'
        : 'cli.serve.fingerprint';
      ctx.out(ctx.t(key, { fingerprint }));
    }
    if (!config.baseUrlIsHttps) ctx.out(ctx.t('cli.serve.insecure_base_url'));
    // The listener keeps the process alive; the signal handlers end it.
    return 0;
  },
});

/** `outlink worker`: the background work alone (token refreshes, webhooks, the mail handler). */
export const workerCommand = defineCommand({
  path: ['worker'],
  summary: 'cli.worker.summary',
  details: 'cli.worker.details',
  options: {},
  async run(ctx) {
    const config = loadCliConfig(ctx);
    await ctx.host.work(config, {
      onGeneratedAdminPassword: (password, file) =>
        ctx.out(ctx.t('cli.admin_password_generated', { password, file })),
    });
    ctx.out(ctx.t('cli.worker.started'));
    // The worker keeps the process alive; the signal handlers end it.
    return 0;
  },
});
