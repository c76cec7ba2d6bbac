/**
 * The address policy (`domain/address-policy.ts`) enforced where connections are made: a
 * `lookup` for `net`/`tls` sockets (the IMAP, SMTP and POP3 clients) and a `fetch` whose
 * connections go through it (webhooks, OAuth discovery, token and revocation requests).
 * Judged on the resolved address, every time a connection is opened, so a name that resolves
 * (or later re-resolves) to a metadata address fails before any packet is sent to it.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import {
  type AddressPolicy,
  ALLOW_ADDRESSES_VARIABLE,
  createAddressPolicy,
} from '../domain/address-policy.js';
import { DEFAULT_MAX_BODY_BYTES, isPlainRequest, requestAsFetch } from './request-fetch.js';

/** Thrown (or passed to a socket's lookup callback) for a refused address. */
export class AddressRefusedError extends Error {
  readonly code = 'ERR_OUTLINK_ADDRESS_REFUSED';
  readonly host: string;
  readonly address: string;
  constructor(host: string, address: string) {
    super(
      host === address
        ? `the address ${address} is refused (allow it with ${ALLOW_ADDRESSES_VARIABLE})`
        : `${host} resolves to ${address}, a refused address (allow it with ${ALLOW_ADDRESSES_VARIABLE})`,
    );
    this.name = 'AddressRefusedError';
    this.host = host;
    this.address = address;
  }
}

/** A resolver with `dns.lookup`'s signature; tests inject one that answers without DNS. */
export type Resolver = (
  hostname: string,
  options: LookupOptions,
  callback: (
    error: NodeJS.ErrnoException | null,
    address: string | LookupAddress[],
    family?: number,
  ) => void,
) => void;

/** The policy at the two places Node decides where a connection goes. */
export interface AddressGuard {
  readonly policy: AddressPolicy;
  /** A `lookup` for `net.connect`/`tls.connect`: fails with `AddressRefusedError` instead. */
  readonly lookup: LookupFunction;
  /**
   * Throws `AddressRefusedError` when `host` is a refused address literal in any spelling:
   * Node connects to a literal without calling `lookup`, so a literal is checked before.
   */
  assertHost(host: string): void;
}

/** The guard of `policy`, resolving names with `resolve` (default `dns.lookup`). */
export function createAddressGuard(
  policy: AddressPolicy = createAddressPolicy(),
  resolve: Resolver = dnsLookup as unknown as Resolver,
): AddressGuard {
  const lookup = ((hostname, options, callback) => {
    resolve(hostname, options, (error, address, family) => {
      if (error) return callback(error, address as string, family);
      const all = Array.isArray(address) ? address : [{ address, family: family ?? 0 }];
      // Every answer must pass: a name with one good and one refused record is refused, so
      // that no retry or family fallback reaches the refused one.
      const refused = all.find((a) => policy.refuses(a.address));
      if (refused) return callback(new AddressRefusedError(hostname, refused.address), '', 0);
      callback(null, address as string, family);
    });
  }) as LookupFunction;
  return Object.freeze({
    policy,
    lookup,
    assertHost(host: string) {
      // Loose spellings (`2852039166`) too: what `getaddrinfo` would make of them is not
      // left to the platform's resolver.
      const refused = policy.refusedLiteral(host);
      if (refused) throw new AddressRefusedError(host, refused);
    },
  });
}

/** The guard with nothing re-allowed and the system resolver: what an unwired caller gets. */
export const DEFAULT_ADDRESS_GUARD: AddressGuard = createAddressGuard();

/** A `fetch` whose connections obey a guard, and the pool behind it. */
export interface GuardedFetch {
  readonly fetch: typeof globalThis.fetch;
  close(): Promise<void>;
}

export interface GuardedFetchOptions {
  /** Trusted roots instead of Node's (tests); deployments use `NODE_EXTRA_CA_CERTS`. */
  readonly ca?: string;
  /**
   * The most of an answer read into memory (`ResponseTooLargeError` past it) by the plain
   * requests that go through undici's `request` (request-fetch.ts); `DEFAULT_MAX_BODY_BYTES`.
   */
  readonly maxBodyBytes?: number;
}

/**
 * undici's `fetch` over an `Agent` whose connector checks the host literal and resolves names
 * through the guard. A refused address rejects with the `AddressRefusedError` itself (not
 * undici's "fetch failed"), so callers and logs can say why.
 */
export function createGuardedFetch(
  guard: AddressGuard,
  options: GuardedFetchOptions = {},
): GuardedFetch {
  const connect = buildConnector({
    lookup: guard.lookup,
    ...(options.ca ? { ca: options.ca } : {}),
  } as buildConnector.BuildOptions);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const dispatcher = new Agent({
    connect(opts, callback) {
      try {
        guard.assertHost(opts.hostname);
      } catch (error) {
        callback(error as Error, null);
        return;
      }
      connect(opts, callback);
    },
  });
  const guarded = async (
    input: Parameters<typeof fetch>[0],
    init?: Parameters<typeof fetch>[1],
  ) => {
    try {
      // Issue 12: what Outlink sends (token requests above all) goes the cheaper way.
      if (isPlainRequest(input, init)) {
        return await requestAsFetch(dispatcher, input as string | URL, init, maxBodyBytes);
      }
      return await undiciFetch(
        input as Parameters<typeof undiciFetch>[0],
        { ...init, dispatcher } as Parameters<typeof undiciFetch>[1],
      );
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof AddressRefusedError) throw cause;
      throw error;
    }
  };
  return {
    fetch: guarded as unknown as typeof globalThis.fetch,
    close: () => dispatcher.close(),
  };
}
