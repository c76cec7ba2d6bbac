import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp, SERVER_LIMITS, type ServerLimits } from '../../src/http/app.js';
import { testTls } from '../peers/ca.js';
import {
  createTestDatabase,
  startServices,
  type TestDatabase,
  type TestServices,
} from '../support/harness.js';

/**
 * Issue 11: the listener's timeouts were 0, so a client that trickles its headers held a
 * connection forever. Real sockets against the real app, with the limits shortened.
 */

const SHORT: Partial<ServerLimits> = {
  headersTimeoutMs: 500,
  requestTimeoutMs: 1_000,
  maxConnections: 3,
  tlsHandshakeTimeoutMs: 500,
};
/** How long a limit may overrun before the test calls the connection held. */
const SLACK_MS = 1_500;

interface Watched {
  readonly socket: Socket;
  /** Resolves with what the server sent and when (ms after connecting) it closed. */
  readonly closed: Promise<{ data: string; afterMs: number }>;
}

function open(port: number): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    const closed = new Promise<{ data: string; afterMs: number }>((done) => {
      socket.on('close', () => done({ data, afterMs: performance.now() - started }));
    });
    socket.once('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** Writes `lines` one every `everyMs` until the socket closes or they run out. */
async function trickle(socket: Socket, lines: readonly string[], everyMs: number): Promise<void> {
  for (const line of lines) {
    if (socket.destroyed || !socket.writable) return;
    socket.write(line);
    await sleep(everyMs);
  }
}

describe('listener limits', () => {
  let database: TestDatabase;
  let world: TestServices;
  const apps: FastifyInstance[] = [];

  before(async () => {
    database = await createTestDatabase('sqlite');
    world = await startServices(database);
  });
  after(async () => {
    for (const app of apps) await app.close();
    await world?.services.close();
    await database?.drop();
  });

  const listen = async (options: Parameters<typeof buildApp>[1]): Promise<number> => {
    const app = await buildApp(world.services, options);
    apps.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    return address.port;
  };

  it('sets the documented limits by default', async () => {
    const app = await buildApp(world.services);
    apps.push(app);
    assert.deepEqual(SERVER_LIMITS, {
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 65_000,
      maxConnections: 1024,
      tlsHandshakeTimeoutMs: 10_000,
    });
    assert.equal(app.server.headersTimeout, 10_000);
    assert.equal(app.server.requestTimeout, 30_000);
    assert.equal(app.server.keepAliveTimeout, 65_000);
    assert.equal(app.server.maxConnections, 1024);
  });

  it('cuts a client that trickles its headers, and one that trickles its body', async () => {
    const port = await listen({ limits: SHORT });

    const headers = await open(port);
    const headerLines = [
      'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n',
      ...Array.from({ length: 60 }, (_, i) => `X-Trickle-${i}: ${'a'.repeat(8)}\r\n`),
    ];
    void trickle(headers.socket, headerLines, 100);
    const cutHeaders = await headers.closed;
    assert.match(cutHeaders.data, /^HTTP\/1\.1 408 /);
    assert.ok(
      cutHeaders.afterMs < SHORT.headersTimeoutMs! + SLACK_MS,
      `held ${cutHeaders.afterMs} ms`,
    );

    const body = await open(port);
    const bodyLines = [
      'POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{',
      ...Array.from({ length: 60 }, () => ' '),
    ];
    void trickle(body.socket, bodyLines, 100);
    const cutBody = await body.closed;
    assert.match(cutBody.data, /^HTTP\/1\.1 408 /);
    assert.ok(cutBody.afterMs < SHORT.requestTimeoutMs! + SLACK_MS, `held ${cutBody.afterMs} ms`);

    // A client that sends its request at once is answered as ever.
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(ok.status, 200);
  });

  it('closes connections beyond the maximum on arrival', async () => {
    const port = await listen({ limits: SHORT });
    const held = await Promise.all([open(port), open(port), open(port)]);
    const extra = await open(port);
    const refused = await Promise.race([extra.closed, sleep(SLACK_MS).then(() => undefined)]);
    assert.ok(refused, 'the fourth connection stayed open');
    assert.equal(refused.data, '');
    for (const { socket } of held) {
      assert.equal(socket.destroyed, false);
      socket.destroy();
    }
  });

  it('cuts a TLS client that never finishes its handshake', async () => {
    const tls = await testTls();
    const port = await listen({
      limits: SHORT,
      fastify: { https: { cert: tls.server.certPem, key: tls.server.keyPem } },
    });
    const silent = await open(port);
    const cut = await Promise.race([silent.closed, sleep(5_000).then(() => undefined)]);
    assert.ok(cut, 'a silent TLS client held its connection');
    assert.ok(cut.afterMs < SHORT.tlsHandshakeTimeoutMs! + SLACK_MS, `held ${cut.afterMs} ms`);
  });
});
