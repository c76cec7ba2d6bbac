/**
 * The mail handler's background work (issue 10 item 2 and 9): every tick, run the mailboxes
 * that are due and send the acknowledgements that are owed; and for every enabled IMAP
 * mailbox keep one session idling on its folder (RFC 2177 IDLE), so that a new message
 * becomes an issue within seconds instead of at the next poll. A watcher that loses its
 * session reconnects with a growing delay; polling at the interval goes on meanwhile, so a
 * server without IDLE, or a watcher that keeps failing, only costs speed, never mail.
 */
import type { Logger } from 'pino';
import type { MailClient } from '../mail/mail-client.js';
import type { MailHandlerService } from '../services/mail-handler.js';

export interface MailPollerOptions {
  /** How often due mailboxes are looked for (default 10 s: a dead node's mailboxes move soon). */
  readonly intervalMs: number;
  /** Keep IDLE sessions on enabled IMAP mailboxes (default true). */
  readonly idle: boolean;
}

export const DEFAULT_MAIL_POLLER_OPTIONS: MailPollerOptions = { intervalMs: 10_000, idle: true };

export interface MailPollerHooks {
  /** A watcher's session is idling on its folder (tests wait for this). */
  onWatching?(mailServerId: string): void;
  /** A watcher saw new mail and the run it started ended. */
  onIdleRun?(mailServerId: string): void;
}

export interface MailPoller {
  /** One pass: due mailboxes, acknowledgements, watchers brought in line with the settings. */
  tick(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

interface Watcher {
  stopped: boolean;
  close(): void;
}

const RECONNECT_MS = [1_000, 5_000, 30_000, 120_000] as const;

export function createMailPoller(deps: {
  readonly mailHandler: MailHandlerService;
  readonly mail: MailClient;
  readonly log: Logger;
  /** Whether the database answers; a tick is skipped while it does not (issue 14). */
  readonly ready?: () => Promise<boolean>;
  readonly options?: Partial<MailPollerOptions>;
  readonly hooks?: MailPollerHooks;
}): MailPoller {
  const { mailHandler, log } = deps;
  const options = { ...DEFAULT_MAIL_POLLER_OPTIONS, ...deps.options };
  const watchers = new Map<string, Watcher>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  const watch = (id: string): Watcher => {
    const watcher: Watcher = { stopped: false, close: () => undefined };
    let failures = 0;
    const connect = async (): Promise<void> => {
      if (watcher.stopped) return;
      try {
        const runtime = await mailHandler.runtime(id);
        const { value } = await deps.mail.imap(runtime, {}, { watch: true });
        const client = value.client;
        watcher.close = () => client.close();
        if (watcher.stopped) return client.close();
        let busy = false;
        let again = false;
        const run = async () => {
          if (busy) {
            again = true;
            return;
          }
          busy = true;
          do {
            again = false;
            await mailHandler.runSoon(id);
            deps.hooks?.onIdleRun?.(id);
          } while (again && !watcher.stopped);
          busy = false;
        };
        client.on('exists', (event: { count: number; prevCount: number }) => {
          if (event.count > event.prevCount) void run();
        });
        client.on('close', () => {
          if (watcher.stopped) return;
          schedule();
        });
        await client.mailboxOpen(runtime.folder ?? 'INBOX', { readOnly: true });
        failures = 0;
        deps.hooks?.onWatching?.(id);
        // Mail that came while the watcher was away.
        void run();
      } catch (error) {
        log.warn({ err: error, mailServerId: id }, 'mail watcher could not connect');
        schedule();
      }
    };
    const schedule = () => {
      if (watcher.stopped) return;
      const delay = RECONNECT_MS[Math.min(failures++, RECONNECT_MS.length - 1)]!;
      setTimeout(() => void connect(), delay).unref();
    };
    void connect();
    return watcher;
  };

  const syncWatchers = async () => {
    const wanted = new Set(options.idle && !stopped ? await mailHandler.watchable() : []);
    for (const [id, watcher] of watchers) {
      if (wanted.has(id)) continue;
      watcher.stopped = true;
      watcher.close();
      watchers.delete(id);
    }
    for (const id of wanted) if (!watchers.has(id)) watchers.set(id, watch(id));
  };

  const tick = async () => {
    if (deps.ready && !(await deps.ready())) return;
    await mailHandler.runDue().catch((e: unknown) => log.error({ err: e }, 'mail poll failed'));
    await mailHandler
      .sendAcknowledgements()
      .catch((e: unknown) => log.error({ err: e }, 'acknowledgements failed'));
    await syncWatchers().catch((e: unknown) => log.error({ err: e }, 'mail watchers failed'));
  };

  const loop = () => {
    if (stopped) return;
    running = tick().finally(() => {
      running = undefined;
      if (!stopped) timer = setTimeout(loop, options.intervalMs).unref();
    });
  };

  return {
    tick,
    start() {
      if (!stopped) return;
      stopped = false;
      loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      for (const watcher of watchers.values()) {
        watcher.stopped = true;
        watcher.close();
      }
      watchers.clear();
    },
  };
}
