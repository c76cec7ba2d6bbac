import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startOnFreePorts } from '../support/ports.js';

/**
 * A PostgreSQL server of the test's own, for tests that stop and start the database: the
 * machine's server at 127.0.0.1:5432 is shared by every test (and every other program), so
 * it is never stopped. `initdb` into a fresh temporary directory, `pg_ctl start` on a free
 * loopback port, trust authentication for the role `postgres`, no fsync (the data lives as
 * long as the test). The server runs as the `postgres` user, since `initdb` refuses root; a
 * watchdog stops it and deletes its directory if the test process dies without `close()`.
 */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, for `createTestDatabase`. */
  readonly adminUrl: string;
  readonly port: number;
  /** `pg_ctl stop` (`fast` by default: sessions are terminated, as in a restart). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** `pg_ctl start` again on the same directory and port; resolves once it accepts. */
  start(): Promise<void>;
  /** Stops the server if it runs and deletes its directory. */
  close(): Promise<void>;
}

const run = promisify(execFile);

/** Where Debian puts the server binaries: the newest installed major version. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) {
    throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql: run scripts/test');
  }
  return join(root, versions[0], 'bin');
}

/** `command args` as the `postgres` user (root: runuser; others: sudo). */
function postgresArgv(command: string, args: readonly string[]): [string, string[]] {
  if (userInfo().username === 'postgres') return [command, [...args]];
  if (process.getuid?.() === 0) return ['runuser', ['-u', 'postgres', '--', command, ...args]];
  return ['sudo', ['-n', '-u', 'postgres', command, ...args]];
}

/** Runs a server binary as the `postgres` user. */
async function asPostgres(command: string, args: readonly string[]): Promise<string> {
  const [file, argv] = postgresArgv(command, args);
  const { stdout } = await run(file, argv, { timeout: 60_000 });
  return stdout;
}

/**
 * A watchdog that stops the server and deletes its directory once this process's end of its
 * stdin closes: at `close()`, or when the test process dies without running it, so that the
 * server stops by itself.
 */
function startWatchdog(pgCtl: string, data: string, dir: string): ChildProcess {
  const script = 'cat >/dev/null; "$0" stop -D "$1" -m immediate >/dev/null 2>&1; rm -rf "$2"';
  const [file, argv] = postgresArgv('sh', ['-c', script, pgCtl, data, dir]);
  const watchdog = spawn(file, argv, { stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.unref();
  return watchdog;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'outlink-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  let port = 0;
  let running = false;
  let watchdog: ChildProcess | undefined;
  const endWatchdog = async () => {
    const dog = watchdog;
    if (!dog || dog.exitCode !== null || dog.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => dog.once('exit', () => resolve()));
    dog.stdin?.end();
    await Promise.race([exited, sleep(10_000)]);
  };
  try {
    // initdb writes as the postgres user, who must own the directory.
    if (process.getuid?.() === 0) {
      const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout);
      chownSync(dir, await id('-u'), await id('-g'));
    }
    await asPostgres(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    const pgCtl = (args: readonly string[]) => asPostgres(join(bin, 'pg_ctl'), args);
    watchdog = startWatchdog(join(bin, 'pg_ctl'), data, dir);
    const options = (p: number) =>
      `-c listen_addresses=127.0.0.1 -c port=${p} -c unix_socket_directories=${dir} ` +
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100';
    const start = async () => {
      await pgCtl(['start', '-w', '-t', '30', '-D', data, '-l', logFile, '-o', options(port)]);
      running = true;
    };
    port = await startOnFreePorts(
      1,
      async ([p], release) => {
        port = p as number;
        rmSync(logFile, { force: true });
        await release();
        await start();
        return port;
      },
      {
        // pg_ctl only says the server did not start; its log says why.
        addressInUse: () =>
          existsSync(logFile) &&
          /could not bind|already in use/i.test(readFileSync(logFile, 'utf8')),
      },
    );
    return {
      adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      async stop(mode = 'fast') {
        await pgCtl(['stop', '-w', '-t', '30', '-D', data, '-m', mode]);
        running = false;
      },
      start,
      async close() {
        if (running) {
          await pgCtl(['stop', '-w', '-t', '30', '-D', data, '-m', 'immediate']).catch(() => {});
          running = false;
        }
        await endWatchdog();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (running) {
      await asPostgres(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate']).catch(
        () => {},
      );
    }
    await endWatchdog();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
