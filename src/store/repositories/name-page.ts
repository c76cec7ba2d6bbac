import { type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import { OutlinkError } from '../../domain/errors.js';

/** A row of a table listed by name: `name_key` (the lower-cased unique name) and `id`. */
export interface NamedRow {
  readonly name_key: string;
  readonly id: string;
}

/** Which page: at most `limit` rows, after the row `cursor` names. */
export interface Page {
  readonly limit: number;
  readonly cursor?: string;
}

/**
 * One page of a table ordered by name, with a keyset cursor over `(name_key, id)`: stable
 * while rows are added or removed, unlike an offset. A cursor this server did not issue is
 * a `field_invalid` on `cursor`.
 */
export async function pageByName<DB, TB extends keyof DB, R extends NamedRow>(
  query: SelectQueryBuilder<DB, TB, R>,
  page: Page,
): Promise<{ rows: R[]; nextCursor?: string }> {
  const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  if (page.cursor !== undefined && !after) {
    throw new OutlinkError(
      'field_invalid',
      { field: 'cursor', problem: 'not a cursor this server issued' },
      { details: { field: 'cursor' } },
    );
  }
  let q = query
    .orderBy(sql`name_key`)
    .orderBy(sql`id`)
    .limit(page.limit + 1);
  if (after) {
    q = q.where(
      sql<SqlBool>`(name_key > ${after.key} or (name_key = ${after.key} and id > ${after.id}))`,
    );
  }
  const rows = await q.execute();
  const pageRows = rows.slice(0, page.limit);
  const last = pageRows.at(-1);
  return rows.length > page.limit && last
    ? { rows: pageRows, nextCursor: encodeCursor(last.name_key, last.id) }
    : { rows: pageRows };
}

function encodeCursor(key: string, id: string): string {
  return Buffer.from(JSON.stringify([key, id])).toString('base64url');
}

function decodeCursor(cursor: string): { key: string; id: string } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { key: value[0], id: value[1] };
    }
  } catch {
    // fall through: not a cursor we issued
  }
  return undefined;
}
