import type { Clock, Sleep } from '../domain/clock.js';
import type { Leases } from './leases.js';

/**
 * In-process coalescing: while a call for `key` runs, later calls for the same key get its
 * promise instead of starting their own. The entry goes when the call settles, so the next
 * call after that starts afresh.
 */
export type SingleFlight<T> = (key: string, run: () => Promise<T>) => Promise<T>;

export function createSingleFlight<T>(): SingleFlight<T> {
  const running = new Map<string, Promise<T>>();
  return (key, run) => {
    const pending = running.get(key);
    if (pending) return pending;
    const promise = run().finally(() => running.delete(key));
    running.set(key, promise);
    return promise;
  };
}

export interface LeaseWaitDeps {
  readonly leases: Leases;
  /** This process's holder name: unique per process and service instance. */
  readonly owner: string;
  /** Judges the wait's deadline, in the same time as the leases' expiry. */
  readonly clock: Clock;
  /** Waits between two looks at the database while another process holds the lease. */
  readonly pollSleep: Sleep;
}

export interface LeaseWait<T> {
  readonly lease: string;
  /**
   * How long the lease holds, should its holder die (it is renewed every third of it while
   * the work runs, and released when done).
   */
  readonly ttlMs: number;
  /** How long to wait for another holder before giving up with `busy()`. */
  readonly waitMs: number;
  readonly pollMs: number;
  /** The work, run while holding the lease. */
  held(): Promise<T>;
  /** A look while another process holds the lease: its result once it has what we need. */
  poll(): Promise<T | undefined>;
  /** The error when the wait outlasts `waitMs`. */
  busy(): Error;
}

/**
 * Cross-process single-flight: take the lease and do the work, or wait for its holder and
 * re-read until the holder's work shows (or the holder's lease runs out and we take over).
 */
export async function underLease<T>(deps: LeaseWaitDeps, wait: LeaseWait<T>): Promise<T> {
  const deadline = deps.clock.now().getTime() + wait.waitMs;
  for (;;) {
    if (await deps.leases.tryAcquire(wait.lease, deps.owner, wait.ttlMs)) {
      // Issue 14: the lease is short (a dead holder's work must move within seconds), so a
      // live holder renews it while the work runs, however long that is.
      const heartbeat = setInterval(
        () => void deps.leases.renew(wait.lease, deps.owner, wait.ttlMs).catch(() => undefined),
        Math.max(500, wait.ttlMs / 3),
      );
      heartbeat.unref();
      try {
        return await wait.held();
      } finally {
        clearInterval(heartbeat);
        await deps.leases.release(wait.lease, deps.owner);
      }
    }
    await deps.pollSleep(wait.pollMs);
    const done = await wait.poll();
    if (done !== undefined) return done;
    if (deps.clock.now().getTime() > deadline) throw wait.busy();
  }
}
