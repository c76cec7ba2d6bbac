import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { listenClosable } from '../support/ports.js';
import { type TestTls, testTls } from './ca.js';

/** A small HTTPS server on 127.0.0.1 with the test CA's certificate. */
export interface HttpsPeer {
  /** `https://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `handler` over HTTPS on 127.0.0.1 with a random port: for peers that only need a
 * few fixed answers (a discovery document that lies about its issuer, and the like).
 */
export async function startHttpsPeer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  tls?: TestTls,
): Promise<HttpsPeer> {
  const { server: pair } = tls ?? (await testTls());
  const server = createServer({ cert: pair.certPem, key: pair.keyPem }, handler);
  const { port, close } = await listenClosable(server);
  return { origin: `https://127.0.0.1:${port}`, port, close };
}

/** Answers every request with `body` as JSON. */
export function jsonHandler(body: unknown, status = 200) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };
}
