import { type Config, loadConfig } from '../config/config.js';
import type { Clock } from '../domain/clock.js';
import { type Locale, translate } from '../i18n/i18n.js';
import type { MailTimeouts, MailTlsOptions } from '../mail/endpoint.js';
import { createLogger } from '../main/log.js';
import type { Fetch } from '../oauth/discovery.js';
import type { Services } from '../services/index.js';

/** The process edges a command may touch, passed in by `main.ts`. */
export interface CliIo {
  /** The environment: the config boundary (`loadConfig`) and the locale read it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdin: AsyncIterable<string | Buffer> & { readonly isTTY?: boolean };
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /**
   * What the composed services reach providers with and tell time by: the global `fetch` and
   * the system clock unless given. Tests give a `fetch` that trusts their CA and a clock they
   * can move; `main.ts` gives neither.
   */
  readonly fetch?: Fetch;
  readonly clock?: Clock;
  /** Mail servers' TLS trust and step timeouts (tests: their CA); Node's roots otherwise. */
  readonly mailTls?: MailTlsOptions;
  readonly mailTimeouts?: Partial<MailTimeouts>;
}

/** What every command gets: output channels, translation and the environment. */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly locale: Locale;
  readonly stdin: CliIo['stdin'];
  /** A line of data or result on stdout. */
  out(line: string): void;
  /** A line of diagnostics (progress, warnings, errors) on stderr. */
  err(line: string): void;
  t(key: string, params?: Readonly<Record<string, string | number>>): string;
  /** See `CliIo.fetch`, `CliIo.clock` and `CliIo.mailTls`. */
  readonly fetch?: Fetch;
  readonly clock?: Clock;
  readonly mailTls?: MailTlsOptions;
  readonly mailTimeouts?: Partial<MailTimeouts>;
}

export function createContext(io: CliIo): CliContext {
  const locale = localeFromEnv(io.env);
  return {
    env: io.env,
    cwd: io.cwd,
    locale,
    stdin: io.stdin,
    out: (line) => io.stdout.write(`${line}\n`),
    err: (line) => io.stderr.write(`${line}\n`),
    t: (key, params) => translate(locale, key, params),
    ...(io.fetch ? { fetch: io.fetch } : {}),
    ...(io.clock ? { clock: io.clock } : {}),
    ...(io.mailTls ? { mailTls: io.mailTls } : {}),
    ...(io.mailTimeouts ? { mailTimeouts: io.mailTimeouts } : {}),
  };
}

/**
 * Japanese when the POSIX locale says so, else English. `LC_ALL` overrides `LC_MESSAGES`,
 * which overrides `LANG` (POSIX.1-2017 §8.2).
 */
export function localeFromEnv(env: Readonly<Record<string, string | undefined>>): Locale {
  const value = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((v) => v !== undefined && v !== '');
  return value?.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}

/** The frozen configuration from the environment the CLI was started with. */
export function loadCliConfig(ctx: CliContext): Config {
  return loadConfig(ctx.env, ctx.cwd);
}

/**
 * Composes the same services the server uses, runs `fn` and closes them. A generated admin
 * password is shown on stderr, so that stdout stays clean for scripts.
 */
export async function withServices<T>(
  ctx: CliContext,
  fn: (services: Services) => Promise<T>,
): Promise<T> {
  const config = loadCliConfig(ctx);
  // Loaded on demand: `--help` and usage errors should not pay for the whole server.
  const { compose } = await import('../main/compose.js');
  const services = await compose(config, {
    // pino writes to fd 2: stdout carries only a command's data (`outlink token` relies on it).
    log: createLogger({ level: config.logLevel }),
    fetch: ctx.fetch,
    clock: ctx.clock,
    mailTls: ctx.mailTls,
    mailTimeouts: ctx.mailTimeouts,
    onGeneratedAdminPassword: (password, file) =>
      ctx.err(ctx.t('cli.admin_password_generated', { password, file })),
  });
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}
