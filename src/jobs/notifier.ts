import type { Logger } from 'pino';
import type { NotificationService } from '../services/notifications.js';
import type { Leases } from '../tokens/leases.js';
import { createJobLoop, systemTimer, type Timer } from './loop.js';

export interface NotifierOptions {
  /** Pause between two passes. */
  readonly intervalMs: number;
}

export const DEFAULT_NOTIFIER_OPTIONS: NotifierOptions = { intervalMs: 30_000 };

export interface Notifier {
  /** One pass (reminders, late notices, emails); tests call it directly. */
  tick(): Promise<{ reminders: number; late: number; sent: number }>;
  start(): void;
  stop(): Promise<void>;
}

const LEASE = 'notifier';
/** Long enough for a pass of 20 emails at the mail timeouts. */
const LEASE_MS = 10 * 60_000;

/**
 * The notices' background loop (issue 13): client secret reminders, notices the one-hour
 * window held back while their state still holds, and the administrators' emails. A lease
 * keeps one process at a time on it, so an email goes out once.
 */
export function createNotifier(deps: {
  notifications: NotificationService;
  leases: Leases;
  owner: string;
  log: Logger;
  timer?: Timer;
  options?: Partial<NotifierOptions>;
}): Notifier {
  const options = { ...DEFAULT_NOTIFIER_OPTIONS, ...deps.options };
  const tick = async () => {
    if (!(await deps.leases.tryAcquire(LEASE, deps.owner, LEASE_MS))) {
      return { reminders: 0, late: 0, sent: 0 };
    }
    try {
      return await deps.notifications.tick();
    } finally {
      await deps.leases.release(LEASE, deps.owner);
    }
  };
  const loop = createJobLoop({
    tick,
    timer: deps.timer ?? systemTimer,
    intervalMs: options.intervalMs,
    log: deps.log,
    name: 'notifications',
  });
  return { tick, start: loop.start, stop: loop.stop };
}
