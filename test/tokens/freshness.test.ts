import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backingOff,
  backoffMs,
  isFresh,
  nextRetryAt,
  notExpired,
  refreshMarginMs,
  secondsUntilRetry,
} from '../../src/tokens/freshness.js';

const AT = new Date('2026-01-01T00:00:00Z');
const plus = (ms: number) => new Date(AT.getTime() + ms);
const iso = (ms: number) => plus(ms).toISOString();

describe('refresh margin and backoff (pure)', () => {
  it('counts a token fresh while more than min(5 minutes, a tenth of its lifetime) remains', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const plus = (ms: number) => new Date(at.getTime() + ms);
    assert.equal(refreshMarginMs(at, plus(3600_000)), 300_000);
    assert.equal(refreshMarginMs(at, plus(600_000)), 60_000);
    assert.equal(refreshMarginMs(at, plus(60_000)), 6_000);
    assert.equal(refreshMarginMs(undefined, plus(60_000)), 300_000);
  });

  it('backs off exponentially with jitter, never below the provider’s Retry-After', () => {
    assert.equal(
      backoffMs(0, 500, 10_000, undefined, () => 0),
      250,
    );
    assert.equal(
      backoffMs(0, 500, 10_000, undefined, () => 1),
      500,
    );
    assert.equal(
      backoffMs(3, 500, 10_000, undefined, () => 1),
      4_000,
    );
    assert.equal(
      backoffMs(10, 500, 10_000, undefined, () => 1),
      10_000,
    );
    assert.equal(
      backoffMs(0, 500, 10_000, 3_000, () => 1),
      3_000,
    );
  });
});

describe('isFresh (DESIGN §7 refresh margin)', () => {
  it('is fresh while more than the margin remains, not at the margin itself', () => {
    // An hour-long token: the margin is 5 minutes.
    const row = { last_refreshed_at: iso(0), expires_at: iso(3600_000) };
    assert.equal(isFresh(row, plus(3600_000 - 300_001)), true);
    assert.equal(isFresh(row, plus(3600_000 - 300_000)), false);
    assert.equal(isFresh(row, plus(3600_000 + 1)), false);
  });

  it('gives a short-lived token a tenth of its lifetime as margin', () => {
    const row = { last_refreshed_at: iso(0), expires_at: iso(60_000) };
    assert.equal(isFresh(row, plus(60_000 - 6_001)), true);
    assert.equal(isFresh(row, plus(60_000 - 6_000)), false);
  });

  it('takes the full 5 minutes when the issue time is unknown', () => {
    const row = { last_refreshed_at: null, expires_at: iso(60_000) };
    assert.equal(isFresh(row, AT), false);
    assert.equal(isFresh({ last_refreshed_at: null, expires_at: iso(300_001) }, AT), true);
  });

  it('counts a token without an expiry as fresh', () => {
    assert.equal(
      isFresh({ last_refreshed_at: null, expires_at: null }, plus(10 * 365 * 86_400_000)),
      true,
    );
  });
});

describe('notExpired', () => {
  it('holds until the expiry instant, and always without an expiry', () => {
    assert.equal(notExpired({ expires_at: iso(1) }, AT), true);
    assert.equal(notExpired({ expires_at: iso(0) }, AT), false);
    assert.equal(notExpired({ expires_at: null }, AT), true);
  });
});

describe('Retry-After windows', () => {
  it('backs off only a failing connection whose retry time has not come', () => {
    assert.equal(backingOff({ status: 'refresh_failing', retry_at: iso(1) }, AT), true);
    assert.equal(backingOff({ status: 'refresh_failing', retry_at: iso(0) }, AT), false);
    assert.equal(backingOff({ status: 'refresh_failing', retry_at: null }, AT), false);
    assert.equal(backingOff({ status: 'valid', retry_at: iso(60_000) }, AT), false);
    assert.equal(
      backingOff({ status: 'reauthorization_required', retry_at: iso(60_000) }, AT),
      false,
    );
  });

  it('says how many whole seconds remain, at least 1', () => {
    assert.equal(secondsUntilRetry({ retry_at: iso(120_000) }, AT), 120);
    assert.equal(secondsUntilRetry({ retry_at: iso(1_001) }, AT), 2);
    assert.equal(secondsUntilRetry({ retry_at: iso(1) }, AT), 1);
    assert.equal(secondsUntilRetry({ retry_at: iso(-5_000) }, AT), 1);
    assert.equal(secondsUntilRetry({ retry_at: null }, AT), 1);
  });

  it('retries after 30 s doubling per failure up to 15 min, never before the provider asks', () => {
    const all = () => 1;
    assert.deepEqual(nextRetryAt(0, AT, undefined, all), plus(30_000));
    assert.deepEqual(nextRetryAt(1, AT, undefined, all), plus(60_000));
    assert.deepEqual(
      nextRetryAt(1, AT, undefined, () => 0),
      plus(30_000),
    );
    assert.deepEqual(nextRetryAt(10, AT, undefined, all), plus(15 * 60_000));
    assert.deepEqual(nextRetryAt(1, AT, 120_000, all), plus(120_000));
    assert.deepEqual(nextRetryAt(5, AT, 1_000, all), plus(15 * 60_000));
  });
});
