import { connect, type Socket } from 'node:net';

/**
 * A bare CRLF line client over TCP, for talking to Dovecot's IMAP and SMTP listeners directly
 * in the SASL tests: what the server puts on the wire is what the test sees.
 */
export interface LineClient {
  /** The next line without CRLF; fails after `timeoutMs` (default 5 s) or on close. */
  line(timeoutMs?: number): Promise<string>;
  /** Lines until one matches `done` (inclusive). */
  until(done: RegExp, timeoutMs?: number): Promise<string[]>;
  send(line: string): void;
  close(): void;
}

export async function lineClient(port: number): Promise<LineClient> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  let buffer = '';
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    buffer += text;
    let index = buffer.indexOf('\r\n');
    while (index !== -1) {
      lines.push(buffer.slice(0, index));
      buffer = buffer.slice(index + 2);
      index = buffer.indexOf('\r\n');
    }
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  socket.on('error', () => undefined);

  const line = async (timeoutMs = 5_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const next = lines.shift();
      if (next !== undefined) return next;
      if (closed) throw new Error('the server closed the connection');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
      });
    }
  };
  return {
    line,
    async until(done, timeoutMs) {
      const seen: string[] = [];
      for (;;) {
        const next = await line(timeoutMs);
        seen.push(next);
        if (done.test(next)) return seen;
      }
    },
    send(text) {
      socket.write(`${text}\r\n`);
    },
    close() {
      socket.destroy();
    },
  };
}
