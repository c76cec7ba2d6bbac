import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../../src/config/config.js';
import { openStore, type Store } from '../../../src/store/db.js';
import { createLinkRepository } from '../../../src/store/repositories/links.js';
import { createTestDatabase, type TestDatabase, type TestDialect } from '../../support/harness.js';

/** A migrated, empty database of `dialect`; `second` opens another store on it (a second process). */
export interface RepositoryWorld {
  readonly store: Store;
  readonly database: TestDatabase;
  second(): Store;
}

export async function withRepositoryWorld(
  dialect: TestDialect,
  body: (world: RepositoryWorld) => Promise<void>,
): Promise<void> {
  const database = await createTestDatabase(dialect);
  const config = loadConfig({
    OUTLINK_DATA_DIR: database.dataDir,
    OUTLINK_DATABASE_URL: database.url,
  });
  const stores: Store[] = [openStore(config.database)];
  try {
    await stores[0]!.migrate();
    await body({
      store: stores[0]!,
      database,
      second: () => {
        const store = openStore(config.database);
        stores.push(store);
        return store;
      },
    });
  } finally {
    for (const store of stores) await store.close();
    await database.drop();
  }
}

/** Inserts a Google link through the repository and returns its id. */
export async function insertLink(store: Store, name = `L ${randomUUID()}`): Promise<string> {
  const id = randomUUID();
  const now = '2026-01-01T00:00:00.000Z';
  await createLinkRepository(store.db).insert({
    id,
    name,
    description: '',
    direction: 'outgoing',
    applicationType: 'external',
    provider: 'google',
    clientId: 'client',
    clientSecretEnc: 'ol1.x.y',
    scopes: ['https://mail.google.com/'],
    authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenEndpoint: 'https://oauth2.googleapis.com/token',
    issuer: null,
    revocationEndpoint: null,
    tenant: null,
    cloud: null,
    clientAuthMethod: 'client_secret_post',
    clientSecretExpiresAt: null,
    createdAt: now,
    updatedAt: now,
  });
  return id;
}
