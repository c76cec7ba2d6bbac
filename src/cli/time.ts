import type { CliContext } from './context.js';

const UNITS = [
  { unit: 'd', seconds: 86_400, below: Number.POSITIVE_INFINITY },
  { unit: 'h', seconds: 3_600, below: 2 * 86_400 },
  { unit: 'min', seconds: 60, below: 3_600 },
  { unit: 's', seconds: 1, below: 60 },
] as const;

/**
 * `in 59 min` or `3 h ago`: the largest unit that keeps the number readable, rounded toward
 * zero, so that an expiry is never shown later than it is. Hours run up to two days, so that
 * 30 hours read as `30 h`, not `1 d`.
 */
export function relativeTime(ctx: CliContext, at: Date, now: Date): string {
  const delta = Math.trunc((at.getTime() - now.getTime()) / 1000);
  const span = Math.abs(delta);
  const { unit, seconds } = UNITS.findLast((u) => span < u.below) ?? UNITS[0];
  const amount = ctx.t(`cli.time.units.${unit}`, { n: Math.floor(span / seconds) });
  return ctx.t(delta >= 0 ? 'cli.time.future' : 'cli.time.past', { amount });
}

/** An instant as ISO 8601 in UTC to the second, the way it is stored minus the milliseconds. */
export function absoluteTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `in 59 min (2026-01-01T01:00:00Z)`, or the "none" text for a missing instant. */
export function bothTimes(ctx: CliContext, iso: string | null, now: Date): string {
  if (iso === null) return ctx.t('cli.links.value_none');
  const at = new Date(iso);
  return `${relativeTime(ctx, at, now)} (${absoluteTime(at)})`;
}
