import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli as runCliInProcess } from '../../src/cli/run.js';
import type { Clock } from '../../src/domain/clock.js';
import type { MailTimeouts, MailTlsOptions } from '../../src/mail/endpoint.js';
import { createCliHost } from '../../src/main/cli-host.js';
import type { Composition as Services } from '../../src/main/compose.js';
import type { Fetch } from '../../src/oauth/discovery.js';
import { databaseConfigEnv, startServices, type TestDatabase } from '../support/harness.js';

/** The repository root: the CLI runs from there, as `npm run outlink` does. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const CLI_ARGS = ['--import', 'tsx', 'src/main/cli.ts'];

/** What a finished CLI run left behind. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of a child CLI: this process's minus every `OUTLINK_*` and locale
 * variable, so that a developer's shell cannot change what a test sees.
 */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (key.startsWith('OUTLINK_') || key === 'LANG' || key.startsWith('LC_')) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** The environment that points the CLI at a test database. */
export function databaseEnv(
  database: TestDatabase,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return cleanEnv({ ...databaseConfigEnv(database), OUTLINK_LOG_LEVEL: 'warn', ...extra });
}

/** Starts `outlink <args>` as a child process; stdin is left open for the caller. */
export function spawnCli(args: readonly string[], env: Record<string, string>) {
  return spawn(process.execPath, [...CLI_ARGS, ...args], {
    cwd: ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/**
 * Runs `outlink <args>` to completion, feeding `input` (or nothing) on stdin. A run that
 * outlives `timeoutMs` is killed by its pid and fails the test.
 */
export async function runCli(
  args: readonly string[],
  options: { env: Record<string, string>; input?: string; timeoutMs?: number },
): Promise<CliResult> {
  const child = spawnCli(args, options.env);
  const done = collect(child);
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
  try {
    const result = await done;
    if (result.code === null) {
      throw new Error(`outlink ${args.join(' ')} was killed\n${result.stderr}`);
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

function collect(child: ChildProcessWithoutNullStreams): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The first line of stderr: `error <code>: <message>` for a failure. */
export function errorCode(result: CliResult): string | undefined {
  return /^error ([a-z_]+):/.exec(result.stderr)?.[1];
}

/** The same services the CLI composes, over the same database, for checking its effects. */
export async function servicesFor(database: TestDatabase): Promise<Services> {
  return (await startServices(database, { env: { OUTLINK_LOG_LEVEL: 'warn' } })).services;
}

/**
 * Runs a command line inside this process through the same `runCli` and host that
 * `src/main/cli.ts` uses.
 * Spawning costs about a second of CPU each under tsx, so large matrices of help and usage
 * cases run here, while the spawned runs prove the entry point's own wiring.
 */
export async function runInProcess(
  args: readonly string[],
  options: InProcessOptions,
): Promise<CliResult> {
  return startInProcess(args, options).done;
}

export interface InProcessOptions {
  readonly env: Record<string, string>;
  readonly input?: string;
  /** What the composed services fetch with: one that trusts the test CA (`as.fetch`). */
  readonly fetch?: Fetch;
  /** The services' clock, for expiry shown relative to "now". */
  readonly clock?: Clock;
  /** Mail servers' TLS trust (the test CA) and step timeouts. */
  readonly mailTls?: MailTlsOptions;
  readonly mailTimeouts?: Partial<MailTimeouts>;
}

/** A command line that is still running, with what it printed so far. */
export interface RunningCli {
  /** stdout and stderr up to now. */
  output(): { readonly stdout: string; readonly stderr: string };
  /** Resolves with the first match of `pattern` in `stream`, once it has been printed. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<string>;
  readonly done: Promise<CliResult>;
}

/** `runInProcess` without waiting: for commands a test must answer while they run. */
export function startInProcess(args: readonly string[], options: InProcessOptions): RunningCli {
  const out = { stdout: '', stderr: '' };
  const done = runCliInProcess(
    args,
    {
      env: options.env,
      cwd: ROOT,
      stdin: Readable.from(options.input ? [options.input] : []),
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
    },
    createCliHost({
      fetch: options.fetch,
      clock: options.clock,
      mailTls: options.mailTls,
      mailTimeouts: options.mailTimeouts,
    }),
  ).then((code) => ({ code, ...out }));
  return running(out, done);
}

/**
 * `outlink <args>` as a child process that a test answers while it runs; killed by its pid
 * after `timeoutMs` or by `kill()`.
 */
export function startChild(
  args: readonly string[],
  options: { env: Record<string, string>; timeoutMs?: number },
): RunningCli & { kill(): void } {
  const child = spawnCli(args, options.env);
  child.stdin.end();
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out.stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    out.stderr += chunk;
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL');
    }
  };
  const timer = setTimeout(kill, options.timeoutMs ?? 60_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...out });
    });
  });
  return { ...running(out, done), kill };
}

function running(
  out: { readonly stdout: string; readonly stderr: string },
  done: Promise<CliResult>,
): RunningCli {
  let finished = false;
  void done.then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  return {
    output: () => ({ stdout: out.stdout, stderr: out.stderr }),
    async waitFor(pattern, stream = 'stdout', timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(out[stream]);
        if (match) return match[0];
        if (finished || Date.now() > deadline) {
          throw new Error(
            `${pattern} never appeared on ${stream}\nstdout: ${out.stdout}\nstderr: ${out.stderr}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    done,
  };
}
