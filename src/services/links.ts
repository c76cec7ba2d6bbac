import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Config } from '../config/config.js';
import { Aad } from '../crypto/aad.js';
import type { Cipher } from '../crypto/cipher.js';
import type { Actor } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import { redirectUrlFor, type Warning } from '../domain/link.js';
import {
  applyProviderRules,
  assertIssuer,
  baseUrlWarnings,
  type RequestedLinkSettings,
  type ResolvedLinkSettings,
} from '../domain/link-rules.js';
import type { Discover } from '../oauth/discovery.js';
import { presetFor } from '../providers/registry.js';
import type { MicrosoftCloud, ProviderId } from '../providers/types.js';
import type { CreateLinkInput, LinkView, UpdateLinkInput } from '../schemas/links.js';
import { isUniqueViolation } from '../store/db.js';
import { pageByName } from '../store/name-page.js';
import type { Database, LinksTable } from '../store/schema.js';
import type { EventService } from './events.js';
import { inUseError, mailServersUsing } from './mail-servers.js';

export interface LinkWithWarnings {
  link: LinkView;
  warnings: Warning[];
}

export interface LinkService {
  create(actor: Actor, input: CreateLinkInput): Promise<LinkWithWarnings>;
  update(actor: Actor, id: string, input: UpdateLinkInput): Promise<LinkWithWarnings>;
  remove(actor: Actor, id: string): Promise<void>;
  get(id: string): Promise<LinkView>;
  /** Finds a link by id or, failing that, by name (the CLI accepts either). */
  find(idOrName: string): Promise<LinkView>;
  list(page: {
    limit: number;
    cursor?: string;
  }): Promise<{ items: LinkView[]; nextCursor?: string }>;
  /** The decrypted client secret, for the OAuth client only. */
  clientSecret(id: string): Promise<string>;
}

export function createLinkService(deps: {
  db: Kysely<Database>;
  cipher: Cipher;
  clock: Clock;
  config: Config;
  events: EventService;
  discover: Discover;
  /** Called after an update that changed what the provider authenticates the link by. */
  onCredentialsChanged?: (linkId: string) => Promise<void>;
}): LinkService {
  const { db, cipher, clock, config, events } = deps;

  const assertSecureBaseUrl = () => {
    if (!config.baseUrlIsHttps) {
      throw new OutlinkError('insecure_base_url', { baseUrl: config.baseUrl.href });
    }
  };

  /** Discovery fills a custom provider's missing endpoints from its issuer. */
  const withDiscovery = async (
    requested: RequestedLinkSettings,
  ): Promise<RequestedLinkSettings> => {
    if (requested.provider !== 'custom' || !requested.issuer) return requested;
    // Checked before anything is fetched, and even when both endpoints are typed in.
    assertIssuer(requested.issuer);
    if (requested.authorizationEndpoint && requested.tokenEndpoint) return requested;
    const found = await deps.discover(requested.issuer);
    return {
      ...requested,
      issuer: found.issuer,
      authorizationEndpoint: requested.authorizationEndpoint ?? found.authorizationEndpoint,
      tokenEndpoint: requested.tokenEndpoint ?? found.tokenEndpoint,
    };
  };

  const resolve = async (
    requested: RequestedLinkSettings,
    expiresAt: string | null | undefined,
  ) => {
    const { settings, warnings } = applyProviderRules(await withDiscovery(requested));
    warnings.push(...baseUrlWarnings(settings.provider, config.baseUrl));
    if (expiresAt && Date.parse(expiresAt) <= clock.now().getTime()) {
      warnings.push({ code: 'client_secret_expired', params: { date: expiresAt } });
    }
    return { settings, warnings };
  };

  const loadRow = async (id: string) => {
    const row = await db.selectFrom('links').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new OutlinkError('link_not_found', { id });
    return row;
  };

  const present = async (rows: Selectable<LinksTable>[]): Promise<LinkView[]> => {
    if (rows.length === 0) return [];
    const connections = await db
      .selectFrom('connections')
      .select([
        'id',
        'link_id',
        'account',
        'status',
        'expires_at',
        'scopes',
        'last_refreshed_at',
        'last_error',
      ])
      .where(
        'link_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('created_at')
      .execute();
    return rows.map((row) => ({
      ...toView(row, config.baseUrl),
      connections: connections
        .filter((c) => c.link_id === row.id)
        .map((c) => ({
          id: c.id,
          account: c.account,
          status: c.status,
          expiresAt: c.expires_at,
          scopes: JSON.parse(c.scopes) as string[],
          lastRefreshedAt: c.last_refreshed_at,
          ...(c.last_error ? { lastError: JSON.parse(c.last_error) as unknown } : {}),
        })),
    }));
  };

  const nameTaken = async (name: string, exceptId?: string) => {
    let q = db.selectFrom('links').select('id').where('name_key', '=', nameKey(name));
    if (exceptId) q = q.where('id', '!=', exceptId);
    return (await q.executeTakeFirst()) !== undefined;
  };

  const service: LinkService = {
    async create(actor, input) {
      assertSecureBaseUrl();
      const name = input.name.trim();
      if (await nameTaken(name)) throw nameTakenError(name);
      const { settings, warnings } = await resolve(
        {
          provider: input.provider,
          scopes: input.scopes,
          authorizationEndpoint: input.authorizationEndpoint,
          tokenEndpoint: input.tokenEndpoint,
          issuer: input.issuer,
          tenant: input.tenant,
          cloud: input.cloud,
          clientAuthMethod: input.clientAuthMethod,
        },
        input.clientSecretExpiresAt,
      );
      const id = randomUUID();
      const now = clock.now().toISOString();
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .insertInto('links')
            .values({
              id,
              name,
              name_key: nameKey(name),
              description: input.description?.trim() ?? '',
              direction: 'outgoing',
              application_type: 'external',
              client_id: input.clientId.trim(),
              client_secret_enc: cipher.encrypt(input.clientSecret, Aad.linkClientSecret(id)),
              client_secret_expires_at: input.clientSecretExpiresAt ?? null,
              created_at: now,
              updated_at: now,
              ...settingsColumns(settings),
            })
            .execute();
          await events.record(trx, {
            type: 'link.created',
            actor,
            linkId: id,
            data: { name, provider: settings.provider },
          });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTakenError(name);
        throw error;
      }
      return { link: await service.get(id), warnings };
    },

    async update(actor, id, input) {
      assertSecureBaseUrl();
      const row = await loadRow(id);
      if (input.provider !== undefined && input.provider !== row.provider) {
        throw new OutlinkError('provider_immutable', {}, { details: { field: 'provider' } });
      }
      const provider = row.provider as ProviderId;
      const name = input.name?.trim() ?? row.name;
      if (input.name !== undefined && (await nameTaken(name, id))) {
        throw nameTakenError(name);
      }
      const tenantChanged = input.tenant !== undefined && input.tenant !== row.tenant;
      const cloudChanged = input.cloud !== undefined && input.cloud !== row.cloud;
      const issuerChanged = input.issuer !== undefined && input.issuer !== row.issuer;
      // Endpoints that came from the preset (or discovery) follow a new tenant or issuer;
      // endpoints the administrator typed stay as typed.
      const storedFromPreset =
        presetFor(provider).endpoints?.({
          tenant: row.tenant ?? undefined,
          cloud: (row.cloud as MicrosoftCloud | null) ?? undefined,
        }).authorizationEndpoint === row.authorization_endpoint;
      const keepEndpoints = !((tenantChanged && storedFromPreset) || issuerChanged);
      const { settings, warnings } = await resolve(
        {
          provider,
          scopes: input.scopes ?? (cloudChanged ? undefined : (JSON.parse(row.scopes) as string[])),
          authorizationEndpoint:
            input.authorizationEndpoint ?? (keepEndpoints ? row.authorization_endpoint : undefined),
          tokenEndpoint: input.tokenEndpoint ?? (keepEndpoints ? row.token_endpoint : undefined),
          issuer:
            input.issuer !== undefined ? input.issuer : provider === 'custom' ? row.issuer : null,
          tenant: input.tenant ?? row.tenant,
          cloud: (input.cloud ?? row.cloud) as MicrosoftCloud | null,
          clientAuthMethod:
            input.clientAuthMethod ??
            (row.client_auth_method as ResolvedLinkSettings['clientAuthMethod']),
        },
        input.clientSecretExpiresAt !== undefined
          ? input.clientSecretExpiresAt
          : row.client_secret_expires_at,
      );
      const changed = Object.keys(input).filter((k) => k !== 'provider');
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('links')
            .set({
              name,
              name_key: nameKey(name),
              description: input.description?.trim() ?? row.description,
              client_id: input.clientId?.trim() ?? row.client_id,
              ...(input.clientSecret !== undefined
                ? {
                    client_secret_enc: cipher.encrypt(input.clientSecret, Aad.linkClientSecret(id)),
                  }
                : {}),
              client_secret_expires_at:
                input.clientSecretExpiresAt !== undefined
                  ? input.clientSecretExpiresAt
                  : row.client_secret_expires_at,
              updated_at: clock.now().toISOString(),
              ...settingsColumns(settings),
            })
            .where('id', '=', id)
            .execute();
          await events.record(trx, {
            type: 'link.updated',
            actor,
            linkId: id,
            data: { name, changed },
          });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTakenError(name);
        throw error;
      }
      const credentials = [
        'clientId',
        'clientSecret',
        'tokenEndpoint',
        'tenant',
        'clientAuthMethod',
        'issuer',
      ];
      if (deps.onCredentialsChanged && changed.some((k) => credentials.includes(k))) {
        await deps.onCredentialsChanged(id);
      }
      return { link: await service.get(id), warnings };
    },

    async remove(actor, id) {
      const row = await loadRow(id);
      await db.transaction().execute(async (trx) => {
        // DESIGN §4: a link whose connections mail servers use is not deleted.
        const connectionIds = await trx
          .selectFrom('connections')
          .select('id')
          .where('link_id', '=', id)
          .execute();
        const users = await mailServersUsing(
          trx,
          connectionIds.map((c) => c.id),
        );
        if (users.length > 0) throw inUseError('link_in_use', users);
        await trx.deleteFrom('connections').where('link_id', '=', id).execute();
        await trx.deleteFrom('links').where('id', '=', id).execute();
        await events.record(trx, {
          type: 'link.deleted',
          actor,
          linkId: id,
          data: { name: row.name, provider: row.provider },
        });
      });
    },

    async get(id) {
      const [view] = await present([await loadRow(id)]);
      return view!;
    },

    async find(idOrName) {
      const row = await db
        .selectFrom('links')
        .selectAll()
        .where((eb) => eb.or([eb('id', '=', idOrName), eb('name_key', '=', nameKey(idOrName))]))
        .orderBy('created_at')
        .executeTakeFirst();
      if (!row) throw new OutlinkError('link_not_found', { id: idOrName });
      const [view] = await present([row]);
      return view!;
    },

    async list({ limit, cursor }) {
      const { rows, nextCursor } = await pageByName(db.selectFrom('links').selectAll(), {
        limit,
        cursor,
      });
      const items = await present(rows);
      return nextCursor ? { items, nextCursor } : { items };
    },

    async clientSecret(id) {
      const row = await loadRow(id);
      return cipher.decrypt(row.client_secret_enc, Aad.linkClientSecret(id));
    },
  };
  return service;
}

/** 409 naming the field, so a form can mark it. */
function nameTakenError(name: string): OutlinkError {
  return new OutlinkError('link_name_taken', { name }, { details: { field: 'name' } });
}

function nameKey(name: string): string {
  return name.trim().toLowerCase();
}

function settingsColumns(s: ResolvedLinkSettings) {
  return {
    provider: s.provider,
    scopes: JSON.stringify(s.scopes),
    authorization_endpoint: s.authorizationEndpoint,
    token_endpoint: s.tokenEndpoint,
    issuer: s.issuer,
    tenant: s.tenant,
    cloud: s.cloud,
    client_auth_method: s.clientAuthMethod,
  };
}

function toView(row: Selectable<LinksTable>, baseUrl: URL): Omit<LinkView, 'connections'> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    direction: 'outgoing',
    applicationType: 'external',
    provider: row.provider as ProviderId,
    clientId: row.client_id,
    clientSecretSet: row.client_secret_enc.length > 0,
    scopes: JSON.parse(row.scopes) as string[],
    authorizationEndpoint: row.authorization_endpoint,
    tokenEndpoint: row.token_endpoint,
    issuer: row.issuer,
    tenant: row.tenant,
    cloud: row.cloud as MicrosoftCloud | null,
    clientAuthMethod: row.client_auth_method,
    clientSecretExpiresAt: row.client_secret_expires_at,
    redirectUrl: redirectUrlFor(baseUrl, row.authorization_endpoint),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
