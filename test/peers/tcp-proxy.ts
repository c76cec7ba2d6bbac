/**
 * A TCP proxy on 127.0.0.1 in front of a real peer (Dovecot's IMAP or POP3 port, the
 * machine's PostgreSQL), for faults below the protocol: it forwards bytes both ways untouched
 * (TLS passes through end to end) and, when told, cuts a connection once the peer has sent a
 * number of bytes on it — a connection dropped in the middle of a FETCH or a RETR — or
 * severs the peer altogether: every open connection dropped and new ones refused until
 * restored, as a server gone away.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /**
   * Cuts each new connection once the peer has sent it `bytes` bytes (both sockets
   * destroyed, as a dropped network would); null forwards everything again.
   */
  cutAfter(bytes: number | null): void;
  /** Drops every open connection and refuses new ones until `restore()`: the peer is gone. */
  sever(): void;
  /** Forwards new connections again. */
  restore(): void;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Closes the listener and every open connection. */
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let limit: number | null = null;
  let cuts = 0;
  let severed = false;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (severed) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const cutAt = limit;
    let sent = 0;
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('data', (chunk: Buffer) => {
      if (cutAt !== null && sent + chunk.length >= cutAt) {
        // Forward up to the limit, then the line goes dead.
        client.write(chunk.subarray(0, Math.max(0, cutAt - sent)));
        sent = cutAt;
        cuts++;
        drop();
        return;
      }
      sent += chunk.length;
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    for (const socket of [client, upstream]) {
      socket.on('error', drop);
      socket.on('close', () => {
        open.delete(socket);
        drop();
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
    cutAfter(bytes) {
      limit = bytes;
    },
    sever() {
      severed = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      severed = false;
    },
    get cuts() {
      return cuts;
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
