import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Whole days, 0 to 36500 (0 keeps forever); checked in full by `parseRetention`. */
const RETENTION_DAYS_PATTERN = '^[0-9]{1,5}$';

/** Leases and node heartbeats: a dead node's work moves within this (issue 14). */
export const DEFAULT_LEASE_SECONDS = 20;

/** The environment variables Outlink reads, and nothing else reads `process.env`. */
export const EnvSchema = Type.Object({
  OUTLINK_BASE_URL: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  OUTLINK_LISTEN: Type.Optional(Type.String({ pattern: '^[^\\s]+:\\d{1,5}$' })),
  OUTLINK_DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  OUTLINK_DATABASE_URL: Type.Optional(
    Type.String({ pattern: '^(sqlite:|postgres://|postgresql://)' }),
  ),
  OUTLINK_TLS: Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off')])),
  OUTLINK_TLS_CERT: Type.Optional(Type.String({ minLength: 1 })),
  OUTLINK_TLS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  OUTLINK_TRUST_PROXY: Type.Optional(Type.String({ minLength: 1 })),
  OUTLINK_ALLOW_ADDRESSES: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  OUTLINK_METRICS_ALLOW: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  OUTLINK_MASTER_KEY: Type.Optional(Type.String({ minLength: 1 })),
  OUTLINK_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 12, maxLength: 256 })),
  OUTLINK_LEASE_SECONDS: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  OUTLINK_DATABASE_POOL_MAX: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  OUTLINK_DATABASE_CONNECT_TIMEOUT_SECONDS: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
  OUTLINK_RETAIN_EVENTS_DAYS: Type.Optional(Type.String({ pattern: RETENTION_DAYS_PATTERN })),
  OUTLINK_RETAIN_WEBHOOK_DELIVERIES_DAYS: Type.Optional(
    Type.String({ pattern: RETENTION_DAYS_PATTERN }),
  ),
  OUTLINK_RETAIN_AUTHORIZATION_FLOWS_DAYS: Type.Optional(
    Type.String({ pattern: RETENTION_DAYS_PATTERN }),
  ),
  OUTLINK_NOTIFY_MAIL_SERVER: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  OUTLINK_NOTIFY_EMAILS: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  OUTLINK_NOTIFY_LANGUAGE: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('ja')])),
  OUTLINK_LOG_LEVEL: Type.Optional(
    Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    ),
  ),
});
export type Env = Static<typeof EnvSchema>;

export type DatabaseTarget =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgres'; readonly url: string };

/** The validated, frozen configuration passed down from the composition root. */
export interface Config {
  readonly baseUrl: URL;
  readonly baseUrlIsHttps: boolean;
  readonly listen: { readonly host: string; readonly port: number };
  readonly dataDir: string;
  readonly database: DatabaseTarget;
  readonly tls:
    | { readonly mode: 'generated' }
    | { readonly mode: 'files'; readonly certFile: string; readonly keyFile: string }
    | { readonly mode: 'off' };
  /**
   * The reverse proxies whose `X-Forwarded-For` is believed: explicit addresses, CIDRs or the
   * named ranges `loopback`, `linklocal`, `uniquelocal`; never "every hop" (issue 11).
   */
  readonly trustProxy: readonly string[] | undefined;
  /**
   * Address ranges (CIDRs or single addresses) Outlink may connect to although they are
   * refused by default: link-local and metadata addresses, `0.0.0.0/8`, multicast, broadcast
   * (`domain/address-policy.ts`, issue 11). Empty by default.
   */
  readonly allowAddresses: readonly string[];
  /**
   * The client addresses (CIDRs or single addresses) that may read `/metrics` without an API
   * token (issue 13 item 5). Empty by default: a `metrics:read` token is then needed.
   */
  readonly metricsAllow: readonly string[];
  readonly masterKeys: readonly Buffer[] | undefined;
  readonly adminPassword: string | undefined;
  readonly logLevel: string;
  /**
   * How long a lease (one handler per mailbox, one refresh per connection, across processes)
   * holds without renewal, and how long a silent node counts as alive: a crashed node's work
   * moves to the others after at most this long (default 20 s; holders renew every third).
   */
  readonly leaseSeconds: number;
  /** PostgreSQL pool per node: connections at most, and how long opening one may take. */
  readonly databasePool: { readonly max: number; readonly connectTimeoutMs: number };
  /** How long finished records are kept before the scheduler prunes them. */
  readonly retention: RetentionSettings;
  /** Where notices to the administrators go by email (issue 13). */
  readonly notifications: NotificationSettings;
}

/**
 * Notices by email: the outgoing (SMTP) mail server that sends them, by name or id, and who
 * gets them. Without both, notices go to webhooks only.
 */
export interface NotificationSettings {
  readonly mailServer: string | undefined;
  readonly recipients: readonly string[];
  /** The language of the emails (`en` by default). */
  readonly language: 'en' | 'ja';
}

/** Days to keep each kind of record; 0 keeps it forever. */
export interface RetentionSettings {
  /** The event log, by the time of the event. */
  readonly eventsDays: number;
  /** Delivered and given-up webhook deliveries, by the time they were queued. */
  readonly webhookDeliveriesDays: number;
  /** Authorization flows, from when they ended or expired. */
  readonly authorizationFlowsDays: number;
}

export const DEFAULT_RETENTION: RetentionSettings = {
  eventsDays: 90,
  webhookDeliveriesDays: 30,
  authorizationFlowsDays: 1,
};

/** One configuration problem, naming the variable at fault. */
export interface ConfigViolation {
  readonly variable: string;
  readonly problem: string;
  /** A stable code for problems an administrator may script against (`trust_proxy_invalid`). */
  readonly code?: string;
}

/** Thrown when the environment breaks the schema; lists every violation at once. */
export class ConfigError extends Error {
  readonly violations: readonly ConfigViolation[];
  constructor(violations: readonly ConfigViolation[]) {
    super(
      `Invalid configuration:\n${violations.map((v) => `  - ${describeViolation(v)}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.violations = violations;
  }
}

/** `VARIABLE: problem (code)`, as the error message and the CLI print a violation. */
export function describeViolation(v: ConfigViolation): string {
  return `${v.variable}: ${v.problem}${v.code ? ` (${v.code})` : ''}`;
}

/**
 * Reads the environment once, reports every violation together, and freezes the result.
 * @param env usually `process.env`; tests pass their own object.
 * @param cwd directory that relative paths are resolved against.
 */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Config {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const violations: ConfigViolation[] = [];
  for (const error of Value.Errors(EnvSchema, raw)) {
    violations.push({ variable: error.path.slice(1), problem: describeSchemaError(error.message) });
  }
  const valid = violations.length === 0 ? (raw as Env) : ({} as Env);

  const baseUrl = parseBaseUrl(raw.OUTLINK_BASE_URL ?? 'https://localhost:8443', violations);
  const listen = parseListen(raw.OUTLINK_LISTEN ?? '127.0.0.1:8443', violations);
  const dataDir = resolvePath(cwd, raw.OUTLINK_DATA_DIR ?? './data');
  const database = parseDatabase(raw.OUTLINK_DATABASE_URL, dataDir, cwd, violations);
  const tls = parseTls(raw, cwd, violations);
  const masterKeys = parseMasterKeys(raw.OUTLINK_MASTER_KEY, violations);
  const trustProxy = parseTrustProxy(raw.OUTLINK_TRUST_PROXY, violations);
  const allowAddresses = parseAllowAddresses(raw.OUTLINK_ALLOW_ADDRESSES, violations);
  const metricsAllow = parseCidrList(
    'OUTLINK_METRICS_ALLOW',
    'metrics_allow_invalid',
    raw.OUTLINK_METRICS_ALLOW,
    violations,
  );
  if (tls.mode === 'off' && baseUrl && baseUrl.protocol !== 'https:') {
    violations.push({
      variable: 'OUTLINK_BASE_URL',
      problem:
        'with OUTLINK_TLS=off the base URL must still be https:// (the proxy terminates TLS)',
    });
  }
  const leaseSeconds = Number(raw.OUTLINK_LEASE_SECONDS ?? DEFAULT_LEASE_SECONDS);
  if (!(leaseSeconds >= 2 && leaseSeconds <= 600)) {
    violations.push({
      variable: 'OUTLINK_LEASE_SECONDS',
      problem: 'must be a whole number of seconds from 2 to 600',
    });
  }
  const poolMax = Number(raw.OUTLINK_DATABASE_POOL_MAX ?? 10);
  if (!(poolMax >= 1 && poolMax <= 1000)) {
    violations.push({
      variable: 'OUTLINK_DATABASE_POOL_MAX',
      problem: 'must be a whole number of connections from 1 to 1000',
    });
  }
  const connectTimeout = Number(raw.OUTLINK_DATABASE_CONNECT_TIMEOUT_SECONDS ?? 5);
  if (!(connectTimeout >= 1 && connectTimeout <= 120)) {
    violations.push({
      variable: 'OUTLINK_DATABASE_CONNECT_TIMEOUT_SECONDS',
      problem: 'must be a whole number of seconds from 1 to 120',
    });
  }
  const retention = parseRetention(raw, violations);
  const notifications = parseNotifications(raw, violations);
  if (violations.length > 0) throw new ConfigError(dedupe(violations));

  return Object.freeze({
    baseUrl: baseUrl as URL,
    baseUrlIsHttps: (baseUrl as URL).protocol === 'https:',
    listen: Object.freeze(listen as { host: string; port: number }),
    dataDir,
    database: Object.freeze(database as DatabaseTarget),
    tls: Object.freeze(tls),
    trustProxy: trustProxy ? Object.freeze(trustProxy) : undefined,
    allowAddresses: Object.freeze(allowAddresses),
    metricsAllow: Object.freeze(metricsAllow),
    masterKeys: masterKeys ? Object.freeze(masterKeys) : undefined,
    adminPassword: valid.OUTLINK_ADMIN_PASSWORD,
    logLevel: valid.OUTLINK_LOG_LEVEL ?? 'info',
    leaseSeconds,
    databasePool: Object.freeze({ max: poolMax, connectTimeoutMs: connectTimeout * 1000 }),
    retention: Object.freeze(retention),
    notifications: Object.freeze(notifications),
  });
}

function describeSchemaError(message: string): string {
  return message.replace(/^Expected union value$/, 'not one of the allowed values');
}

function dedupe(violations: ConfigViolation[]): ConfigViolation[] {
  const seen = new Set<string>();
  return violations.filter((v) => {
    const key = `${v.variable}\0${v.problem}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function resolvePath(cwd: string, path: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function parseBaseUrl(value: string, violations: ConfigViolation[]): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    violations.push({ variable: 'OUTLINK_BASE_URL', problem: 'is not an absolute URL' });
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    violations.push({ variable: 'OUTLINK_BASE_URL', problem: 'must start with https://' });
  }
  if (url.search || url.hash || url.username || url.password) {
    violations.push({
      variable: 'OUTLINK_BASE_URL',
      problem: 'must not carry a query, fragment or credentials',
    });
  }
  // A canonical form without the trailing slash keeps derived URLs free of "//".
  return new URL(url.href.replace(/\/+$/, ''));
}

function parseListen(value: string, violations: ConfigViolation[]) {
  const at = value.lastIndexOf(':');
  const host = value.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(value.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    violations.push({
      variable: 'OUTLINK_LISTEN',
      problem: 'must be host:port with a port 0–65535',
    });
    return undefined;
  }
  return { host, port };
}

function parseDatabase(
  value: string | undefined,
  dataDir: string,
  cwd: string,
  violations: ConfigViolation[],
): DatabaseTarget | undefined {
  if (value === undefined) return { kind: 'sqlite', file: resolve(dataDir, 'outlink.db') };
  if (value.startsWith('sqlite:')) {
    const file = value.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!file) {
      violations.push({ variable: 'OUTLINK_DATABASE_URL', problem: 'sqlite: needs a file path' });
      return undefined;
    }
    return { kind: 'sqlite', file: file === ':memory:' ? file : resolvePath(cwd, file) };
  }
  try {
    new URL(value);
  } catch {
    violations.push({
      variable: 'OUTLINK_DATABASE_URL',
      problem: 'is not a valid postgres:// URL',
    });
    return undefined;
  }
  return { kind: 'postgres', url: value };
}

function parseTls(
  raw: Record<string, string>,
  cwd: string,
  violations: ConfigViolation[],
): Config['tls'] {
  const cert = raw.OUTLINK_TLS_CERT;
  const key = raw.OUTLINK_TLS_KEY;
  if (raw.OUTLINK_TLS === 'off') {
    if (!raw.OUTLINK_TRUST_PROXY) {
      violations.push({
        variable: 'OUTLINK_TLS',
        problem: 'off is allowed only behind a TLS-terminating proxy: set OUTLINK_TRUST_PROXY too',
      });
    }
    return { mode: 'off' };
  }
  if ((cert === undefined) !== (key === undefined)) {
    violations.push({
      variable: cert === undefined ? 'OUTLINK_TLS_CERT' : 'OUTLINK_TLS_KEY',
      problem: 'OUTLINK_TLS_CERT and OUTLINK_TLS_KEY must be given together',
    });
  }
  if (cert && key) {
    return { mode: 'files', certFile: resolvePath(cwd, cert), keyFile: resolvePath(cwd, key) };
  }
  return { mode: 'generated' };
}

function parseMasterKeys(
  value: string | undefined,
  violations: ConfigViolation[],
): Buffer[] | undefined {
  if (value === undefined) return undefined;
  const keys = value.split(',').map((part) => Buffer.from(part.trim(), 'base64'));
  if (keys.some((k) => k.length !== 32)) {
    violations.push({
      variable: 'OUTLINK_MASTER_KEY',
      problem: 'must be base64 of exactly 32 bytes (comma-separated, newest first, when rotating)',
    });
    return undefined;
  }
  return keys;
}

function parseRetention(
  raw: Record<string, string>,
  violations: ConfigViolation[],
): RetentionSettings {
  const days = (variable: string, fallback: number) => {
    const value = raw[variable];
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!(Number.isInteger(n) && n >= 0 && n <= 36_500)) {
      violations.push({
        variable,
        problem: 'must be a whole number of days from 0 (keep forever) to 36500',
      });
      return fallback;
    }
    return n;
  };
  return {
    eventsDays: days('OUTLINK_RETAIN_EVENTS_DAYS', DEFAULT_RETENTION.eventsDays),
    webhookDeliveriesDays: days(
      'OUTLINK_RETAIN_WEBHOOK_DELIVERIES_DAYS',
      DEFAULT_RETENTION.webhookDeliveriesDays,
    ),
    authorizationFlowsDays: days(
      'OUTLINK_RETAIN_AUTHORIZATION_FLOWS_DAYS',
      DEFAULT_RETENTION.authorizationFlowsDays,
    ),
  };
}

/** `OUTLINK_NOTIFY_*`: both the server and the addresses, or neither. */
function parseNotifications(
  raw: Record<string, string>,
  violations: ConfigViolation[],
): NotificationSettings {
  const language = raw.OUTLINK_NOTIFY_LANGUAGE === 'ja' ? 'ja' : 'en';
  const recipients = (raw.OUTLINK_NOTIFY_EMAILS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const invalid = recipients.filter((entry) => !/^[^\s@<>,;]+@[^\s@<>,;]+$/.test(entry));
  if (invalid.length > 0) {
    violations.push({
      variable: 'OUTLINK_NOTIFY_EMAILS',
      code: 'notify_emails_invalid',
      problem: `${invalid.map((entry) => JSON.stringify(entry.slice(0, 60))).join(', ')} is not an email address (comma-separated addresses)`,
    });
  }
  const mailServer = raw.OUTLINK_NOTIFY_MAIL_SERVER;
  if ((mailServer === undefined) !== (recipients.length === 0)) {
    violations.push({
      variable: mailServer === undefined ? 'OUTLINK_NOTIFY_MAIL_SERVER' : 'OUTLINK_NOTIFY_EMAILS',
      code: 'notify_settings_incomplete',
      problem:
        'OUTLINK_NOTIFY_MAIL_SERVER (an outgoing mail server by name or id) and OUTLINK_NOTIFY_EMAILS (who gets the notices) must be given together',
    });
  }
  return { mailServer, recipients: invalid.length > 0 ? [] : recipients, language };
}

/** Names proxy-addr (Fastify's `trustProxy`) knows for fixed address ranges. */
const NAMED_PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Only explicit proxies: `true` (or a hop count) would believe an `X-Forwarded-For` that any
 * client writes, and so let every client pick the address the login limit counts.
 */
function parseTrustProxy(
  value: string | undefined,
  violations: ConfigViolation[],
): string[] | undefined {
  if (value === undefined) return undefined;
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.some((entry) => /^(true|\*|\d+)$/i.test(entry))) {
    violations.push({
      variable: 'OUTLINK_TRUST_PROXY',
      code: 'trust_proxy_not_explicit',
      problem:
        'must list the proxy addresses or CIDRs (e.g. 10.0.0.5 or 10.0.0.0/24, comma-separated); true or a hop count would let any client forge X-Forwarded-For',
    });
    return undefined;
  }
  const invalid = entries.filter((entry) => !isProxyEntry(entry));
  if (invalid.length > 0 || entries.length === 0) {
    violations.push({
      variable: 'OUTLINK_TRUST_PROXY',
      code: 'trust_proxy_invalid',
      problem: `${invalid.map((entry) => JSON.stringify(entry.slice(0, 60))).join(', ') || 'the value'} is not an IP address, a CIDR, or loopback / linklocal / uniquelocal`,
    });
    return undefined;
  }
  return entries;
}

/**
 * `OUTLINK_ALLOW_ADDRESSES`: comma-separated CIDRs or single addresses, written the plain way
 * (`169.254.10.0/24`, `fd00:ec2::254`), re-allowed although refused by default.
 */
function parseAllowAddresses(value: string | undefined, violations: ConfigViolation[]): string[] {
  return parseCidrList('OUTLINK_ALLOW_ADDRESSES', 'allow_addresses_invalid', value, violations);
}

/** Comma-separated CIDRs or single addresses, each written the plain way. */
function parseCidrList(
  variable: string,
  code: string,
  value: string | undefined,
  violations: ConfigViolation[],
): string[] {
  if (value === undefined) return [];
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const invalid = entries.filter((entry) => !isCidr(entry));
  if (invalid.length > 0 || entries.length === 0) {
    violations.push({
      variable,
      code,
      problem: `${invalid.map((entry) => JSON.stringify(entry.slice(0, 60))).join(', ') || 'the value'} is not an IP address or a CIDR (e.g. 169.254.10.0/24 or fd00:ec2::254, comma-separated)`,
    });
    return [];
  }
  return entries;
}

function isProxyEntry(entry: string): boolean {
  if (NAMED_PROXY_RANGES.has(entry)) return true;
  return isCidr(entry);
}

/** An IP address in its plain form, or one with a `/prefix` that fits its family. */
function isCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
