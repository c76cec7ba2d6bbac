/**
 * A TCP proxy on 127.0.0.1 in front of Dovecot's POP3 port that watches how the client sends
 * its commands (how many lines per write, how many sent while an answer was still owed) and,
 * when told, removes PIPELINING from the CAPA answers sent before login — a server without
 * RFC 2449 §6.6 pipelining, with everything else real.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface WatchingProxy {
  readonly port: number;
  /** The most command lines the client sent in one chunk. */
  readonly mostLinesPerChunk: number;
  /** Command lines sent before the server had answered anything since the previous one. */
  readonly sentWhileOwed: number;
  /** CAPA answers whose PIPELINING line was removed. */
  readonly stripped: number;
  close(): Promise<void>;
}

export async function startWatchingProxy(
  target: { host: string; port: number },
  options: { stripPipelining: boolean },
): Promise<WatchingProxy> {
  let mostLinesPerChunk = 0;
  let sentWhileOwed = 0;
  let stripped = 0;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    open.add(client).add(upstream);
    let owed = false;
    let loggedIn = false;
    upstream.on('data', (chunk: Buffer) => {
      owed = false;
      if (options.stripPipelining && !loggedIn) {
        const text = chunk.toString('latin1');
        const without = text.replace(/\r\nPIPELINING\r\n/g, '\r\n');
        if (without !== text) stripped++;
        client.write(Buffer.from(without, 'latin1'));
        return;
      }
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      const lines = text.split('\n').length - 1;
      if (/^(AUTH|USER|PASS) /m.test(text)) loggedIn = true;
      mostLinesPerChunk = Math.max(mostLinesPerChunk, lines);
      sentWhileOwed += owed ? lines : Math.max(0, lines - 1);
      if (lines > 0) owed = true;
      upstream.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    port: address.port,
    get mostLinesPerChunk() {
      return mostLinesPerChunk;
    },
    get sentWhileOwed() {
      return sentWhileOwed;
    },
    get stripped() {
      return stripped;
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
