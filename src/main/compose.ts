import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { createCipher } from '../crypto/cipher.js';
import {
  createFileKeyring,
  createStaticKeyring,
  generateMasterKey,
  type Keyring,
  keyFileExists,
  writeKeyFile,
} from '../crypto/keyring.js';
import { createAddressPolicy } from '../domain/address-policy.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import { createParsePool } from '../handler/parse-pool.js';
import {
  createMailPoller,
  type MailPoller,
  type MailPollerHooks,
  type MailPollerOptions,
} from '../jobs/mail-poller.js';
import { createNotifier, type Notifier, type NotifierOptions } from '../jobs/notifier.js';
import { createRetention } from '../jobs/retention.js';
import { createScheduler, type Scheduler, type SchedulerOptions } from '../jobs/scheduler.js';
import {
  createWebhookDispatcher,
  DEFAULT_WEBHOOK_DISPATCHER_OPTIONS,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../jobs/webhook-dispatcher.js';
import { DEFAULT_MAIL_TIMEOUTS, type MailTimeouts, type MailTlsOptions } from '../mail/endpoint.js';
import { createMailClient } from '../mail/mail-client.js';
import {
  createAddressGuard,
  createGuardedFetch,
  type GuardedFetch,
  type Resolver,
} from '../net/address-guard.js';
import { createDiscovery, type Fetch } from '../oauth/discovery.js';
import { acknowledgementWords } from '../presenters/acknowledgements.js';
import { createNoticeWords } from '../presenters/notifications.js';
import { reauthorizationWords } from '../presenters/reauthorizations.js';
import { createApiTokenService } from '../services/api-tokens.js';
import { createAuthorizationFlows } from '../services/authorizations.js';
import {
  createClusterService,
  createNodeRegistration,
  type NodeRegistration,
} from '../services/cluster.js';
import { createRevoker } from '../services/connection-revocation.js';
import { createConnectionService } from '../services/connections.js';
import { createDiagnoseService, readOnlyTokenSource } from '../services/diagnose/index.js';
import { createEventService, type EventService } from '../services/events.js';
import type { Services } from '../services/index.js';
import { createIssueService } from '../services/issues.js';
import { createKeyService } from '../services/keys.js';
import { createLinkService } from '../services/links.js';
import type { LoginGuardOptions } from '../services/login-guard.js';
import { createMailHandlerService } from '../services/mail-handler.js';
import { createMailServerService, type MailServerService } from '../services/mail-servers.js';
import { createMetrics } from '../services/metrics.js';
import { createNotificationService } from '../services/notifications.js';
import { createReauthorizationService } from '../services/reauthorizations.js';
import { ADMIN_USERNAME, createUserService } from '../services/users.js';
import { createWebhookService } from '../services/webhooks.js';
import { isDatabaseUnavailable, openStore, type Store } from '../store/db.js';
import { CODE_SCHEMA_VERSION } from '../store/migrations/index.js';
import { createSecretRepository } from '../store/repositories/secrets.js';
import { createLeases } from '../tokens/leases.js';
import { createTokenService, type TokenServiceOptions } from '../tokens/token-service.js';

/**
 * What one process composes: the services the edges share, plus the background jobs that
 * only an entry point starts (`serve` and `worker`: the scheduler and the mail poller).
 */
export interface Composition extends Services {
  readonly scheduler: Scheduler;
  /** Webhook deliveries, on their own loop. */
  readonly webhookDispatcher: WebhookDispatcher;
  /** Due mailboxes, acknowledgements, and IDLE watchers (the mail handler's background). */
  readonly mailPoller: MailPoller;
  /** Notices to administrators: secret reminders, late notices, emails (issue 13). */
  readonly notifier: Notifier;
  /** This process in the cluster's node registry; `serve` and `worker` start it. */
  readonly node: NodeRegistration;
}

export interface ComposeOptions {
  readonly log: Logger;
  /** A long-running process (`serve`, `worker`): SQLite checkpoints on a thread of its own. */
  readonly longRunning?: boolean;
  readonly clock?: Clock;
  readonly fetch?: Fetch;
  /** Called once with a generated admin password, which is never logged. */
  readonly onGeneratedAdminPassword?: (password: string, file: string) => void;
  /** Waits between token request retries; tests pass a fast one. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly tokenOptions?: Partial<TokenServiceOptions>;
  readonly schedulerOptions?: Partial<SchedulerOptions>;
  readonly webhookOptions?: Partial<WebhookDispatcherOptions>;
  readonly notifierOptions?: Partial<NotifierOptions>;
  readonly mailPollerOptions?: Partial<MailPollerOptions>;
  /** Told when an IDLE watcher watches and when its run ends (tests wait for these). */
  readonly mailPollerHooks?: MailPollerHooks;
  /**
   * TLS trust for mail servers: `ca` replaces Node's roots (tests pass their CA; deployments
   * use `NODE_EXTRA_CA_CERTS`). Certificates are verified either way.
   */
  readonly mailTls?: MailTlsOptions;
  /** Timeouts of every mail network step; tests shorten them. */
  readonly mailTimeouts?: Partial<MailTimeouts>;
  /**
   * Resolves host names for every outgoing connection (mail servers, and `fetch` when none is
   * given); the system resolver by default. Tests answer names without DNS.
   */
  readonly resolve?: Resolver;
  /** Sign-in limits (per address, per user name, password hashes at once); tests shorten them. */
  readonly loginGuard?: Partial<LoginGuardOptions>;
}

export const MASTER_KEY_FILE = 'master.key';
export const INITIAL_ADMIN_PASSWORD_FILE = 'initial-admin-password';

/**
 * The composition root: opens the database, runs migrations, loads and checks the master
 * key, bootstraps the admin and wires the services. Fails with a catalog error, never later.
 */
export async function compose(config: Config, options: ComposeOptions): Promise<Composition> {
  const clock = options.clock ?? systemClock;
  const store = openStore(config.database, {
    onIdleError: (error) => options.log.warn({ err: error }, 'idle database connection lost'),
    poolMax: config.databasePool.max,
    connectTimeoutMs: config.databasePool.connectTimeoutMs,
    ...(options.longRunning
      ? {
          backgroundCheckpoints: {
            onError: (error: Error) => options.log.warn({ err: error }, 'WAL checkpoint failed'),
          },
        }
      : {}),
  });
  const leaseMs = config.leaseSeconds * 1000;
  try {
    await store.migrate({ now: clock.now(), nodeTimeoutMs: leaseMs });
    const keyring = await openKeyring(config, store);
    const cipher = createCipher(keyring);
    const db = store.db;
    // Issue 11: no connection reaches a link-local or metadata address unless re-allowed.
    const addresses = createAddressPolicy(config.allowAddresses);
    const guard = createAddressGuard(addresses, options.resolve);
    const guardedFetch = options.fetch ? undefined : createGuardedFetch(guard);
    const fetch = options.fetch ?? (guardedFetch as GuardedFetch).fetch;
    // The node's id is also the owner name of every lease it takes, so the registry can tell
    // which node holds which work.
    const owner = randomUUID();
    const metrics = createMetrics({ db, now: () => clock.now() });
    // Background work asks first whether the database answers, and skips its tick while it
    // does not: it pauses, says so once, and resumes by itself.
    const databaseUp = createDatabaseWatch(store, options.log);
    let events: EventService | undefined;
    const webhooks = createWebhookService({
      db,
      cipher,
      clock,
      fetch,
      log: options.log,
      events: () => events as EventService,
      baseUrl: config.baseUrl,
      addresses,
      timeoutMs: options.webhookOptions?.timeoutMs ?? DEFAULT_WEBHOOK_DISPATCHER_OPTIONS.timeoutMs,
    });
    // Declared before the mail client exists: notices are emailed through a mail server
    // looked up when a notice is sent.
    let mailServers: MailServerService | undefined;
    const mailClient: { current?: ReturnType<typeof createMailClient> } = {};
    const notifications = createNotificationService({
      db,
      clock,
      log: options.log,
      settings: config.notifications,
      baseUrl: config.baseUrl,
      webhooks: webhooks.subscriber,
      events: () => events as EventService,
      mail: {
        smtp: (...args) =>
          (mailClient.current as ReturnType<typeof createMailClient>).smtp(...args),
      },
      mailServer: async (idOrName) => {
        const servers = mailServers as MailServerService;
        return servers.runtime((await servers.find(idOrName)).id);
      },
      words: createNoticeWords(config.baseUrl),
    });
    // The notices stand in front of the webhooks: connection failures and recoveries are sent
    // de-duplicated, every other event as before.
    events = createEventService({
      db,
      clock,
      subscribers: [notifications.subscriber, metrics.subscriber],
    });
    const keys = createKeyService({ db, cipher, events, clock });
    await keys.verify();
    // A node with an older or different key set would write what the others cannot read.
    await keys.checkKeySet();
    const users = createUserService({
      db,
      clock,
      events,
      loginGuard: options.loginGuard,
      // The generated first password is useless once changed: it leaves the disk with it.
      onPasswordChanged: (username) => {
        if (username !== ADMIN_USERNAME) return;
        rmSync(join(config.dataDir, INITIAL_ADMIN_PASSWORD_FILE), { force: true });
      },
      onEventError: (error) =>
        options.log.error({ err: error }, 'could not record failed sign-ins'),
    });
    const boot = await users.bootstrapAdmin(config.adminPassword);
    if (boot.generatedPassword) {
      const file = join(config.dataDir, INITIAL_ADMIN_PASSWORD_FILE);
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(file, `${boot.generatedPassword}\n`, { mode: 0o600 });
      options.onGeneratedAdminPassword?.(boot.generatedPassword, file);
    }
    const discover = createDiscovery({ fetch });
    const leases = createLeases({ db, clock });
    const tokens = createTokenService({
      db,
      cipher,
      clock,
      events,
      leases,
      owner,
      fetch,
      sleep: options.sleep,
      observe: metrics.observations,
      isUnavailable: isDatabaseUnavailable,
      options: { leaseTtlMs: leaseMs, ...options.tokenOptions },
    });
    const revoke = createRevoker({ db, cipher, clock, fetch });
    const connections = createConnectionService({ db, events, tokens, revoke });
    const mail = createMailClient({
      tokens,
      tls: options.mailTls ?? {},
      timeouts: { ...DEFAULT_MAIL_TIMEOUTS, ...options.mailTimeouts },
      guard,
    });
    mailClient.current = mail;
    const scheduler = createScheduler({
      db,
      clock,
      log: options.log,
      tokens,
      leases,
      owner,
      ready: databaseUp,
      skipLocked: store.dialect === 'postgres',
      retention: createRetention({
        db,
        clock,
        leases,
        owner,
        log: options.log,
        settings: config.retention,
      }),
      options: options.schedulerOptions,
    });
    const webhookDispatcher = createWebhookDispatcher({
      webhooks,
      leases,
      owner,
      log: options.log,
      ...(options.webhookOptions ? { options: options.webhookOptions } : {}),
    });
    mailServers = createMailServerService({
      db,
      cipher,
      clock,
      events,
      tokens,
      mail,
      addresses,
    });
    const parser = createParsePool({
      onError: (error) => options.log.warn({ err: error }, 'mail parse worker failed'),
    });
    const mailHandler = createMailHandlerService({
      db,
      parser,
      clock,
      log: options.log,
      events: {
        record: (trx, event) =>
          events!.record(trx, {
            type: event.type,
            actor: { kind: 'system' },
            mailServerId: event.mailServerId,
            data: event.data,
          }),
      },
      mail,
      leases,
      owner,
      leaseTtlMs: leaseMs,
      runtime: (id) => mailServers.runtime(id),
      resolve: (idOrName) => mailServers.find(idOrName),
      words: acknowledgementWords,
      observe: metrics.observations,
      onStatus: (id, name, status, error) => notifications.handlerStatus(id, name, status, error),
    });
    const notifier = createNotifier({
      notifications,
      leases,
      owner,
      log: options.log,
      ...(options.notifierOptions ? { options: options.notifierOptions } : {}),
    });
    const mailPoller = createMailPoller({
      mailHandler,
      mail,
      log: options.log,
      ready: databaseUp,
      ...(options.mailPollerOptions ? { options: options.mailPollerOptions } : {}),
      ...(options.mailPollerHooks ? { hooks: options.mailPollerHooks } : {}),
    });
    const links = createLinkService({
      db,
      cipher,
      clock,
      config,
      events,
      discover,
      onCredentialsChanged: (linkId) => connections.retryLinkFailures(linkId),
      revoke,
      addresses,
    });
    // Diagnose's own mail client: the stored token as it is, never refreshed.
    const diagnoseTokens = readOnlyTokenSource(db, cipher);
    const diagnose = createDiagnoseService({
      db,
      clock,
      config,
      links,
      fetch,
      discover,
      tokens: diagnoseTokens,
      mail: createMailClient({
        tokens: diagnoseTokens,
        tls: options.mailTls ?? {},
        timeouts: { ...DEFAULT_MAIL_TIMEOUTS, ...options.mailTimeouts },
        guard,
      }),
      mailServerRuntime: (id) => mailServers.runtime(id),
      ...(options.tokenOptions?.requestTimeoutMs
        ? { timeoutMs: options.tokenOptions.requestTimeoutMs }
        : {}),
    });
    const flows = createAuthorizationFlows({
      db,
      cipher,
      clock,
      config,
      events,
      fetch,
      ...(options.tokenOptions?.requestTimeoutMs
        ? { requestTimeoutMs: options.tokenOptions.requestTimeoutMs }
        : {}),
    });
    const node = createNodeRegistration({
      db,
      clock,
      log: options.log,
      identity: {
        id: owner,
        hostname: hostname(),
        pid: process.pid,
        version: PACKAGE_VERSION,
        schemaVersion: CODE_SCHEMA_VERSION,
      },
      heartbeatMs: Math.max(500, Math.min(5_000, leaseMs / 4)),
    });
    return {
      config,
      store,
      node,
      cluster: createClusterService({ db, clock, nodeTimeoutMs: leaseMs }),
      cipher,
      clock,
      log: options.log,
      events,
      users,
      keys,
      tokens,
      connections,
      webhooks,
      scheduler,
      webhookDispatcher,
      notifier,
      mailPoller,
      mail,
      mailServers,
      mailHandler,
      issues: createIssueService({ db }),
      flows,
      reauthorizations: createReauthorizationService({
        db,
        clock,
        config,
        events,
        flows,
        mailServers,
        mail,
        words: reauthorizationWords,
      }),
      apiTokens: createApiTokenService({ db, clock, events }),
      links,
      diagnose,
      metrics,
      schedulerRunning: () => scheduler.running(),
      close: async () => {
        await mailPoller.stop();
        await node.stop();
        await scheduler.stop();
        await webhookDispatcher.stop();
        await notifier.stop();
        await parser.close();
        await users.close();
        await guardedFetch?.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * Keys from `OUTLINK_MASTER_KEY`, else the key file, generated only while the database holds
 * no secret: a lost key file must stop the server, not silently start a new key.
 */
async function openKeyring(config: Config, store: Store): Promise<Keyring> {
  if (config.masterKeys) return createStaticKeyring(config.masterKeys);
  const file = join(config.dataDir, MASTER_KEY_FILE);
  if (keyFileExists(file)) return createFileKeyring(file);
  if (await createSecretRepository(store.db).anyStored()) {
    throw new OutlinkError('master_key_missing', { keyFile: file });
  }
  writeKeyFile(file, [generateMasterKey()]);
  return createFileKeyring(file);
}

/** The version in package.json, which every node reports to the registry. */
const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/**
 * Whether the database answers, for the background loops: one cheap round trip per tick. A
 * change is logged once, so an outage is two log lines, not one per tick.
 */
function createDatabaseWatch(store: Store, log: Logger): () => Promise<boolean> {
  let up = true;
  return async () => {
    try {
      await store.ping();
      if (!up) log.info('database reachable again: background work resumed');
      up = true;
    } catch (error) {
      if (up) log.warn({ err: error }, 'database unreachable: background work paused');
      up = false;
    }
    return up;
  };
}
