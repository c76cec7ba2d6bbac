import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { type Cipher, createCipher } from './crypto/cipher.js';
import {
  createFileKeyring,
  createStaticKeyring,
  generateMasterKey,
  type Keyring,
  keyFileExists,
  writeKeyFile,
} from './crypto/keyring.js';
import { type Clock, systemClock } from './domain/clock.js';
import { OutlinkError } from './domain/errors.js';
import { createDiscovery, type Fetch } from './oauth/discovery.js';
import { type ApiTokenService, createApiTokenService } from './services/api-tokens.js';
import { createEventService, type EventService } from './services/events.js';
import { createKeyService, type KeyService, SECRET_COLUMNS } from './services/keys.js';
import { createLinkService, type LinkService } from './services/links.js';
import { createUserService, type UserService } from './services/users.js';
import { openStore, type Store } from './store/db.js';

/** Everything the HTTP server and the CLI share; built once per process. */
export interface Services {
  readonly config: Config;
  readonly store: Store;
  readonly cipher: Cipher;
  readonly clock: Clock;
  readonly log: Logger;
  readonly events: EventService;
  readonly users: UserService;
  readonly apiTokens: ApiTokenService;
  readonly links: LinkService;
  readonly keys: KeyService;
  close(): Promise<void>;
}

export interface ComposeOptions {
  readonly log: Logger;
  readonly clock?: Clock;
  readonly fetch?: Fetch;
  /** Called once with a generated admin password, which is never logged. */
  readonly onGeneratedAdminPassword?: (password: string, file: string) => void;
}

export const MASTER_KEY_FILE = 'master.key';
export const INITIAL_ADMIN_PASSWORD_FILE = 'initial-admin-password';

/**
 * The composition root: opens the database, runs migrations, loads and checks the master
 * key, bootstraps the admin and wires the services. Fails with a catalog error, never later.
 */
export async function compose(config: Config, options: ComposeOptions): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const store = openStore(config.database);
  try {
    await store.migrate();
    const keyring = await openKeyring(config, store);
    const cipher = createCipher(keyring);
    const db = store.db;
    const events = createEventService({ db, clock });
    const keys = createKeyService({ db, cipher, events });
    await keys.verify();
    const users = createUserService({ db, clock, events });
    const boot = await users.bootstrapAdmin(config.adminPassword);
    if (boot.generatedPassword) {
      const file = join(config.dataDir, INITIAL_ADMIN_PASSWORD_FILE);
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(file, `${boot.generatedPassword}\n`, { mode: 0o600 });
      options.onGeneratedAdminPassword?.(boot.generatedPassword, file);
    }
    const discover = createDiscovery({ fetch: options.fetch ?? globalThis.fetch });
    return {
      config,
      store,
      cipher,
      clock,
      log: options.log,
      events,
      users,
      keys,
      apiTokens: createApiTokenService({ db, clock, events }),
      links: createLinkService({ db, cipher, clock, config, events, discover }),
      close: () => store.close(),
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
  for (const col of SECRET_COLUMNS) {
    const row = await store.db
      .selectFrom(col.table)
      .select('id')
      .where(col.column, 'is not', null)
      .limit(1)
      .executeTakeFirst();
    if (row) throw new OutlinkError('master_key_missing', { keyFile: file });
  }
  writeKeyFile(file, [generateMasterKey()]);
  return createFileKeyring(file);
}
