import { isAbsolute, resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

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
  OUTLINK_MASTER_KEY: Type.Optional(Type.String({ minLength: 1 })),
  OUTLINK_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 12, maxLength: 256 })),
  OUTLINK_LEASE_SECONDS: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
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
  readonly trustProxy: string | boolean | undefined;
  readonly masterKeys: readonly Buffer[] | undefined;
  readonly adminPassword: string | undefined;
  readonly logLevel: string;
  /**
   * How long a mailbox lease (one handler per mailbox across processes) holds without a
   * heartbeat: a crashed holder blocks the mailbox at most this long.
   */
  readonly leaseSeconds: number;
}

/** One configuration problem, naming the variable at fault. */
export interface ConfigViolation {
  readonly variable: string;
  readonly problem: string;
}

/** Thrown when the environment breaks the schema; lists every violation at once. */
export class ConfigError extends Error {
  readonly violations: readonly ConfigViolation[];
  constructor(violations: readonly ConfigViolation[]) {
    super(
      `Invalid configuration:\n${violations.map((v) => `  - ${v.variable}: ${v.problem}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.violations = violations;
  }
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
  if (tls.mode === 'off' && baseUrl && baseUrl.protocol !== 'https:') {
    violations.push({
      variable: 'OUTLINK_BASE_URL',
      problem:
        'with OUTLINK_TLS=off the base URL must still be https:// (the proxy terminates TLS)',
    });
  }
  const leaseSeconds = Number(raw.OUTLINK_LEASE_SECONDS ?? 30);
  if (!(leaseSeconds >= 2 && leaseSeconds <= 600)) {
    violations.push({
      variable: 'OUTLINK_LEASE_SECONDS',
      problem: 'must be a whole number of seconds from 2 to 600',
    });
  }
  if (violations.length > 0) throw new ConfigError(dedupe(violations));

  return Object.freeze({
    baseUrl: baseUrl as URL,
    baseUrlIsHttps: (baseUrl as URL).protocol === 'https:',
    listen: Object.freeze(listen as { host: string; port: number }),
    dataDir,
    database: Object.freeze(database as DatabaseTarget),
    tls: Object.freeze(tls),
    trustProxy: parseTrustProxy(valid.OUTLINK_TRUST_PROXY),
    masterKeys: masterKeys ? Object.freeze(masterKeys) : undefined,
    adminPassword: valid.OUTLINK_ADMIN_PASSWORD,
    logLevel: valid.OUTLINK_LOG_LEVEL ?? 'info',
    leaseSeconds,
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

function parseTrustProxy(value: string | undefined): string | boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  return value;
}
