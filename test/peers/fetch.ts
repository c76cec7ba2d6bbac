import { createAddressGuard, createGuardedFetch } from '../../src/net/address-guard.js';
import type { Fetch } from '../../src/oauth/discovery.js';
import { testTls } from './ca.js';

/** A `fetch` and the connection pool behind it, closed with `close()`. */
export interface TrustingFetch {
  readonly fetch: Fetch;
  close(): Promise<void>;
}

/**
 * A `fetch` that trusts `caPem` (and only it), the way a deployment trusts a provider's CA
 * through `NODE_EXTRA_CA_CERTS`: Outlink's own guarded `fetch` (src/net/address-guard.ts,
 * with the default address policy, which allows loopback), so every test that reaches a peer
 * through it goes the way a deployment's requests go — the token requests through undici's
 * `request` (issue 12, src/net/request-fetch.ts).
 */
export function createTrustingFetch(caPem: string): TrustingFetch {
  const guarded = createGuardedFetch(createAddressGuard(), { ca: caPem });
  return { fetch: guarded.fetch as unknown as Fetch, close: guarded.close };
}

let shared: Promise<TrustingFetch> | undefined;

/** The process-wide `fetch` that trusts the shared test CA of `testTls()`. */
export async function testFetch(): Promise<Fetch> {
  shared ??= testTls().then((tls) => createTrustingFetch(tls.caPem));
  return (await shared).fetch;
}
