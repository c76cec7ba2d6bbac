import type { Logger } from 'pino';

/**
 * Runs `run` once after `ms` unless the returned cancel is called first. `run`'s promise is
 * the tick it started, for a timer that wants to wait for it (tests firing ticks themselves).
 */
export type Timer = (ms: number, run: () => Promise<void>) => () => void;

/**
 * A real timer: the loop must be cancellable by `stop()` and must not keep the process alive
 * on its own (unref), which a clock or a sleep cannot express.
 */
export const systemTimer: Timer = (ms, run) => {
  const timer = setTimeout(() => void run(), ms).unref();
  return () => clearTimeout(timer);
};

/** A background loop: one tick at a time, the next `intervalMs` after the last one ended. */
export interface JobLoop {
  start(): void;
  /** Stops scheduling ticks and waits for the one running, if any. */
  stop(): Promise<void>;
  /** True between `start()` and `stop()`. */
  running(): boolean;
}

export function createJobLoop(deps: {
  tick: () => Promise<unknown>;
  timer: Timer;
  intervalMs: number;
  log: Logger;
  /** Names the loop in the log line of a failed tick. */
  name: string;
}): JobLoop {
  const { timer, log } = deps;
  let cancel: (() => void) | undefined;
  let running: Promise<void> | undefined;
  let active = false;

  const loop = (): Promise<void> => {
    cancel = undefined;
    const current = deps
      .tick()
      .then(
        () => undefined,
        (error: unknown) => log.error({ err: error }, `${deps.name} tick failed`),
      )
      .finally(() => {
        running = undefined;
        if (active) cancel = timer(deps.intervalMs, loop);
      });
    running = current;
    return current;
  };

  return {
    start() {
      if (active) return;
      active = true;
      // A tick still running from before a stop() schedules the next one when it ends:
      // starting another loop now would run two.
      if (!running) cancel = timer(0, loop);
    },
    async stop() {
      active = false;
      cancel?.();
      cancel = undefined;
      await running;
    },
    running: () => active,
  };
}
