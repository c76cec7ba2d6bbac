import type { Locale } from '../i18n/i18n.js';

const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/**
 * Localised dates for one page: absolute ones in UTC (the client script re-renders them in
 * the browser's time zone) and relative ones against the server clock.
 */
export interface DateFormat {
  /** "12 Mar 2026, 14:05 UTC" / "2026/03/12 14:05 UTC". */
  dateTime(iso: string): string;
  /** "12 Mar 2026" / "2026/03/12". */
  date(iso: string): string;
  /** "in 45 minutes", "3 days ago" / "45 分後", "3 日前". */
  relative(iso: string): string;
}

/** The date formats of `locale` with `now` as the reference for relative times. */
export function dateFormat(locale: Locale, now: Date): DateFormat {
  const { absolute, day, relative } = formattersOf(locale);
  const parse = (iso: string) => {
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? undefined : new Date(ms);
  };
  return {
    dateTime: (iso) => {
      const d = parse(iso);
      return d ? absolute.format(d) : iso;
    },
    date: (iso) => {
      const d = parse(iso);
      return d ? day.format(d) : iso;
    },
    relative: (iso) => {
      const d = parse(iso);
      if (!d) return iso;
      const seconds = Math.round((d.getTime() - now.getTime()) / 1000);
      return relative.format(...relativeParts(seconds));
    },
  };
}

interface Formatters {
  readonly absolute: Intl.DateTimeFormat;
  readonly day: Intl.DateTimeFormat;
  readonly relative: Intl.RelativeTimeFormat;
}
const cache = new Map<Locale, Formatters>();

/** Intl formatters are costly to build and immutable: one set per locale. */
function formattersOf(locale: Locale): Formatters {
  let found = cache.get(locale);
  if (!found) {
    found = {
      absolute: new Intl.DateTimeFormat(locale, {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        timeZone: 'UTC',
        timeZoneName: 'short',
      }),
      day: new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }),
      relative: new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }),
    };
    cache.set(locale, found);
  }
  return found;
}

/**
 * The largest unit that fits `seconds`, rounded: 5400 s → [2, 'hour']. A count that rounds
 * up to a whole larger unit is said in that unit: 3599 s → [1, 'hour'], not 60 minutes
 * (a token refreshed a moment ago would otherwise read "in 60 minutes" beside "in 1 hour").
 */
export function relativeParts(seconds: number): [number, Intl.RelativeTimeFormatUnit] {
  const size = Math.abs(seconds);
  const sign = seconds < 0 ? -1 : 1;
  for (const [i, [unit, length]] of UNITS.entries()) {
    if (size < length && unit !== 'second') continue;
    const count = Math.round(size / length);
    const larger = UNITS[i - 1];
    if (larger && count * length >= larger[1]) {
      return [sign * Math.round(size / larger[1]), larger[0]];
    }
    return [sign * count, unit];
  }
  return [seconds, 'second'];
}
