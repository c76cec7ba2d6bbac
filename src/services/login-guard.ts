import { isIP } from 'node:net';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';

/**
 * Limits of the sign-in endpoint (issue 11). A flood that varies the user name, the address,
 * or both, meets one of them before it costs a 32 MiB scrypt, and the hashes it does cost
 * never take more than `concurrentHashes` of libuv's four threads (DNS lookups, file I/O and
 * token refreshes need the others).
 */
export interface LoginGuardOptions {
  /** Sign-in attempts (right or wrong) per client address per `addressWindowMs`. */
  readonly attemptsPerAddress: number;
  readonly addressWindowMs: number;
  /** Failed attempts per user name, from any address, per `usernameWindowMs`. */
  readonly failuresPerUsername: number;
  readonly usernameWindowMs: number;
  /** Password hashes computed at once; more wait in a queue of `queuedHashes`. */
  readonly concurrentHashes: number;
  /** Beyond these, sign-ins answer 503 `login_busy` at once. */
  readonly queuedHashes: number;
  /** Failed sign-ins within this window are summed up in one `session.login_failed` event. */
  readonly failureEventWindowMs: number;
  /** Counters kept per address and per user name at most; the oldest go first. */
  readonly maxTrackedKeys: number;
}

export const DEFAULT_LOGIN_GUARD_OPTIONS: LoginGuardOptions = Object.freeze({
  attemptsPerAddress: 10,
  addressWindowMs: 60_000,
  failuresPerUsername: 30,
  usernameWindowMs: 15 * 60_000,
  concurrentHashes: 2,
  queuedHashes: 8,
  failureEventWindowMs: 60_000,
  maxTrackedKeys: 10_000,
});

/** What a `session.login_failed` event says: no password, ever. */
export type LoginFailureSummary =
  | { readonly username: string; readonly attempts: 1; readonly address: string }
  | {
      /** Wrong passwords and unknown user names. */
      readonly attempts: number;
      /** Sign-ins refused unchecked (`rate_limited`, `login_busy`). */
      readonly refused: number;
      /** Distinct user names tried, the first 20. */
      readonly usernames: readonly string[];
      readonly usernameCount: number;
      /** Distinct client addresses (IPv6 by /64), the first 20. */
      readonly addresses: readonly string[];
      readonly addressCount: number;
      readonly since: string;
      readonly until: string;
    };

export interface LoginGuard {
  /**
   * Counts one attempt from `address` for `username`, or refuses it with 429 `rate_limited`
   * (and its `Retry-After`) before any password is hashed.
   */
  admit(address: string, username: string): void;
  /** Runs a password hash within the bound, or refuses with 503 `login_busy`. */
  hash<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Counts a failure against the user name and for the aggregated failure event; resolves
   * once a lone failure's own event is written (a flood's wait for their window's summary).
   */
  failed(address: string, username: string): Promise<void>;
  /** Records what the current failure window has not recorded yet. */
  flush(): Promise<void>;
  /** Stops the window timer and flushes. */
  close(): Promise<void>;
}

/** How many seconds a busy sign-in is asked to wait. */
const BUSY_RETRY_AFTER_SECONDS = 5;
const LISTED = 20;
const USERNAME_CHARS = 100;

export function createLoginGuard(deps: {
  clock: Clock;
  /** Writes one `session.login_failed` event; the guard never waits for it in a request. */
  record: (summary: LoginFailureSummary) => Promise<void>;
  /** Told when recording fails: the sign-in answer does not depend on it. */
  onRecordError?: (error: unknown) => void;
  options?: Partial<LoginGuardOptions>;
}): LoginGuard {
  const o: LoginGuardOptions = { ...DEFAULT_LOGIN_GUARD_OPTIONS, ...deps.options };
  const now = () => deps.clock.now().getTime();
  const byAddress = new WindowCounter(o.addressWindowMs, o.maxTrackedKeys);
  const byUsername = new WindowCounter(o.usernameWindowMs, o.maxTrackedKeys);
  const hashes = new Semaphore(o.concurrentHashes, o.queuedHashes);

  let window: FailureWindow | undefined;
  let lastSummaryAt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let pending = Promise.resolve();

  const write = (summary: LoginFailureSummary) => {
    pending = pending
      .then(() => deps.record(summary))
      .catch((error: unknown) => deps.onRecordError?.(error));
    return pending;
  };

  const closeWindow = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const closing = window;
    window = undefined;
    if (!closing || closing.attempts + closing.refused === 0) return pending;
    lastSummaryAt = now();
    return write({
      attempts: closing.attempts,
      refused: closing.refused,
      usernames: [...closing.usernames].slice(0, LISTED),
      usernameCount: closing.usernames.size,
      addresses: [...closing.addresses].slice(0, LISTED),
      addressCount: closing.addresses.size,
      since: new Date(closing.since).toISOString(),
      until: new Date(now()).toISOString(),
    });
  };

  /** The open failure window, opened at `at` if none is; `fresh` when just opened. */
  const windowAt = (at: number): { current: FailureWindow; fresh: boolean } => {
    if (window) return { current: window, fresh: false };
    window = { since: at, attempts: 0, refused: 0, usernames: new Set(), addresses: new Set() };
    timer = setTimeout(() => void closeWindow(), o.failureEventWindowMs);
    timer.unref();
    return { current: window, fresh: true };
  };

  const refuse = (error: OutlinkError): OutlinkError => {
    windowAt(now()).current.refused += 1;
    return error;
  };

  return {
    admit(address, username) {
      const at = now();
      const addressKey = clientKey(address);
      const userKey = usernameKey(username);
      const userWait = byUsername.waitIfAtLeast(userKey, o.failuresPerUsername, at);
      if (userWait > 0) throw refuse(rateLimited(userWait));
      const addressWait = byAddress.hit(addressKey, o.attemptsPerAddress, at);
      if (addressWait > 0) throw refuse(rateLimited(addressWait));
    },

    async hash(work) {
      if (!hashes.tryEnter()) {
        throw refuse(new OutlinkError('login_busy', { retryAfter: BUSY_RETRY_AFTER_SECONDS }));
      }
      await hashes.turn();
      try {
        return await work();
      } finally {
        hashes.leave();
      }
    },

    failed(address, username) {
      const at = now();
      const addressKey = clientKey(address);
      const name = username.slice(0, USERNAME_CHARS);
      byUsername.add(usernameKey(username), at);
      const { current, fresh } = windowAt(at);
      // A lone failure is recorded at once, as before; while a flood goes on (the last
      // window was summed up a moment ago) every failure waits for its window's summary.
      if (fresh && at - lastSummaryAt > o.failureEventWindowMs) {
        return write({ username: name, attempts: 1, address: addressKey });
      }
      current.attempts += 1;
      if (current.usernames.size < o.maxTrackedKeys) current.usernames.add(name);
      if (current.addresses.size < o.maxTrackedKeys) current.addresses.add(addressKey);
      return Promise.resolve();
    },

    flush: () => closeWindow(),
    close: () => closeWindow(),
  };
}

interface FailureWindow {
  readonly since: number;
  attempts: number;
  refused: number;
  readonly usernames: Set<string>;
  readonly addresses: Set<string>;
}

function rateLimited(waitMs: number): OutlinkError {
  return new OutlinkError('rate_limited', { retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) });
}

/** User names compare case-insensitively, so `Admin` and `admin` share one count. */
function usernameKey(username: string): string {
  return username.slice(0, USERNAME_CHARS).toLowerCase();
}

/**
 * The address a limit counts: IPv4 as is (an IPv4-mapped IPv6 address as its IPv4), IPv6 by
 * its /64 — one subscriber usually holds a whole /64, so counting single addresses would
 * give one attacker 2^64 fresh limits.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (isIP(address) !== 6) return address;
  return `${expandIpv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIpv6(address: string): string[] {
  const zoneless = address.split('%')[0] ?? address;
  const [head = '', tail] = zoneless.split('::');
  const toGroups = (part: string) => (part === '' ? [] : part.split(':'));
  const headGroups = toGroups(head);
  const tailGroups = tail === undefined ? [] : toGroups(tail);
  // An embedded IPv4 tail (`::1.2.3.4`) fills the last two groups; only the first four count.
  const width = tailGroups.some((g) => g.includes('.')) ? 7 : 8;
  const missing = Math.max(0, width - headGroups.length - tailGroups.length);
  return [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups].map((g) =>
    g.includes('.') ? g : (Number.parseInt(g, 16) || 0).toString(16),
  );
}

/** Fixed-window counters per key, bounded in number (the oldest window is dropped first). */
class WindowCounter {
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #counts = new Map<string, { start: number; count: number }>();

  constructor(windowMs: number, maxKeys: number) {
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  /** Counts one hit; returns how long to wait when the key had `max` already, else 0. */
  hit(key: string, max: number, at: number): number {
    const wait = this.waitIfAtLeast(key, max, at);
    if (wait > 0) return wait;
    this.add(key, at);
    return 0;
  }

  waitIfAtLeast(key: string, max: number, at: number): number {
    const entry = this.#current(key, at);
    if (!entry || entry.count < max) return 0;
    return entry.start + this.#windowMs - at;
  }

  add(key: string, at: number): void {
    const entry = this.#current(key, at);
    if (entry) {
      entry.count += 1;
      return;
    }
    if (this.#counts.size >= this.#maxKeys) this.#prune(at);
    this.#counts.set(key, { start: at, count: 1 });
  }

  #current(key: string, at: number) {
    const entry = this.#counts.get(key);
    if (!entry) return undefined;
    if (at - entry.start < this.#windowMs) return entry;
    this.#counts.delete(key);
    return undefined;
  }

  #prune(at: number): void {
    for (const [key, entry] of this.#counts) {
      if (at - entry.start >= this.#windowMs) this.#counts.delete(key);
    }
    // Still full: drop the oldest (Map keeps insertion order).
    while (this.#counts.size >= this.#maxKeys) {
      const oldest = this.#counts.keys().next().value;
      if (oldest === undefined) break;
      this.#counts.delete(oldest);
    }
  }
}

/** `limit` holders at once, `queue` waiting in order; `tryEnter` says whether there is room. */
class Semaphore {
  readonly #limit: number;
  readonly #queueLimit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number, queueLimit: number) {
    this.#limit = limit;
    this.#queueLimit = queueLimit;
  }

  tryEnter(): boolean {
    return this.#active < this.#limit || this.#waiting.length < this.#queueLimit;
  }

  turn(): Promise<void> {
    if (this.#active < this.#limit) {
      this.#active += 1;
      return Promise.resolve();
    }
    // The slot passes straight from `leave` to the waiter, so `#active` stays counted.
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  leave(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active -= 1;
  }
}
