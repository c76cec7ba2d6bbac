/**
 * When a token is fresh, and when a failing provider may be asked again (DESIGN §7). Pure:
 * every function takes the time it judges at, so callers pass their injected clock's.
 */

/** A token never counts as fresh with this long or less to go, whatever its lifetime. */
export const MAX_REFRESH_MARGIN_MS = 5 * 60_000;

/** The first scheduler retry after a transient failure waits about this long… */
export const RETRY_BASE_MS = 30_000;
/** …doubling per consecutive failure up to this (the provider's Retry-After may ask more). */
export const RETRY_MAX_MS = 15 * 60_000;

/** The expiry and refresh state of a stored token, as its row holds them (ISO-8601 text). */
export interface TokenTimes {
  readonly expires_at: string | null;
  readonly last_refreshed_at: string | null;
}

/** The retry state a transient failure left on a connection. */
export interface RetryState {
  readonly status: string;
  readonly retry_at: string | null;
}

/** Fresh while more than min(5 minutes, a tenth of its lifetime) remains (DESIGN §7). */
export function refreshMarginMs(issuedAt: Date | undefined, expiresAt: Date): number {
  const lifetime = issuedAt ? expiresAt.getTime() - issuedAt.getTime() : Number.POSITIVE_INFINITY;
  return Math.min(MAX_REFRESH_MARGIN_MS, Math.max(0, lifetime / 10));
}

/**
 * True when the token counts as fresh at `now`. A token without an expiry is always fresh;
 * its lifetime is taken from its last refresh, the time it was issued.
 */
export function isFresh(row: TokenTimes, now: Date): boolean {
  return freshUntilMs(row) > now.getTime();
}

/** The instant (epoch ms) the token stops counting as fresh; infinite without an expiry. */
export function freshUntilMs(row: TokenTimes): number {
  if (!row.expires_at) return Number.POSITIVE_INFINITY;
  const expiresAt = new Date(row.expires_at);
  const issued = row.last_refreshed_at ? new Date(row.last_refreshed_at) : undefined;
  return expiresAt.getTime() - refreshMarginMs(issued, expiresAt);
}

/** True while the token may still be used at all: no expiry, or an expiry after `now`. */
export function notExpired(row: Pick<TokenTimes, 'expires_at'>, now: Date): boolean {
  return !row.expires_at || Date.parse(row.expires_at) > now.getTime();
}

/** True while the time a transient failure set has not come: the provider is not asked. */
export function backingOff(row: RetryState, now: Date): boolean {
  return (
    row.status === 'refresh_failing' &&
    row.retry_at !== null &&
    Date.parse(row.retry_at) > now.getTime()
  );
}

/** Seconds until the connection's next retry (at least 1), for `Retry-After`. */
export function secondsUntilRetry(row: Pick<RetryState, 'retry_at'>, now: Date): number {
  const at = row.retry_at ? Date.parse(row.retry_at) : 0;
  return Math.max(1, Math.ceil((at - now.getTime()) / 1000));
}

/**
 * Exponential backoff with full jitter (AWS architecture blog), at least the provider's ask.
 * `attempt` counts from 0; the result lies between half and all of min(max, base·2^attempt).
 */
export function backoffMs(
  attempt: number,
  base: number,
  max: number,
  retryAfterMs?: number,
  random = Math.random,
): number {
  const exp = Math.min(max, base * 2 ** attempt);
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * When the scheduler may try again after the `failures`-th consecutive transient failure:
 * backoff from {@link RETRY_BASE_MS}, never sooner than the provider's `Retry-After`.
 */
export function nextRetryAt(
  failures: number,
  now: Date,
  retryAfterMs?: number,
  random = Math.random,
): Date {
  return new Date(
    now.getTime() + backoffMs(failures, RETRY_BASE_MS, RETRY_MAX_MS, retryAfterMs, random),
  );
}
