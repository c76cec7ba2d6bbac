import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { testTls } from '../peers/ca.js';
import { isAddressInUse } from '../peers/dovecot.js';
import {
  closedPort,
  holdPorts,
  listenClosable,
  listenOnLoopback,
  startOnFreePorts,
} from './ports.js';

/** What a connection to 127.0.0.1:`port` meets: `connected`, or the error's code. */
function dial(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Listens on 127.0.0.1:`port` explicitly: `listening`, or the error's code. */
async function bindTo(port: number): Promise<{ result: string; server: Server }> {
  const server = createServer();
  const result = await new Promise<string>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen(port, '127.0.0.1', () => resolve('listening'));
  });
  return { result, server };
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('ports', () => {
  it('listenClosable ends a connection still in its TLS handshake, and closes at once', async () => {
    const { server: pair } = await testTls();
    const server = createHttpsServer({ cert: pair.certPem, key: pair.keyPem }, (_req, res) =>
      res.end('ok'),
    );
    const { port, close: closeServer } = await listenClosable(server);
    // Connected, and never a TLS hello: no HTTP connection that closeAllConnections knows.
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const ended = new Promise((resolve) => socket.once('close', resolve));
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise((resolve) => {
      // Far below the server's 120 s handshake timeout, which a plain close() waits out.
      timer = setTimeout(resolve, 10_000, 'still open');
    });
    try {
      assert.equal(await Promise.race([closeServer().then(() => 'closed'), waited]), 'closed');
      await ended;
      assert.equal(await dial(port), 'ECONNREFUSED');
    } finally {
      clearTimeout(timer);
      socket.destroy();
    }
  });

  it('listenOnLoopback binds port 0 and reads the port back', async () => {
    const server = createServer((socket) => socket.end());
    const port = await listenOnLoopback(server);
    try {
      assert.ok(port > 0);
      assert.equal(await dial(port), 'connected');
    } finally {
      await close(server);
    }
  });

  it('a closed port refuses connections, and nobody can bind it meanwhile', async () => {
    const port = await closedPort();
    assert.equal(await dial(port), 'ECONNREFUSED');
    const { result, server } = await bindTo(port);
    if (result === 'listening') await close(server);
    assert.equal(result, 'EADDRINUSE');
    assert.equal(await dial(port), 'ECONNREFUSED');
  });

  it('held ports cannot be bound until they are released', async () => {
    const held = await holdPorts(3);
    assert.equal(new Set(held.ports).size, 3);
    const taken = await bindTo(held.ports[0]!);
    if (taken.result === 'listening') await close(taken.server);
    assert.equal(taken.result, 'EADDRINUSE');
    await held.release();
    const free = await bindTo(held.ports[0]!);
    await close(free.server);
    assert.equal(free.result, 'listening');
  });

  it('a start that loses a port in the moment after release is retried on fresh ports', async () => {
    const seen: number[][] = [];
    const racers: Server[] = [];
    try {
      const server = await startOnFreePorts(
        2,
        async (ports, release) => {
          seen.push([...ports]);
          await release();
          // The first time, another process takes a port between the release and the start.
          if (seen.length === 1) racers.push((await bindTo(ports[1]!)).server);
          const started = await bindTo(ports[1]!);
          if (started.result !== 'listening') throw new Error(`listen failed: ${started.result}`);
          return started.server;
        },
        { addressInUse: (error) => error instanceof Error && /EADDRINUSE/.test(error.message) },
      );
      await close(server);
      assert.equal(seen.length, 2);
      assert.notDeepEqual(seen[1], seen[0]);
    } finally {
      await Promise.all(racers.map(close));
    }
  });

  it('any other failure of a start is not retried', async () => {
    let starts = 0;
    await assert.rejects(
      startOnFreePorts(
        1,
        async () => {
          starts += 1;
          throw new Error('bad configuration');
        },
        { addressInUse: () => false },
      ),
      /bad configuration/,
    );
    assert.equal(starts, 1);
  });

  it("recognises Dovecot's own words for a port that was taken", () => {
    assert.equal(
      isAddressInUse(
        'Error: service(imap-login): listen(127.0.0.1, 41881) failed: Address already in use\nFatal: Failed to start listeners\n',
      ),
      true,
    );
    assert.equal(isAddressInUse('Fatal: Invalid configuration in /tmp/dovecot.conf'), false);
  });
});
