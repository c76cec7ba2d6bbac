import autocannon from 'autocannon';
import type { FastifyInstance } from 'fastify';

export interface Throughput {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/** Drives `url` over real loopback HTTP for `seconds` with `connections` keep-alive sockets. */
export async function measure(
  url: string,
  options: { seconds: number; connections: number; headers?: Record<string, string> },
): Promise<Throughput> {
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.seconds,
    headers: options.headers,
  });
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

/** Listens on an ephemeral loopback port and returns the base URL. */
export async function listenLoopback(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

export function formatRatio(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}
