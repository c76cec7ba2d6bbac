/**
 * Issue 12: an in-process cache whose entries hold while a counter stays where it was when
 * they were read — a `cache_epochs` row that every write bumps, in any process. Every
 * request reads the counter first and hands it to `adopt`; a moved counter empties the
 * cache, so a change committed before the request began is always seen. An entry read under
 * a counter that moved meanwhile (a write raced the read) is not kept. Past `max` entries
 * the cache starts over.
 */
export interface EpochCache<V> {
  /** The counter as read now (undefined: the row is missing, nothing may be cached). */
  adopt(epoch: string | undefined): string | undefined;
  get(epoch: string | undefined, key: string): V | undefined;
  /** Keeps `value` unless the counter moved since `epoch` was read. */
  set(epoch: string | undefined, key: string, value: V): void;
}

export function createEpochCache<V>(max: number): EpochCache<V> {
  let cachedEpoch: string | undefined;
  const entries = new Map<string, V>();
  return {
    adopt(epoch) {
      if (epoch !== cachedEpoch) {
        entries.clear();
        cachedEpoch = epoch;
      }
      return epoch;
    },
    get(epoch, key) {
      return epoch !== undefined && epoch === cachedEpoch ? entries.get(key) : undefined;
    },
    set(epoch, key, value) {
      if (epoch === undefined || epoch !== cachedEpoch) return;
      if (entries.size >= max) entries.clear();
      entries.set(key, value);
    },
  };
}
