import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEpochCache } from '../../src/domain/epoch-cache.js';

describe('an epoch cache (issue 12)', () => {
  it('serves an entry while the counter stays, and nothing once it moved', () => {
    const cache = createEpochCache<string>(10);
    const epoch = cache.adopt('1');
    cache.set(epoch, 'a', 'kept');
    assert.equal(cache.get(cache.adopt('1'), 'a'), 'kept');
    assert.equal(cache.get(cache.adopt('2'), 'a'), undefined);
    // Back to an old value: the cache was emptied on the move, not hidden.
    assert.equal(cache.get(cache.adopt('1'), 'a'), undefined);
  });

  it('keeps no entry read under a counter that moved meanwhile', () => {
    const cache = createEpochCache<string>(10);
    const readAt = cache.adopt('1');
    cache.adopt('2'); // a write committed while the entry was being read
    cache.set(readAt, 'a', 'stale');
    assert.equal(cache.get(cache.adopt('2'), 'a'), undefined);
    assert.equal(cache.get('1', 'a'), undefined);
  });

  it('caches nothing without a counter', () => {
    const cache = createEpochCache<string>(10);
    const epoch = cache.adopt(undefined);
    cache.set(epoch, 'a', 'never');
    assert.equal(cache.get(epoch, 'a'), undefined);
  });

  it('starts over past its size', () => {
    const cache = createEpochCache<number>(2);
    const epoch = cache.adopt('1');
    cache.set(epoch, 'a', 1);
    cache.set(epoch, 'b', 2);
    cache.set(epoch, 'c', 3);
    assert.equal(cache.get(epoch, 'a'), undefined);
    assert.equal(cache.get(epoch, 'c'), 3);
  });
});
