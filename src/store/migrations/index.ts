import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-token-lifecycle.js';
import * as m0003 from './0003-mail-servers.js';
import * as m0004 from './0004-mail-handler.js';
import * as m0005 from './0005-account-identity.js';
import * as m0006 from './0006-flow-actor.js';
import * as m0007 from './0007-cache-epochs.js';
import * as m0008 from './0008-connection-authorization.js';
import * as m0009 from './0009-notifications.js';
import * as m0010 from './0010-reauthorization-invitations.js';
import * as m0011 from './0011-cluster-nodes.js';

/** Numbered, immutable migrations; one set for both dialects. Append, never edit. */
const ordered: ReadonlyArray<
  readonly [string, { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> }]
> = [
  ['0001-initial', m0001],
  ['0002-token-lifecycle', m0002],
  ['0003-mail-servers', m0003],
  ['0004-mail-handler', m0004],
  ['0005-account-identity', m0005],
  ['0006-flow-actor', m0006],
  ['0007-cache-epochs', m0007],
  ['0008-connection-authorization', m0008],
  ['0009-notifications', m0009],
  ['0010-reauthorization-invitations', m0010],
  ['0011-cluster-nodes', m0011],
];

/**
 * The schema this code is written for: the number of its newest migration. A node registers
 * it, and the database records the highest one applied (`cluster_state.schema_version`).
 */
export const CODE_SCHEMA_VERSION = Math.max(...ordered.map(([name]) => Number(name.slice(0, 4))));

/**
 * The oldest code schema version that can still run on a database migrated by this code.
 * Raise it to a migration's number when that migration changes something an older node
 * relies on (a dropped or renamed column, a changed meaning): older nodes then refuse to
 * start, and this code refuses to migrate while such a node is alive. Additive migrations
 * (new tables, nullable columns) leave it alone, so nodes can be upgraded one at a time.
 * 11: the first code that checks compatibility at all.
 */
export const MIN_COMPATIBLE_SCHEMA_VERSION = 11;

export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return Object.fromEntries(
    ordered.map(([name, m]) => [name, { up: (db: Kysely<unknown>) => m.up(db, dialect) }]),
  );
}
