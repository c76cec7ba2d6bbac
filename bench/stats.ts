import { loadavg } from 'node:os';

/** The figures a benchmark reports for a series of rounds: the middle and the spread. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** First and third quartiles (linear interpolation between the sorted rounds). */
  readonly q1: number;
  readonly q3: number;
  readonly rounds: number;
}

/** The median and spread of `values` (at least one). */
export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('"values" must not be empty');
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.ceil(position);
    return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
  };
  return {
    median: at(0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    q1: at(0.25),
    q3: at(0.75),
    rounds: sorted.length,
  };
}

/** A spread rounded for a JSON report. */
export function roundedSpread(spread: Spread, digits: number): Spread {
  const r = (n: number) => Number(n.toFixed(digits));
  return {
    median: r(spread.median),
    min: r(spread.min),
    max: r(spread.max),
    q1: r(spread.q1),
    q3: r(spread.q3),
    rounds: spread.rounds,
  };
}

/** A spread as text: `median (min–max)`, with `digits` decimals. */
export function range(s: Spread, digits = 2): string {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

/** The machine's load averages (1, 5 and 15 minutes), printed beside a round's figures. */
export const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
