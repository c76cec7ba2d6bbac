/** Time as a dependency, so expiry tests move a clock instead of sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests can move. */
export function createManualClock(start = new Date('2026-01-01T00:00:00Z')) {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(ms: number) {
      current += ms;
    },
    set(date: Date) {
      current = date.getTime();
    },
  };
}

/** Waiting as a dependency, so tests can record a wait and return at once, or control it. */
export type Sleep = (ms: number) => Promise<void>;

/** Real waiting; `setTimeout` is what every injected sleep stands in for. */
export const systemSleep: Sleep = (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms));
