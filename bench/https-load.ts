/**
 * The load generator of the HTTPS route benchmarks, in a process of its own (never inside
 * the process it measures): `node --import tsx bench/https-load.ts '<json spec>'` drives one
 * URL with autocannon (keep-alive sockets over TLS, certificate not checked: the servers
 * use a self-signed one) and prints one JSON line with the throughput, the p99 latency and
 * the error count.
 */
import autocannon from 'autocannon';

interface Spec {
  readonly url: string;
  readonly seconds: number;
  readonly connections: number;
  readonly headers?: Record<string, string>;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.seconds,
  headers: spec.headers,
});
process.stdout.write(
  `${JSON.stringify({
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  })}\n`,
);
