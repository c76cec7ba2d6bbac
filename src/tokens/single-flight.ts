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

/** The lease the work holds, as `held` sees it. */
export interface HeldLease {
  readonly name: string;
  readonly owner: string;
  /**
   * The work freed the lease itself, in the transaction that stored its result, or handed
   * it on to a write still pending (issue 12: one commit per refresh; issue 14: the lease
   * stays until kept tokens are written): `underLease` then leaves it alone.
   */
  freed(): void;
}

export interface LeaseWait<T> {
  readonly lease: string;
  /**
   * How long the lease holds, should its holder die (it is released when done); the holder
   * renews it every third of this while the work runs, however long that takes.
   */
  readonly ttlMs: number;
  /**
   * Take the lease also when this owner already holds it: only for work that is single-flight
   * within the process already (so the holder is a claim made for this very work).
   */
  readonly reentrant?: boolean;
  /**
   * This owner holds the lease already, with more than half its time left (a claim the
   * scheduler just made for this work): the first try uses it without taking it again.
   */
  readonly claimed?: boolean;
  /** How long to wait for another holder before giving up with `busy()`. */
  readonly waitMs: number;
  readonly pollMs: number;
  /** The work, run while holding the lease. */
  held(lease: HeldLease): Promise<T>;
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
  const reentrant = wait.reentrant ? { reentrant: true } : undefined;
  let claimed = wait.claimed === true;
  for (;;) {
    const mine =
      claimed || (await deps.leases.tryAcquire(wait.lease, deps.owner, wait.ttlMs, reentrant));
    claimed = false;
    if (mine) {
      // A renewal that fails (the database away) is retried at the next beat; the work itself
      // notices a lost database on its own.
      const renewal = setInterval(
        () => void deps.leases.renew(wait.lease, deps.owner, wait.ttlMs).catch(() => undefined),
        Math.max(100, wait.ttlMs / 3),
      );
      renewal.unref();
      let freed = false;
      const lease: HeldLease = {
        name: wait.lease,
        owner: deps.owner,
        freed: () => {
          freed = true;
        },
      };
      try {
        return await wait.held(lease);
      } finally {
        clearInterval(renewal);
        if (!freed) await deps.leases.release(wait.lease, deps.owner);
      }
    }
    await deps.pollSleep(wait.pollMs);
    const done = await wait.poll();
    if (done !== undefined) return done;
    if (deps.clock.now().getTime() > deadline) throw wait.busy();
  }
}
