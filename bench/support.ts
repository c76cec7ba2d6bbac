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

/** Outlink's route against a bare Fastify route, as the benchmarks report it. */
export interface RouteComparison {
  readonly name: string;
  readonly outlinkRps: number;
  readonly bareRps: number;
  readonly ratio: number;
  readonly summary: string;
}

/**
 * Alternates rounds of the bare route and Outlink's route (so drift on a busy machine hits
 * both alike) and reports Outlink's throughput as a ratio of the bare route's.
 */
export async function compareWithBareRoute(
  label: string,
  urls: { outlink: string; bare: string },
  options: {
    seconds: number;
    rounds: number;
    connections: number;
    headers: Record<string, string>;
  },
): Promise<RouteComparison> {
  let outlinkSum = 0;
  let bareSum = 0;
  for (let i = 0; i < options.rounds; i++) {
    const b = await measure(urls.bare, options);
    const o = await measure(urls.outlink, options);
    if (o.errors || b.errors) {
      throw new Error(`errors during the run: outlink ${o.errors}, bare ${b.errors}`);
    }
    outlinkSum += o.requestsPerSecond;
    bareSum += b.requestsPerSecond;
  }
  const ratio = outlinkSum / bareSum;
  const outlinkRps = Math.round(outlinkSum / options.rounds);
  const bareRps = Math.round(bareSum / options.rounds);
  return {
    name: `${label} vs bare Fastify route`,
    outlinkRps,
    bareRps,
    ratio,
    summary: `${label}: ${outlinkRps} req/s = ${formatRatio(ratio)} of a bare Fastify route (${bareRps} req/s), ${options.connections} connections, ${options.rounds}×${options.seconds}s rounds`,
  };
}
