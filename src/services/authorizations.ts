import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/config.js';
import { Aad } from '../crypto/aad.js';
import type { Cipher } from '../crypto/cipher.js';
import { hashToken } from '../crypto/tokens.js';
import { type Actor, actorLabel } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import { callbackSuffix, redirectUrlFor } from '../domain/link.js';
import {
  AuthorizationFailure,
  type AuthorizationFailureReason,
  accountIdentityOf,
  accountOf,
  createAuthorizationRequest,
  exchangeCode,
  failAuthorization,
  labelIdentity,
  validateCallback,
} from '../oauth/authorization-request.js';
import type { Fetch } from '../oauth/discovery.js';
import { OAuthFailure, type OAuthLink } from '../oauth/token-client.js';
import { presetFor } from '../providers/registry.js';
import type { ProviderPreset } from '../providers/types.js';
import {
  createAuthorizationFlowRepository,
  type FlowRecord,
} from '../store/repositories/authorization-flows.js';
import {
  type AuthorizedState,
  createConnectionRepository,
} from '../store/repositories/connections.js';
import { createLinkRepository, type LinkRecord } from '../store/repositories/links.js';
import { type Executor, inTransaction } from '../store/repositories/transaction.js';
import type { EventService } from './events.js';

/** A flow lives this long (state, PKCE verifier): issue 3, DESIGN §6. */
export const FLOW_TTL_MS = 10 * 60_000;

export type FlowStatus = 'pending' | 'succeeded' | 'failed';

/** Why a flow failed: a catalog id (`providerErrors.<id>`) and what the provider said. */
export type FlowError = AuthorizationFailureReason;

export interface FlowOutcome {
  readonly flowId: string;
  readonly linkId: string;
  readonly status: FlowStatus;
  readonly connectionId?: string;
  readonly account?: string;
  readonly error?: FlowError;
}

export interface StartOptions {
  /** Re-authorize this connection: the same account must sign in. */
  readonly connectionId?: string;
  /** The account's name when the provider will not say (no ID token). */
  readonly accountLabel?: string;
  /** Binds the flow to the initiating browser session. */
  readonly sessionToken?: string;
}

/** What the browser that arrives at the callback shows of itself. */
export interface CallbackBinding {
  /** The Outlink session cookie, for a flow started in the UI. */
  readonly sessionToken?: string | undefined;
  /** The flow-binding cookie of a flow, set when its start URL was opened. */
  readonly flowBinding?: (flowId: string) => string | undefined;
}

/** A start URL opened: where to send the browser, and the cookie that binds it. */
export interface OpenedStart {
  readonly flowId: string;
  readonly authorizationUrl: string;
  /** The flow-binding cookie's value (secret); its name is `flowBindingCookie(flowId)`. */
  readonly binding: string;
  readonly expiresAt: string;
}

/** The path of a flow's one-time start URL, below the base URL. */
export const START_PATH = '/oauth2/start/';

/**
 * The flow-binding cookie of a flow: `__Host-` (Secure, path `/`, no Domain, so no other host
 * can set it), one per flow, so several authorizations can run in one browser.
 */
export function flowBindingCookie(flowId: string): string {
  return `__Host-outlink-flow-${flowId}`;
}

export interface AuthorizationFlows {
  /**
   * Starts a flow. With a browser session (the UI) the flow is bound to that session and
   * `authorizationUrl` is the provider's. Without one (API token, CLI) `authorizationUrl` is
   * Outlink's one-time start URL, which binds the flow to the browser that opens it.
   */
  start(
    actor: Actor,
    linkId: string,
    options?: StartOptions,
  ): Promise<{ flowId: string; authorizationUrl: string }>;
  /**
   * Opens a start URL (its secret from the path), once: binds the flow to this browser with
   * a new flow-binding cookie and returns where to send it. `authorization_start_invalid`
   * when unknown, already opened, expired or finished.
   */
  openStart(secret: string): Promise<OpenedStart>;
  /** The callback: `suffix` from the path, the query parameters, the browser's bindings. */
  complete(
    suffix: string,
    parameters: URLSearchParams,
    binding?: CallbackBinding,
  ): Promise<FlowOutcome>;
  get(flowId: string): Promise<FlowOutcome>;
}

/**
 * What an authorization asks for: the link's scopes and the preset's identity scopes (to
 * learn which account signed in). Also what a token response granted when it names none
 * (RFC 6749 §5.1).
 */
function requestedScopes(linkScopes: readonly string[], preset: ProviderPreset): string[] {
  return [...new Set([...linkScopes, ...(preset.identityScopes ?? [])])];
}

/** The actor who started a flow, as the events name it (issue 11). */
function starterOf(flow: FlowRecord): Actor {
  if (flow.actorKind === 'user' && flow.actorId) {
    return { kind: 'user', id: flow.actorId, name: flow.actor };
  }
  if (flow.actorKind === 'api-token' && flow.actorId) {
    return {
      kind: 'api-token',
      id: flow.actorId,
      name: flow.actor.replace(/^api-token:/, ''),
      scopes: [],
      linkIds: [],
      connectionIds: [],
    };
  }
  if (flow.actorKind === 'cli') return { kind: 'cli' };
  return { kind: 'system' };
}

/** What a flow that failed for a reason nobody foresaw records; the error itself is thrown. */
const INTERNAL_FAILURE: FlowError = { id: 'unknown_provider_error', description: 'internal error' };

/** The catalog reason of a failure the flow expects; undefined for anything else. */
function reasonOf(error: unknown): FlowError | undefined {
  if (error instanceof AuthorizationFailure) return error.reason;
  if (error instanceof OAuthFailure) {
    return {
      id: error.entry.id,
      ...(error.error ? { error: error.error } : {}),
      ...(error.description ? { description: error.description } : {}),
    };
  }
  return undefined;
}

/** Two hex hashes compared in constant time. */
function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function outcomeOf(flow: FlowRecord, account?: string): FlowOutcome {
  return {
    flowId: flow.id,
    linkId: flow.linkId,
    status: flow.status === 'succeeded' || flow.status === 'failed' ? flow.status : 'pending',
    ...(flow.resultConnectionId ? { connectionId: flow.resultConnectionId } : {}),
    ...(account ? { account } : {}),
    ...(flow.error ? { error: flow.error } : {}),
  };
}

/**
 * The authorization use case (DESIGN §6): starts flows, completes them at the callback (the
 * protocol steps in `oauth/authorization-request.ts`), creates or updates the connection of
 * the account that signed in, and records the outcome and its events.
 */
export function createAuthorizationFlows(deps: {
  db: Executor;
  cipher: Cipher;
  clock: Clock;
  config: Config;
  events: EventService;
  fetch: Fetch;
  requestTimeoutMs?: number;
}): AuthorizationFlows {
  const { db, cipher, clock, config, events } = deps;
  const flows = createAuthorizationFlowRepository(db);
  const links = createLinkRepository(db);
  const connections = createConnectionRepository(db);

  const loadLink = async (linkId: string) => {
    const link = await links.findById(linkId);
    if (!link) throw new OutlinkError('link_not_found', { id: linkId });
    return link;
  };

  const loadFlow = async (flowId: string) => {
    const flow = await flows.findById(flowId);
    if (!flow) throw new OutlinkError('flow_not_found', { id: flowId });
    return flow;
  };

  const oauthLinkOf = (link: LinkRecord): OAuthLink => ({
    id: link.id,
    clientId: link.clientId,
    clientSecret: cipher.decrypt(link.clientSecretEnc, Aad.linkClientSecret(link.id)),
    clientAuthMethod: link.clientAuthMethod,
    authorizationEndpoint: link.authorizationEndpoint,
    tokenEndpoint: link.tokenEndpoint,
    issuer: link.issuer,
  });

  /** Ends a flow as failed: the record and its event in one transaction. */
  const recordFailure = (flow: FlowRecord, reason: FlowError) =>
    inTransaction(db, async (trx) => {
      await createAuthorizationFlowRepository(trx).markFailed(
        flow.id,
        reason,
        clock.now().toISOString(),
      );
      await events.record(trx, {
        type: 'connection.authorization_failed',
        actor: starterOf(flow),
        linkId: flow.linkId,
        ...(flow.connectionId ? { connectionId: flow.connectionId } : {}),
        data: {
          flowId: flow.id,
          reason: reason.id,
          ...(reason.error ? { error: reason.error } : {}),
        },
      });
    });

  /**
   * The connection an authorization updates: the one of the same identity; else one from
   * before identities with the same account name, taken over only when that name is proof
   * enough — the administrator re-authorizes that very connection, or the provider vouches
   * for the email (`email_verified`). Otherwise a new connection, never another's.
   */
  const existingConnection = async (
    linkId: string,
    flow: FlowRecord,
    identity: string,
    account: string,
    claims: Readonly<Record<string, unknown>> | undefined,
  ) => {
    const same = await connections.findByIdentity(linkId, identity);
    if (same) return same;
    const legacy = await connections.findUnidentifiedByAccount(linkId, account);
    if (!legacy) return undefined;
    const vouched = !claims || claims.email_verified === true;
    return flow.connectionId === legacy.id || vouched ? legacy : undefined;
  };

  /**
   * A claimed flow's callback: checks it, exchanges the code, identifies the account, and
   * stores its connection. Throws `AuthorizationFailure` or `OAuthFailure` to fail the flow.
   */
  const authorize = async (
    flow: FlowRecord,
    suffix: string,
    parameters: URLSearchParams,
    state: string,
    binding: CallbackBinding,
  ): Promise<{ connectionId: string; account: string }> => {
    if (flow.expiresAt <= clock.now().toISOString()) failAuthorization('state_expired');
    const { sessionToken } = binding;
    if (flow.sessionHash && (!sessionToken || hashToken(sessionToken) !== flow.sessionHash)) {
      failAuthorization('session_mismatch');
    }
    // Issue 11: a flow started without a session (API token, CLI) is completed only by the
    // browser that opened its start URL, which holds the flow-binding cookie set there.
    if (flow.startHash) {
      const cookie = binding.flowBinding?.(flow.id);
      if (!flow.bindingHash || !cookie || !sameHash(hashToken(cookie), flow.bindingHash)) {
        failAuthorization('authorization_not_bound');
      }
    }
    const link = await loadLink(flow.linkId);
    if (callbackSuffix(link.authorizationEndpoint) !== suffix) {
      failAuthorization('callback_suffix_mismatch');
    }
    const oauthLink = oauthLinkOf(link);
    const callback = validateCallback(oauthLink, parameters, {
      state,
      issRequired: link.issRequired,
    });
    const preset = presetFor(link.provider);
    const tokens = await exchangeCode(
      { fetch: deps.fetch, clock, timeoutMs: deps.requestTimeoutMs ?? 15_000 },
      oauthLink,
      {
        callback,
        redirectUri: flow.redirectUri,
        codeVerifier: cipher.decrypt(flow.codeVerifierEnc, Aad.codeVerifier(flow.id)),
        nonce: flow.nonce ?? undefined,
        ...(preset.idTokenIssuer
          ? {
              idTokenIssuer: (claims: Readonly<Record<string, unknown>>) =>
                preset.idTokenIssuer?.(claims, { cloud: link.cloud ?? undefined }),
            }
          : {}),
      },
    );
    if (preset.refreshTokenRequired && !tokens.refreshToken) {
      failAuthorization('refresh_token_missing');
    }
    const claims = tokens.idTokenClaims;
    const account = accountOf(claims) ?? flow.accountLabel ?? failAuthorization('account_unknown');
    // Issue 11: the connection is the identity's; the account (an email) is its name only.
    const identity =
      accountIdentityOf(claims, preset.accountKey) ??
      (claims ? failAuthorization('account_unknown') : labelIdentity(account));
    const existing = await existingConnection(link.id, flow, identity, account, claims);
    if (flow.connectionId && existing?.id !== flow.connectionId) {
      // Re-authorizing one connection: the account that signed in must be its account.
      const target = await connections.findById(flow.connectionId);
      if (!target) throw new OutlinkError('connection_not_found', { id: flow.connectionId });
      failAuthorization('account_mismatch', { expected: target.account, actual: account });
    }
    const connectionId = existing?.id ?? randomUUID();
    const requested = requestedScopes(link.scopes, preset);
    await inTransaction(db, async (trx) => {
      const at = clock.now().toISOString();
      const authorized: AuthorizedState = {
        status: 'valid',
        accessTokenEnc: cipher.encrypt(tokens.accessToken, Aad.accessToken(connectionId)),
        refreshTokenEnc: tokens.refreshToken
          ? cipher.encrypt(tokens.refreshToken, Aad.refreshToken(connectionId))
          : null,
        tokenType: tokens.tokenType,
        expiresAt: tokens.expiresAt?.toISOString() ?? null,
        scopes: tokens.scopes ?? requested,
        issuer: typeof claims?.iss === 'string' ? claims.iss : null,
        lastRefreshedAt: at,
        lastError: null,
        refreshFailures: 0,
        retryAt: null,
        updatedAt: at,
        redirectUri: flow.redirectUri,
        authorizedAt: at,
      };
      const stored = createConnectionRepository(trx);
      if (existing) {
        await stored.updateAuthorized(connectionId, authorized, existing.tokenVersion + 1, {
          account,
          identity,
        });
      } else {
        await stored.insertAuthorized(
          { id: connectionId, linkId: link.id, account, identity, createdAt: at },
          authorized,
        );
      }
      // RFC 9207 / DESIGN §4: an issuer first seen here is required from now on.
      if (callback.iss && (!link.issuer || !link.issRequired)) {
        await createLinkRepository(trx).requireIssuer(link.id, link.issuer ?? callback.iss);
      }
      await createAuthorizationFlowRepository(trx).markSucceeded(flow.id, connectionId, at);
      await events.record(trx, {
        type: 'connection.authorized',
        actor: starterOf(flow),
        linkId: link.id,
        connectionId,
        data: {
          account,
          flowId: flow.id,
          initiatedBy: flow.actor,
          reauthorized: Boolean(existing),
        },
      });
      if (existing && existing.status !== 'valid') {
        await events.record(trx, {
          type: 'connection.recovered',
          actor: starterOf(flow),
          linkId: link.id,
          connectionId,
          data: { account, from: existing.status },
        });
      }
    });
    return { connectionId, account };
  };

  return {
    async start(actor, linkId, options = {}) {
      if (!config.baseUrlIsHttps)
        throw new OutlinkError('insecure_base_url', { baseUrl: config.baseUrl.href });
      const link = await loadLink(linkId);
      if (options.connectionId) {
        const target = await connections.findById(options.connectionId);
        if (target?.linkId !== linkId) {
          throw new OutlinkError('connection_not_found', { id: options.connectionId });
        }
      }
      const preset = presetFor(link.provider);
      const redirectUri = redirectUrlFor(config.baseUrl, link.authorizationEndpoint);
      const request = await createAuthorizationRequest({
        authorizationEndpoint: link.authorizationEndpoint,
        clientId: link.clientId,
        redirectUri,
        scopes: requestedScopes(link.scopes, preset),
        ...(preset.authorizationParams ? { extraParameters: preset.authorizationParams } : {}),
      });
      const flowId = randomUUID();
      const now = clock.now();
      // Without a browser session, the provider's URL is not handed out: a one-time start
      // URL is, which binds the flow to the browser that opens it (issue 11).
      const startSecret = options.sessionToken ? undefined : randomBytes(32).toString('base64url');
      await flows.insert({
        id: flowId,
        stateHash: hashToken(request.state),
        linkId,
        connectionId: options.connectionId ?? null,
        codeVerifierEnc: cipher.encrypt(request.codeVerifier, Aad.codeVerifier(flowId)),
        nonce: request.nonce ?? null,
        redirectUri,
        sessionHash: options.sessionToken ? hashToken(options.sessionToken) : null,
        actor: actorLabel(actor),
        actorKind: actor.kind,
        actorId: actor.kind === 'user' || actor.kind === 'api-token' ? actor.id : null,
        startHash: startSecret ? hashToken(startSecret) : null,
        authorizationUrlEnc: startSecret
          ? cipher.encrypt(request.url, Aad.flowAuthorizationUrl(flowId))
          : null,
        accountLabel: options.accountLabel?.trim() || null,
        expiresAt: new Date(now.getTime() + FLOW_TTL_MS).toISOString(),
        createdAt: now.toISOString(),
      });
      if (!startSecret) return { flowId, authorizationUrl: request.url };
      return {
        flowId,
        authorizationUrl: new URL(`${START_PATH}${startSecret}`, config.baseUrl).href,
      };
    },

    async openStart(secret) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(secret))
        throw new OutlinkError('authorization_start_invalid');
      const binding = randomBytes(32).toString('base64url');
      const flow = await flows.claimStart(
        hashToken(secret),
        hashToken(binding),
        clock.now().toISOString(),
      );
      if (!flow?.authorizationUrlEnc) throw new OutlinkError('authorization_start_invalid');
      return {
        flowId: flow.id,
        authorizationUrl: cipher.decrypt(
          flow.authorizationUrlEnc,
          Aad.flowAuthorizationUrl(flow.id),
        ),
        binding,
        expiresAt: flow.expiresAt,
      };
    },

    get: async (flowId) => outcomeOf(await loadFlow(flowId)),

    async complete(suffix, parameters, binding = {}) {
      const state = parameters.get('state');
      if (!state) throw new OutlinkError('authorization_state_invalid');
      // Single use: only one request can move a flow out of `pending`.
      const flow = await flows.claimPending(hashToken(state));
      if (!flow) throw new OutlinkError('authorization_state_invalid');
      try {
        const { account } = await authorize(flow, suffix, parameters, state, binding);
        return outcomeOf(await loadFlow(flow.id), account);
      } catch (error) {
        const reason = reasonOf(error);
        await recordFailure(flow, reason ?? INTERNAL_FAILURE);
        if (!reason) throw error;
        return outcomeOf(await loadFlow(flow.id));
      }
    },
  };
}
