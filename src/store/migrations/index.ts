import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-token-lifecycle.js';
import * as m0003 from './0003-mail-servers.js';
import * as m0004 from './0004-mail-handler.js';

/** Numbered, immutable migrations; one set for both dialects. Append, never edit. */
const ordered: ReadonlyArray<
  readonly [string, { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> }]
> = [
  ['0001-initial', m0001],
  ['0002-token-lifecycle', m0002],
  ['0003-mail-servers', m0003],
  ['0004-mail-handler', m0004],
];

export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return Object.fromEntries(
    ordered.map(([name, m]) => [name, { up: (db: Kysely<unknown>) => m.up(db, dialect) }]),
  );
}
