import { createServer, type Server, type Socket } from 'node:net';

/**
 * The client side of one connection as a scripted server sees it. Used only for answers no
 * real server gives (garbage, truncation, silence, floods): Dovecot covers everything else.
 */
export interface ScriptedPeer {
  /** Sends raw octets (add CRLF yourself). */
  send(data: string | Buffer): void;
  /**
   * Sends raw octets and resolves once they are handed to the operating system: true, or false
   * when the connection is gone (the client gave up). For trickling without a clock.
   */
  write(data: string | Buffer): Promise<boolean>;
  /**
   * Sends raw octets in 64 KiB pieces and resolves once the client has taken all it will take
   * for now: `sent` when every piece is handed to the operating system, `stalled` when a few
   * turns of the event loop pass without a piece going out (the client stopped reading).
   */
  pour(data: Buffer): Promise<'sent' | 'stalled'>;
  /**
   * Resolves once the client has sent octets not read yet, line or not: a TLS ClientHello has
   * no CRLF to wait for.
   */
  octets(): Promise<void>;
  /** The client's next line without CRLF; undefined once the client has closed. */
  line(): Promise<string | undefined>;
  /** Reads the next line and checks it; a mismatch is recorded as a script failure. */
  expect(pattern: RegExp | string): Promise<string>;
  /** Closes the connection (FIN). */
  end(): void;
}

/** A TCP server on 127.0.0.1 that imitates a misbehaving POP3 server, one script per connection. */
export interface MisbehavingPop3Server {
  readonly port: number;
  /** Every line the clients sent, in order. */
  readonly received: string[];
  /** Script failures (an unexpected client line): a test asserts this is empty. */
  readonly failures: string[];
  close(): Promise<void>;
}

export async function startMisbehavingPop3Server(
  script: (peer: ScriptedPeer) => Promise<void> | void,
): Promise<MisbehavingPop3Server> {
  const sockets = new Set<Socket>();
  const received: string[] = [];
  const failures: string[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const peer = scriptedPeer(socket, received, failures);
    Promise.resolve()
      .then(() => script(peer))
      .catch((error: unknown) => {
        if (!(error instanceof ScriptStopped)) failures.push(String(error));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    received,
    failures,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function scriptedPeer(socket: Socket, received: string[], failures: string[]): ScriptedPeer {
  let buffer = '';
  const lines: string[] = [];
  let closed = false;
  /** Whoever waits for the client: told when it sends something or closes. */
  let waiters: (() => void)[] = [];
  const wakeAll = () => {
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };
  const changed = () => new Promise<void>((resolve) => waiters.push(resolve));
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => {
    buffer += text;
    let index = buffer.indexOf('\r\n');
    while (index !== -1) {
      const line = buffer.slice(0, index);
      lines.push(line);
      received.push(line);
      buffer = buffer.slice(index + 2);
      index = buffer.indexOf('\r\n');
    }
    wakeAll();
  });
  socket.on('close', () => {
    closed = true;
    wakeAll();
  });
  const line = async (): Promise<string | undefined> => {
    for (;;) {
      const next = lines.shift();
      if (next !== undefined) return next;
      if (closed) return undefined;
      await changed();
    }
  };
  return {
    send(data) {
      if (!socket.destroyed) socket.write(data);
    },
    write(data) {
      if (closed || socket.destroyed) return Promise.resolve(false);
      return new Promise((resolve) => socket.write(data, (error) => resolve(!error && !closed)));
    },
    async pour(data) {
      const PIECE = 64 * 1024;
      const pieces = Math.ceil(data.length / PIECE);
      let sent = 0;
      for (let at = 0; at < data.length; at += PIECE) {
        socket.write(data.subarray(at, at + PIECE), (error) => {
          if (!error) sent += 1;
        });
      }
      // On loopback every turn in which the client reads lets at least one piece out; turns
      // with none are the client's socket paused (or the connection gone), not a slow clock.
      let quiet = 0;
      for (let seen = sent; sent < pieces; seen = sent) {
        if (closed || quiet >= 5) return 'stalled';
        await new Promise((resolve) => setImmediate(resolve));
        quiet = sent === seen ? quiet + 1 : 0;
      }
      return 'sent';
    },
    async octets() {
      while (lines.length === 0 && buffer.length === 0 && !closed) await changed();
    },
    line,
    async expect(pattern) {
      const next = await line();
      const ok =
        next !== undefined && (typeof pattern === 'string' ? next === pattern : pattern.test(next));
      if (!ok) {
        failures.push(`expected ${String(pattern)}, the client sent ${JSON.stringify(next)}`);
        throw new ScriptStopped();
      }
      return next;
    },
    end() {
      socket.end();
    },
  };
}

class ScriptStopped extends Error {}
