import { type Config, loadConfig } from '../config/config.js';
import { type Locale, translate } from '../i18n/i18n.js';
import { localeFromEnv } from '../i18n/locale.js';
import type { Services } from '../services/index.js';
import { printable, terminalSafe } from './terminal.js';

/** The process edges a command may touch, passed in by the entry point. */
export interface CliIo {
  /** The environment: the config boundary (`loadConfig`) and the locale read it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdin: AsyncIterable<string | Buffer> & { readonly isTTY?: boolean };
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
}

/** What `outlink serve` reports once it listens, for its start banner. */
export interface ServingInfo {
  /** The address actually bound (the port may have been 0). */
  readonly address: { readonly host: string; readonly port: number };
  /** Whether the listener speaks TLS (`OUTLINK_TLS` is not `off`). */
  readonly tls: boolean;
  /** SHA-256 fingerprint of the TLS certificate, when serving TLS. */
  readonly fingerprint?: string;
  /** True when the certificate was generated into the data folder. */
  readonly certificateGenerated: boolean;
}

/**
 * What the CLI needs from the composition root, which passes it in: the CLI never imports
 * the entry points or the composition root, so the dependency points one way.
 */
export interface CliHost {
  /**
   * Composes the same services the server uses over `config`; the caller closes them. A
   * generated admin password is handed to `onGeneratedAdminPassword`, never logged.
   */
  openServices(
    config: Config,
    options: { onGeneratedAdminPassword(password: string, file: string): void },
  ): Promise<Services>;
  /**
   * Starts the HTTPS server and resolves once it listens; from then on SIGTERM and SIGINT
   * close it and end the process.
   */
  serve(
    config: Config,
    options: { onGeneratedAdminPassword(password: string, file: string): void },
  ): Promise<ServingInfo>;
  /**
   * Starts the background worker (scheduler and mail poller) and resolves once it runs; from
   * then on SIGTERM and SIGINT stop it and end the process.
   */
  work(
    config: Config,
    options: { onGeneratedAdminPassword(password: string, file: string): void },
  ): Promise<void>;
}

/** What every command gets: output channels, translation, the environment and the host. */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly locale: Locale;
  readonly stdin: CliIo['stdin'];
  readonly host: CliHost;
  /** A line of data or result on stdout. */
  out(line: string): void;
  /** A line of diagnostics (progress, warnings, errors) on stderr. */
  err(line: string): void;
  t(key: string, params?: Readonly<Record<string, string | number>>): string;
  /** Whether stderr is a terminal (a progress bar redraws; else progress is plain lines). */
  readonly terminal: boolean;
  /** Redraws the progress line on a terminal (no newline); nothing elsewhere. */
  status(line: string): void;
}

export function createContext(io: CliIo, host: CliHost): CliContext {
  const locale = localeFromEnv(io.env);
  return {
    env: io.env,
    cwd: io.cwd,
    locale,
    stdin: io.stdin,
    host,
    // Every line goes through `terminalSafe`: whatever a value from outside holds, no
    // control character reaches the terminal (values on one line are `printable` first).
    out: (line) => io.stdout.write(`${terminalSafe(line)}\n`),
    err: (line) => io.stderr.write(`${terminalSafe(line)}\n`),
    t: (key, params) => translate(locale, key, params),
    terminal: io.stderr.isTTY === true,
    status: (line) => {
      if (io.stderr.isTTY === true) io.stderr.write(`\r\x1b[K${terminalSafe(printable(line))}`);
    },
  };
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
  const services = await ctx.host.openServices(loadCliConfig(ctx), {
    onGeneratedAdminPassword: (password, file) =>
      ctx.err(ctx.t('cli.admin_password_generated', { password, file })),
  });
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}
