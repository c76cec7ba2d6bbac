import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TLSSocket } from 'node:tls';
import { fingerprintOf, GENERATED_CERT_FILE } from '../../src/crypto/tls-certificate.js';
import { INITIAL_ADMIN_PASSWORD_FILE } from '../../src/main/compose.js';
import { cleanEnv, errorCode, runCli, spawnCli } from './cli-harness.js';

/** A running `outlink serve` child, with what its banner said. */
interface Served {
  readonly stdout: string[];
  readonly stderr: () => string;
  readonly port: number;
  readonly fingerprint: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal to this child (by its pid, never by name). */
  signal(signal: NodeJS.Signals): void;
}

const children: { kill(signal: NodeJS.Signals): boolean; exitCode: number | null }[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Spawns `outlink serve` and waits for the banner's fingerprint line. */
async function serve(env: Record<string, string>): Promise<Served> {
  const child = spawnCli(['serve'], env);
  children.push(child);
  child.stdin.end();
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const banner = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (/fingerprint: .*\n/.test(out)) resolve();
    });
    exited.then(() => reject(new Error(`serve exited before its banner:\n${out}\n${err}`)));
    setTimeout(() => reject(new Error(`no banner within 90 s:\n${out}\n${err}`)), 90_000).unref();
  });
  await banner;
  const port = Number(/listening on https:\/\/127\.0\.0\.1:(\d+)\)/.exec(out)?.[1]);
  const fingerprint = /fingerprint: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(out)?.[1];
  assert.ok(port > 0 && fingerprint, out);
  return {
    stdout: out.trimEnd().split('\n'),
    stderr: () => err,
    port,
    fingerprint,
    exited,
    signal: (signal) => child.kill(signal),
  };
}

/** GET over HTTPS, trusting only the server's own generated certificate. */
async function get(port: number, ca: string, path: string) {
  return new Promise<{ status: number; body: string; peerFingerprint: string }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, ca, agent: false }, (res) => {
        const peerFingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, peerFingerprint }));
      });
      req.on('error', reject).end();
    },
  );
}

/** Resolves to the connect error code, or 'connected'. */
async function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe('outlink serve', { concurrency: true }, () => {
  describe('on a fresh data dir', { concurrency: 1 }, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'outlink-cli-serve-'));
    const env = cleanEnv({
      OUTLINK_DATA_DIR: dataDir,
      OUTLINK_LISTEN: '127.0.0.1:0',
      // At debug level a request is logged as it arrives, which the SIGTERM test waits for.
      OUTLINK_LOG_LEVEL: 'debug',
    });
    after(() => rmSync(dataDir, { recursive: true, force: true }));
    let first: Served;
    let password: string;
    let certPem: string;

    test('serves HTTPS with a generated certificate and prints its fingerprint', async () => {
      first = await serve(env);
      certPem = readFileSync(join(dataDir, GENERATED_CERT_FILE), 'utf8');
      assert.equal(first.fingerprint, fingerprintOf(certPem));
      assert.ok(first.stdout.some((l) => l.endsWith(`${first.fingerprint} (generated)`)));
      const health = await get(first.port, certPem, '/healthz');
      assert.equal(health.status, 200, health.body);
      assert.equal(health.peerFingerprint, first.fingerprint);
      // The banner is for people on stdout; the log is JSON lines on stderr.
      assert.ok(first.stdout.every((line) => !line.startsWith('{')));
      const logLines = first.stderr().trimEnd().split('\n');
      assert.ok(logLines.length > 0);
      for (const line of logLines) assert.equal(JSON.parse(line).service, 'outlink');
    });

    test('prints the generated admin password once and keeps it in a 0600 file', async () => {
      const file = join(dataDir, INITIAL_ADMIN_PASSWORD_FILE);
      const lines = first.stdout.filter((l) => l.startsWith('Generated the password'));
      assert.equal(lines.length, 1);
      password = /: (\S+)$/.exec(lines[0]!)?.[1] ?? '';
      assert.ok(password.length >= 16);
      assert.equal(readFileSync(file, 'utf8'), `${password}\n`);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.ok(!first.stderr().includes(password), 'the password reached the log');
    });

    test('SIGTERM finishes the request in flight, then closes the port and exits 0', async () => {
      // A login whose body arrives in two parts, with SIGTERM in between: the server must
      // stop accepting, yet still answer it (with the printed password, which must work).
      const body = JSON.stringify({ username: 'admin', password });
      const req = request({
        host: '127.0.0.1',
        port: first.port,
        path: '/api/v1/session',
        method: 'POST',
        ca: certPem,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      const answered = new Promise<{ status: number; body: string; cookie: string }>(
        (resolve, reject) => {
          req.on('response', (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (c: string) => {
              text += c;
            });
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                body: text,
                cookie: String(res.headers['set-cookie'] ?? ''),
              }),
            );
          });
          req.on('error', reject);
        },
      );
      req.write(body.slice(0, 10));
      // The log line proves the server holds the request before the signal is sent.
      for (let i = 0; i < 200 && !first.stderr().includes('"url":"/api/v1/session"'); i++) {
        await sleep(50);
      }
      assert.ok(first.stderr().includes('"url":"/api/v1/session"'), first.stderr());
      first.signal('SIGTERM');
      // Poll until the listener is gone: shutdown has begun while the login is unfinished.
      let refused = '';
      for (let i = 0; i < 150 && refused !== 'ECONNREFUSED'; i++) {
        await sleep(100);
        refused = await probe(first.port);
      }
      assert.equal(refused, 'ECONNREFUSED');
      req.end(body.slice(10));
      const login = await answered;
      assert.equal(login.status, 200, login.body);
      assert.match(login.cookie, /HttpOnly/i);
      assert.equal(typeof (JSON.parse(login.body) as { csrfToken?: unknown }).csrfToken, 'string');
      const exit = await Promise.race([first.exited, sleep(20_000, 'timeout' as const)]);
      assert.deepEqual(exit, { code: 0, signal: null });
    });

    test('a restart reuses the certificate and prints no new password', async () => {
      const again = await serve(env);
      try {
        assert.equal(again.fingerprint, first.fingerprint);
        assert.equal(readFileSync(join(dataDir, GENERATED_CERT_FILE), 'utf8'), certPem);
        assert.ok(!again.stdout.some((l) => l.includes('(generated)')), again.stdout.join('\n'));
        assert.ok(!again.stdout.some((l) => l.startsWith('Generated the password')));
        assert.equal(
          readFileSync(join(dataDir, INITIAL_ADMIN_PASSWORD_FILE), 'utf8'),
          `${password}\n`,
        );
        const health = await get(again.port, certPem, '/healthz');
        assert.equal(health.status, 200);
      } finally {
        again.signal('SIGTERM');
      }
      assert.deepEqual(await again.exited, { code: 0, signal: null });
      assert.equal(await probe(again.port), 'ECONNREFUSED');
    });
  });

  test('a port in use is a listen_failed error with exit code 1', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as { port: number };
    const dataDir = mkdtempSync(join(tmpdir(), 'outlink-cli-serve-'));
    try {
      const result = await runCli(['serve'], {
        env: cleanEnv({
          OUTLINK_DATA_DIR: dataDir,
          OUTLINK_LISTEN: `127.0.0.1:${port}`,
          OUTLINK_LOG_LEVEL: 'silent',
          OUTLINK_ADMIN_PASSWORD: 'a-long-enough-password',
        }),
      });
      assert.equal(result.code, 1, result.stderr);
      assert.equal(errorCode(result), 'listen_failed');
      assert.ok(
        result.stderr.startsWith(
          `error listen_failed: Cannot listen on 127.0.0.1:${port} (EADDRINUSE).\nremedy: `,
        ),
        result.stderr,
      );
    } finally {
      blocker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
