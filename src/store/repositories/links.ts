import type { Selectable } from 'kysely';
import type { MicrosoftCloud, ProviderId } from '../../providers/types.js';
import type { LinksTable } from '../schema.js';
import { bumpCacheEpoch } from './cache-epochs.js';
import { compiledOnce } from './compiled.js';
import { type Page, pageByName } from './name-page.js';
import type { Executor } from './transaction.js';

/** A link (DESIGN §4): the OAuth client registration. The client secret stays encrypted. */
export interface LinkRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly direction: 'outgoing';
  readonly applicationType: 'external';
  readonly provider: ProviderId;
  readonly clientId: string;
  readonly clientSecretEnc: string;
  readonly scopes: readonly string[];
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly issuer: string | null;
  /** A custom link's RFC 7009 revocation endpoint (a preset's is the preset's). */
  readonly revocationEndpoint: string | null;
  readonly tenant: string | null;
  readonly cloud: MicrosoftCloud | null;
  readonly clientAuthMethod: string;
  readonly clientSecretExpiresAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** True once the authorization server has sent `iss` (RFC 9207): from then on it must. */
  readonly issRequired: boolean;
}

export type NewLink = Omit<LinkRecord, 'issRequired'>;

/** What an update writes: every setting; the client secret only when a new one is given. */
export type LinkUpdate = Omit<
  LinkRecord,
  'id' | 'direction' | 'applicationType' | 'clientSecretEnc' | 'createdAt' | 'issRequired'
> & { readonly clientSecretEnc?: string };

/** Statements on `links`. A name is unique regardless of case (`name_key`). */
export interface LinkRepository {
  findById(id: string): Promise<LinkRecord | undefined>;
  /** The link of this id or, failing that, of this name (the oldest, should two match). */
  findByIdOrName(idOrName: string): Promise<LinkRecord | undefined>;
  /** True when another link (not `exceptId`) has this name, regardless of case. */
  nameTaken(name: string, exceptId?: string): Promise<boolean>;
  /** One page ordered by name; a cursor this server did not issue is a `field_invalid`. */
  page(page: Page): Promise<{ records: LinkRecord[]; nextCursor?: string }>;
  /** Which of `ids` exist. */
  existingIds(ids: readonly string[]): Promise<Set<string>>;
  /** Throws a unique violation (see `isUniqueViolation`) when the name is taken. */
  insert(link: NewLink): Promise<void>;
  update(id: string, link: LinkUpdate): Promise<void>;
  delete(id: string): Promise<void>;
  /** Records the issuer and requires `iss` in every later authorization response. */
  requireIssuer(id: string, issuer: string): Promise<void>;
}

export function createLinkRepository(db: Executor): LinkRepository {
  const findRow = compiledOnce(
    db,
    (id: string) => db.selectFrom('links').selectAll().where('id', '=', id),
    [''],
  );
  return {
    async findById(id) {
      const [row] = await findRow(id);
      return row && toRecord(row);
    },
    async findByIdOrName(idOrName) {
      const row = await db
        .selectFrom('links')
        .selectAll()
        .where((eb) => eb.or([eb('id', '=', idOrName), eb('name_key', '=', nameKey(idOrName))]))
        .orderBy('created_at')
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async nameTaken(name, exceptId) {
      let q = db.selectFrom('links').select('id').where('name_key', '=', nameKey(name));
      if (exceptId) q = q.where('id', '!=', exceptId);
      return (await q.executeTakeFirst()) !== undefined;
    },
    async page(page) {
      const { rows, nextCursor } = await pageByName(db.selectFrom('links').selectAll(), page);
      const records = rows.map(toRecord);
      return nextCursor ? { records, nextCursor } : { records };
    },
    async existingIds(ids) {
      if (ids.length === 0) return new Set();
      const rows = await db.selectFrom('links').select('id').where('id', 'in', ids).execute();
      return new Set(rows.map((r) => r.id));
    },
    async insert(link) {
      await db
        .insertInto('links')
        .values({
          id: link.id,
          name: link.name,
          name_key: nameKey(link.name),
          description: link.description,
          direction: link.direction,
          application_type: link.applicationType,
          client_id: link.clientId,
          client_secret_enc: link.clientSecretEnc,
          client_secret_expires_at: link.clientSecretExpiresAt,
          created_at: link.createdAt,
          updated_at: link.updatedAt,
          ...settingsColumns(link),
        })
        .execute();
    },
    async update(id, link) {
      await db
        .updateTable('links')
        .set({
          name: link.name,
          name_key: nameKey(link.name),
          description: link.description,
          client_id: link.clientId,
          ...(link.clientSecretEnc !== undefined
            ? { client_secret_enc: link.clientSecretEnc }
            : {}),
          client_secret_expires_at: link.clientSecretExpiresAt,
          updated_at: link.updatedAt,
          ...settingsColumns(link),
        })
        .where('id', '=', id)
        .execute();
      // The link views cached by the link service (issue 12).
      await bumpCacheEpoch(db, 'access_tokens');
    },
    async delete(id) {
      await db.deleteFrom('links').where('id', '=', id).execute();
      // Its connections go with it (on delete cascade).
      await bumpCacheEpoch(db, 'access_tokens');
    },
    async requireIssuer(id, issuer) {
      await db.updateTable('links').set({ issuer, iss_required: 1 }).where('id', '=', id).execute();
      await bumpCacheEpoch(db, 'access_tokens');
    },
  };
}

/** The unique key of a name: "Gmail" and "gmail " are the same link. */
function nameKey(name: string): string {
  return name.trim().toLowerCase();
}

function settingsColumns(link: LinkUpdate) {
  return {
    provider: link.provider,
    scopes: JSON.stringify(link.scopes),
    authorization_endpoint: link.authorizationEndpoint,
    token_endpoint: link.tokenEndpoint,
    issuer: link.issuer,
    revocation_endpoint: link.revocationEndpoint,
    tenant: link.tenant,
    cloud: link.cloud,
    client_auth_method: link.clientAuthMethod,
  };
}

function toRecord(row: Selectable<LinksTable>): LinkRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    direction: row.direction as LinkRecord['direction'],
    applicationType: row.application_type as LinkRecord['applicationType'],
    provider: row.provider as ProviderId,
    clientId: row.client_id,
    clientSecretEnc: row.client_secret_enc,
    scopes: JSON.parse(row.scopes) as string[],
    authorizationEndpoint: row.authorization_endpoint,
    tokenEndpoint: row.token_endpoint,
    issuer: row.issuer,
    revocationEndpoint: row.revocation_endpoint,
    tenant: row.tenant,
    cloud: row.cloud as MicrosoftCloud | null,
    clientAuthMethod: row.client_auth_method,
    clientSecretExpiresAt: row.client_secret_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    issRequired: Boolean(row.iss_required),
  };
}
