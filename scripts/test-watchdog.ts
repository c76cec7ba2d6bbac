// Loaded into every test file's process by `npm run test:unit` (scripts/run-tests.ts starts
// node with `--import ./scripts/test-watchdog.ts`, and the runner passes that on to each
// file's process). A file that overruns the runner's timeout is cancelled as a whole, and
// the runner then knows only the file, not what in it was stuck. This says, on the file's
// standard error (which the runner gathers), which test has been running long, or that none
// has finished for long (a `before` or `after` hook, or the file's own top level), and what
// the process is waiting on. It only reports; the runner's timeout still decides.
import { afterEach, beforeEach } from 'node:test';

/** The runner sets NODE_TEST_CONTEXT in each file's process; the runner itself has none. */
if (process.env.NODE_TEST_CONTEXT) {
  /**
   * A test or quiet spell this long is reported, then again after as long once more
   * (`OUTLINK_TEST_WATCHDOG_SECONDS` sets it, to look into one file run by itself).
   */
  const REPORT_AFTER_MS = Number(process.env.OUTLINK_TEST_WATCHDOG_SECONDS ?? 240) * 1000;
  const started = Date.now();
  const running = new Map<string, number>();
  let lastFinished = { name: '(none yet)', at: started };
  let reportedAt = 0;

  beforeEach((t) => {
    running.set(t.name, Date.now());
  });
  afterEach((t) => {
    running.delete(t.name);
    lastFinished = { name: t.name, at: Date.now() };
  });

  const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
  setInterval(
    () => {
      const now = Date.now();
      if (now - Math.max(lastFinished.at, reportedAt) < REPORT_AFTER_MS) return;
      reportedAt = now;
      const tests = [...running].map(([name, at]) => `"${name}" for ${seconds(now - at)}`);
      const waiting = new Map<string, number>();
      for (const kind of process.getActiveResourcesInfo()) {
        waiting.set(kind, (waiting.get(kind) ?? 0) + 1);
      }
      process.stderr.write(
        `watchdog: ${process.argv[1]} has run ${seconds(now - started)}; ` +
          `no test finished for ${seconds(now - lastFinished.at)} ` +
          `(last: "${lastFinished.name}"); running: ${tests.join(', ') || 'no test (a hook)'}; ` +
          `waiting on: ${[...waiting].map(([kind, n]) => `${kind}×${n}`).join(', ')}\n`,
      );
    },
    Math.min(5_000, REPORT_AFTER_MS / 2),
  ).unref();
}
