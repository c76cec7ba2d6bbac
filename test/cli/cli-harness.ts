import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli as runCliInProcess } from '../../src/cli/run.js';
import { compose, type Services } from '../../src/compose.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import { ADMIN_PASSWORD, captureLog, type TestDatabase } from '../support/harness.js';

/** The repository root: the CLI runs from there, as `npm run outlink` does. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const CLI_ARGS = ['--import', 'tsx', 'src/cli/main.ts'];

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
  return cleanEnv({
    OUTLINK_DATA_DIR: database.dataDir,
    OUTLINK_DATABASE_URL: database.url,
    OUTLINK_ADMIN_PASSWORD: ADMIN_PASSWORD,
    OUTLINK_LOG_LEVEL: 'warn',
    ...extra,
  });
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
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
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
  const config = loadConfig({
    OUTLINK_DATA_DIR: database.dataDir,
    OUTLINK_DATABASE_URL: database.url,
    OUTLINK_ADMIN_PASSWORD: ADMIN_PASSWORD,
  });
  return compose(config, {
    log: createLogger({ level: 'warn', destination: captureLog().stream }),
  });
}

/**
 * Runs a command line inside this process through the same `runCli` that `main.ts` calls.
 * Spawning costs about a second of CPU each under tsx, so large matrices of help and usage
 * cases run here, while the spawned runs prove the entry point's own wiring.
 */
export async function runInProcess(
  args: readonly string[],
  options: { env: Record<string, string>; input?: string },
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCliInProcess(args, {
    env: options.env,
    cwd: ROOT,
    stdin: Readable.from(options.input ? [options.input] : []),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}
