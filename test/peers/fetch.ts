import { Agent, fetch as undiciFetch } from 'undici';
import type { Fetch } from '../../src/oauth/discovery.js';
import { testTls } from './ca.js';

/** A `fetch` and the connection pool behind it, closed with `close()`. */
export interface TrustingFetch {
  readonly fetch: Fetch;
  close(): Promise<void>;
}

/**
 * A `fetch` that trusts `caPem` (and only it), the way a deployment trusts a provider's CA
 * through `NODE_EXTRA_CA_CERTS`. undici's own `fetch` is used with its own `Agent`: Node 20's
 * bundled fetch is an older undici whose dispatcher interface differs from v7's.
 */
export function createTrustingFetch(caPem: string): TrustingFetch {
  const dispatcher = new Agent({ connect: { ca: caPem }, keepAliveTimeout: 1_000 });
  const trusting = (input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) =>
    undiciFetch(
      input as Parameters<typeof undiciFetch>[0],
      { ...init, dispatcher } as Parameters<typeof undiciFetch>[1],
    );
  return {
    fetch: trusting as unknown as Fetch,
    close: () => dispatcher.close(),
  };
}

let shared: Promise<TrustingFetch> | undefined;

/** The process-wide `fetch` that trusts the shared test CA of `testTls()`. */
export async function testFetch(): Promise<Fetch> {
  shared ??= testTls().then((tls) => createTrustingFetch(tls.caPem));
  return (await shared).fetch;
}
