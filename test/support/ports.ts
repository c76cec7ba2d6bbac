import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * Loopback ports for the tests' servers and peers, none of them probed free and released
 * before use: under parallel test files such a port can be taken by any bind in between.
 *
 * - A server this process starts binds port 0 and reads its port back
 *   (`listenOnLoopback`; `listenClosable` for an HTTPS peer, whose close must also end the
 *   connections still in their TLS handshake); one whose URL must be known before it serves is bound first and
 *   given its handler later (test/ui/browser/support.ts).
 * - A peer in another process that must name its ports in a config file (Dovecot) gets
 *   them from `startOnFreePorts`: held here until just before the peer starts, and the
 *   start retried on fresh ports when one was taken in that moment.
 * - A port where nothing listens, for connection-refused tests: `closedPort`.
 */

/** Binds `server` to 127.0.0.1 on a port the OS picks, and returns that port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the server has no TCP port');
  return address.port;
}

/**
 * Binds `server` like `listenOnLoopback`, and gives it a `close` that first ends every
 * connection it accepted: `closeAllConnections` knows only connections that have become
 * HTTP ones, so a TLS socket still in its handshake (a client that connected as the test
 * ended) would keep `server.close()` waiting for the 120 s handshake timeout.
 */
export async function listenClosable(
  server: Server,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const port = await listenOnLoopback(server);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };
  return { port, close };
}

/**
 * A loopback port that refuses every connection (ECONNREFUSED) and that nothing else can
 * bind while this process runs.
 *
 * The port is the local end of a connection this process keeps open to itself. An
 * established socket occupies its port without listening: a connection attempt to it is
 * answered with a reset, the kernel never hands the port to a bind on port 0, and an
 * explicit bind to it fails, since the holding socket was not bound with SO_REUSEADDR.
 * Both sockets are unreferenced, so they never keep a test process alive.
 */
export async function closedPort(): Promise<number> {
  const listener = createServer();
  const port = await listenOnLoopback(listener);
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const holder = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.once('connect', () => {
      holder.off('error', reject);
      resolve();
    });
  });
  const peer = await accepted;
  // Stops listening at once; the callback would wait for the held connection to end.
  listener.close();
  for (const socket of [holder, peer]) {
    socket.on('error', () => {});
    socket.unref();
  }
  const held = holder.localPort;
  if (held === undefined) throw new Error('the holding socket has no local port');
  return held;
}

/** Loopback ports held by listening sockets of this process until `release()`. */
export interface HeldPorts {
  readonly ports: readonly number[];
  /** Closes the holding sockets (again: nothing); the ports are then free to bind. */
  release(): Promise<void>;
}

/** `count` distinct loopback ports, each held by a listening socket until `release()`. */
export async function holdPorts(count: number): Promise<HeldPorts> {
  const servers: Server[] = [];
  const release = async () => {
    const open = servers.splice(0);
    await Promise.all(
      open.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(await listenOnLoopback(server));
    }
    return { ports, release };
  } catch (error) {
    await release();
    throw error;
  }
}

export interface StartOnFreePortsOptions {
  /** Whether a failed start failed because one of its ports was taken. */
  readonly addressInUse: (error: unknown) => boolean;
  /** Starts tried in all (default 5). */
  readonly attempts?: number;
}

/**
 * Starts a peer of another process on `count` fresh loopback ports. The ports stay held by
 * this process while `start` writes them into the peer's configuration; `start` calls
 * `release()` just before it spawns the peer. A port taken by someone else in that moment
 * makes the peer fail to listen: `addressInUse` recognises that failure, and the start is
 * tried again on fresh ports, so the race can cost a retry but never fail a test.
 */
export async function startOnFreePorts<T>(
  count: number,
  start: (ports: readonly number[], release: () => Promise<void>) => Promise<T>,
  options: StartOnFreePortsOptions,
): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const held = await holdPorts(count);
    try {
      return await start(held.ports, held.release);
    } catch (error) {
      if (attempt >= attempts || !options.addressInUse(error)) throw error;
    } finally {
      await held.release();
    }
  }
}
