import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.js';
import { Aad } from '../crypto/aad.js';
import type { Cipher } from '../crypto/cipher.js';
import type { Actor } from '../domain/actor.js';
import {
  type AddressPolicy,
  assertUrlAllowed,
  createAddressPolicy,
} from '../domain/address-policy.js';
import type { Clock } from '../domain/clock.js';
import { createEpochCache } from '../domain/epoch-cache.js';
import { OutlinkError } from '../domain/errors.js';
import { redirectUrlFor, type Warning } from '../domain/link.js';
import type { Discover } from '../oauth/discovery.js';
import { ENDPOINT_MOVED } from '../oauth/provider-errors.js';
import {
  applyProviderRules,
  assertHttps,
  assertIssuer,
  baseUrlWarnings,
  type RequestedLinkSettings,
  type ResolvedLinkSettings,
} from '../providers/link-rules.js';
import { presetFor } from '../providers/registry.js';
import type { CreateLinkInput, LinkView, UpdateLinkInput } from '../schemas/links.js';
import { isUniqueViolation } from '../store/db.js';
import { createCacheEpochRepository } from '../store/repositories/cache-epochs.js';
import { createConnectionRepository } from '../store/repositories/connections.js';
import { createLinkRepository, type LinkRecord } from '../store/repositories/links.js';
import { type Executor, inTransaction } from '../store/repositories/transaction.js';
import { type RevocationSummary, type Revoker, revokeDeleted } from './connection-revocation.js';
import type { EventService } from './events.js';
import { inUseError, mailServersUsing } from './mail-servers.js';

export interface LinkWithWarnings {
  link: LinkView;
  warnings: Warning[];
}

/** What deleting a link came to: how many connections went, and their grants' revocation. */
export interface LinkRemoval {
  readonly id: string;
  readonly connections: number;
  readonly revocation: RevocationSummary;
}

export interface LinkService {
  create(actor: Actor, input: CreateLinkInput): Promise<LinkWithWarnings>;
  update(actor: Actor, id: string, input: UpdateLinkInput): Promise<LinkWithWarnings>;
  /**
   * Deletes the link and its connections, then revokes their grants at the provider
   * (RFC 7009) where it has a revocation endpoint; says what came of that.
   */
  remove(actor: Actor, id: string): Promise<LinkRemoval>;
  /**
   * The link with its connections. Served from an in-process cache of views until the
   * `access_tokens` cache epoch moves (issue 12): every write to a link or a connection bumps
   * it, in any process. `epochs` are the counters the caller's request already read (the API
   * token check), used instead of reading them again.
   */
  get(id: string, epochs?: { readonly access_tokens?: string }): Promise<LinkView>;
  /**
   * The view `get` would serve from the cache under `epochs`, without waiting; undefined when
   * it would read the database (issue 12: the link route's fast path). Shared: not changed.
   */
  cachedView(id: string, epochs: { readonly access_tokens?: string }): LinkView | undefined;
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
  db: Executor;
  cipher: Cipher;
  clock: Clock;
  config: Config;
  events: EventService;
  discover: Discover;
  /** Called after an update that changed what the provider authenticates the link by. */
  onCredentialsChanged?: (linkId: string) => Promise<void>;
  /** Revokes a deleted connection's refresh token at its provider (RFC 7009). */
  revoke?: Revoker;
  /** The addresses OAuth endpoints and issuers may be at (issue 11); nothing re-allowed when absent. */
  addresses?: AddressPolicy;
}): LinkService {
  const { db, cipher, clock, config, events } = deps;
  const addresses = deps.addresses ?? createAddressPolicy();
  const links = createLinkRepository(db);
  const connections = createConnectionRepository(db);
  const accessTokensEpoch = createCacheEpochRepository(db, 'access_tokens');
  // Issue 12: link views (the link and its connections' summaries) by link id, under the
  // `access_tokens` counter, which the repositories bump with every write to a link or a
  // connection (insert, update, token save, failure, delete, key rotation), in the writer's
  // transaction and in any process. A missing link is never cached.
  const views = createEpochCache<LinkView>(LINK_VIEWS_MAX);

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
    assertUrlAllowed(addresses, 'issuer', requested.issuer);
    for (const field of ['authorizationEndpoint', 'tokenEndpoint'] as const) {
      const url = requested[field];
      if (url) assertUrlAllowed(addresses, field, url);
    }
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
    // Typed in or discovered: no endpoint may lie on a refused address.
    assertUrlAllowed(addresses, 'authorizationEndpoint', settings.authorizationEndpoint);
    assertUrlAllowed(addresses, 'tokenEndpoint', settings.tokenEndpoint);
    warnings.push(...baseUrlWarnings(settings.provider, config.baseUrl));
    if (expiresAt && Date.parse(expiresAt) <= clock.now().getTime()) {
      warnings.push({ code: 'client_secret_expired', params: { date: expiresAt } });
    }
    return { settings, warnings };
  };

  const loadRow = async (id: string) => {
    const row = await links.findById(id);
    if (!row) throw new OutlinkError('link_not_found', { id });
    return row;
  };

  const present = async (rows: readonly LinkRecord[]): Promise<LinkView[]> => {
    if (rows.length === 0) return [];
    const all = await connections.summariesOfLinks(rows.map((r) => r.id));
    return rows.map((row) => ({
      ...toView(row, config.baseUrl),
      connections: all
        .filter((c) => c.linkId === row.id)
        .map((c) => ({
          id: c.id,
          account: c.account,
          status: c.status,
          expiresAt: c.expiresAt,
          scopes: [...c.scopes],
          lastRefreshedAt: c.lastRefreshedAt,
          ...(c.lastError ? { lastError: c.lastError } : {}),
        })),
    }));
  };

  /** The link's connections lose their tokens: the new server did not issue them. */
  const discardTokens = async (trx: Executor, actor: Actor, linkId: string) => {
    const error = { id: ENDPOINT_MOVED, scope: 'connection', at: clock.now().toISOString() };
    const before = await createConnectionRepository(trx).discardTokensOfLink(linkId, error);
    for (const c of before) {
      await events.record(trx, {
        type: 'connection.reauthorization_required',
        actor,
        linkId,
        connectionId: c.id,
        data: { account: c.account, reason: ENDPOINT_MOVED, scope: 'connection' },
      });
    }
  };

  const service: LinkService = {
    async create(actor, input) {
      assertSecureBaseUrl();
      const name = input.name.trim();
      if (await links.nameTaken(name)) throw nameTakenError(name);
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
      const revocationEndpoint = revocationOf(
        settings.provider,
        input.revocationEndpoint,
        null,
        addresses,
      );
      const id = randomUUID();
      const now = clock.now().toISOString();
      try {
        await inTransaction(db, async (trx) => {
          await createLinkRepository(trx).insert({
            id,
            name,
            description: input.description?.trim() ?? '',
            direction: 'outgoing',
            applicationType: 'external',
            clientId: input.clientId.trim(),
            clientSecretEnc: cipher.encrypt(input.clientSecret, Aad.linkClientSecret(id)),
            clientSecretExpiresAt: input.clientSecretExpiresAt ?? null,
            createdAt: now,
            updatedAt: now,
            ...settingsOf(settings),
            revocationEndpoint,
          });
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
      const provider = row.provider;
      const name = input.name?.trim() ?? row.name;
      if (input.name !== undefined && (await links.nameTaken(name, id))) {
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
          cloud: row.cloud ?? undefined,
        }).authorizationEndpoint === row.authorizationEndpoint;
      const keepEndpoints = !(
        ((tenantChanged || cloudChanged) && storedFromPreset) ||
        issuerChanged
      );
      const { settings, warnings } = await resolve(
        {
          provider,
          scopes: input.scopes ?? (cloudChanged ? undefined : [...row.scopes]),
          authorizationEndpoint:
            input.authorizationEndpoint ?? (keepEndpoints ? row.authorizationEndpoint : undefined),
          tokenEndpoint: input.tokenEndpoint ?? (keepEndpoints ? row.tokenEndpoint : undefined),
          issuer:
            input.issuer !== undefined ? input.issuer : provider === 'custom' ? row.issuer : null,
          tenant: input.tenant ?? row.tenant,
          cloud: input.cloud ?? row.cloud,
          clientAuthMethod:
            input.clientAuthMethod ??
            (row.clientAuthMethod as ResolvedLinkSettings['clientAuthMethod']),
        },
        input.clientSecretExpiresAt !== undefined
          ? input.clientSecretExpiresAt
          : row.clientSecretExpiresAt,
      );
      const changed = Object.keys(input).filter((k) => k !== 'provider');
      const revocationEndpoint = revocationOf(
        provider,
        input.revocationEndpoint,
        row.revocationEndpoint,
        addresses,
      );
      // Issue 11: the stored client secret and refresh tokens go only where they went before.
      const moved = movedOrigin(row, { ...settings, revocationEndpoint });
      if (moved && input.clientSecret === undefined) {
        throw new OutlinkError(
          'client_secret_required',
          { origin: moved },
          { details: { field: 'clientSecret' } },
        );
      }
      try {
        await inTransaction(db, async (trx) => {
          await createLinkRepository(trx).update(id, {
            name,
            description: input.description?.trim() ?? row.description,
            clientId: input.clientId?.trim() ?? row.clientId,
            ...(input.clientSecret !== undefined
              ? { clientSecretEnc: cipher.encrypt(input.clientSecret, Aad.linkClientSecret(id)) }
              : {}),
            clientSecretExpiresAt:
              input.clientSecretExpiresAt !== undefined
                ? input.clientSecretExpiresAt
                : row.clientSecretExpiresAt,
            updatedAt: clock.now().toISOString(),
            ...settingsOf(settings),
            revocationEndpoint,
          });
          await events.record(trx, {
            type: 'link.updated',
            actor,
            linkId: id,
            data: { name, changed, ...(moved ? { endpointMoved: true } : {}) },
          });
          if (moved) await discardTokens(trx, actor, id);
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
      const deleted = await inTransaction(db, async (trx) => {
        const linkConnections = createConnectionRepository(trx);
        const rows = await linkConnections.listOfLink(id);
        // DESIGN §4: a link whose connections mail servers use is not deleted.
        const users = await mailServersUsing(
          trx,
          rows.map((c) => c.id),
        );
        if (users.length > 0) throw inUseError('link_in_use', users);
        await linkConnections.deleteOfLink(id);
        await createLinkRepository(trx).delete(id);
        await events.record(trx, {
          type: 'link.deleted',
          actor,
          linkId: id,
          data: { name: row.name, provider: row.provider },
        });
        return rows;
      });
      // Issue 11: the grants do not outlive the link at the provider. Revoked after the
      // deletion, outside its transaction, with the link's record (gone from the database),
      // as a deleted connection's is; a failure is an event, never a kept link.
      const revocation = await revokeDeleted(
        { revoke: deps.revoke, events, db },
        actor,
        deleted,
        row,
      );
      return { id, connections: deleted.length, revocation };
    },

    cachedView(id, epochs) {
      return views.get(views.adopt(epochs.access_tokens), id);
    },

    async get(id, epochs) {
      const epoch = views.adopt(epochs ? epochs.access_tokens : await accessTokensEpoch.current());
      const cached = views.get(epoch, id);
      if (cached) return cached;
      const [view] = await present([await loadRow(id)]);
      views.set(epoch, id, view!);
      return view!;
    },

    async find(idOrName) {
      const row = await links.findByIdOrName(idOrName);
      if (!row) throw new OutlinkError('link_not_found', { id: idOrName });
      const [view] = await present([row]);
      return view!;
    },

    async list({ limit, cursor }) {
      const { records, nextCursor } = await links.page({ limit, cursor });
      const items = await present(records);
      return nextCursor ? { items, nextCursor } : { items };
    },

    async clientSecret(id) {
      const row = await loadRow(id);
      return cipher.decrypt(row.clientSecretEnc, Aad.linkClientSecret(id));
    },
  };
  return service;
}

/** More links than any installation has: past it, the cache starts over. */
const LINK_VIEWS_MAX = 10_000;

/**
 * The new origin when an endpoint that receives the client secret or the tokens (token,
 * authorization, issuer: discovery) now lies on an origin the link did not use; else undefined.
 * A path change on the same origin (a Microsoft tenant) is not a move.
 */
function movedOrigin(
  before: Pick<
    LinkRecord,
    'authorizationEndpoint' | 'tokenEndpoint' | 'issuer' | 'revocationEndpoint'
  >,
  after: Pick<
    LinkRecord,
    'authorizationEndpoint' | 'tokenEndpoint' | 'issuer' | 'revocationEndpoint'
  >,
): string | undefined {
  const originOf = (url: string | null | undefined) => {
    if (!url) return undefined;
    try {
      return new URL(url).origin;
    } catch {
      return undefined;
    }
  };
  const known = new Set(
    [
      before.tokenEndpoint,
      before.authorizationEndpoint,
      before.issuer,
      before.revocationEndpoint,
    ].map(originOf),
  );
  return [after.tokenEndpoint, after.authorizationEndpoint, after.issuer, after.revocationEndpoint]
    .map(originOf)
    .find((origin) => origin !== undefined && !known.has(origin));
}

/**
 * A link's own revocation endpoint: a custom provider's as given (null removes it), checked
 * like every endpoint that receives a secret; a preset provider has its preset's, if any.
 */
function revocationOf(
  provider: string,
  requested: string | null | undefined,
  stored: string | null,
  addresses: AddressPolicy,
): string | null {
  if (requested === undefined) return stored;
  if (requested !== null && provider !== 'custom') {
    throw new OutlinkError(
      'field_not_applicable',
      { field: 'revocationEndpoint', provider },
      { details: { field: 'revocationEndpoint' } },
    );
  }
  if (requested !== null) assertHttps('revocationEndpoint', requested);
  if (requested !== null) assertUrlAllowed(addresses, 'revocationEndpoint', requested);
  return requested;
}

/** 409 naming the field, so a form can mark it. */
function nameTakenError(name: string): OutlinkError {
  return new OutlinkError('link_name_taken', { name }, { details: { field: 'name' } });
}

/** The link columns the provider rules decide. */
function settingsOf(s: ResolvedLinkSettings) {
  return {
    provider: s.provider,
    scopes: s.scopes,
    authorizationEndpoint: s.authorizationEndpoint,
    tokenEndpoint: s.tokenEndpoint,
    issuer: s.issuer,
    tenant: s.tenant,
    cloud: s.cloud,
    clientAuthMethod: s.clientAuthMethod,
  };
}

function toView(row: LinkRecord, baseUrl: URL): Omit<LinkView, 'connections'> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    direction: row.direction,
    applicationType: row.applicationType,
    provider: row.provider,
    clientId: row.clientId,
    clientSecretSet: row.clientSecretEnc.length > 0,
    scopes: [...row.scopes],
    authorizationEndpoint: row.authorizationEndpoint,
    tokenEndpoint: row.tokenEndpoint,
    issuer: row.issuer,
    ...(row.revocationEndpoint ? { revocationEndpoint: row.revocationEndpoint } : {}),
    tenant: row.tenant,
    cloud: row.cloud,
    clientAuthMethod: row.clientAuthMethod,
    clientSecretExpiresAt: row.clientSecretExpiresAt,
    redirectUrl: redirectUrlFor(baseUrl, row.authorizationEndpoint),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
