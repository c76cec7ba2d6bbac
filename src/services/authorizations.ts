import { randomUUID } from 'node:crypto';
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
  accountOf,
  createAuthorizationRequest,
  exchangeCode,
  failAuthorization,
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

export interface AuthorizationFlows {
  start(
    actor: Actor,
    linkId: string,
    options?: StartOptions,
  ): Promise<{ flowId: string; authorizationUrl: string }>;
  /** The callback: `suffix` from the path, the query parameters, the browser's session. */
  complete(
    suffix: string,
    parameters: URLSearchParams,
    sessionToken?: string,
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
        actor: { kind: 'system' },
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
   * A claimed flow's callback: checks it, exchanges the code, identifies the account, and
   * stores its connection. Throws `AuthorizationFailure` or `OAuthFailure` to fail the flow.
   */
  const authorize = async (
    flow: FlowRecord,
    suffix: string,
    parameters: URLSearchParams,
    state: string,
    sessionToken: string | undefined,
  ): Promise<{ connectionId: string; account: string }> => {
    if (flow.expiresAt <= clock.now().toISOString()) failAuthorization('state_expired');
    if (flow.sessionHash && (!sessionToken || hashToken(sessionToken) !== flow.sessionHash)) {
      failAuthorization('session_mismatch');
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
        idTokenIssuer: preset.idTokenIssuer,
      },
    );
    if (preset.refreshTokenRequired && !tokens.refreshToken) {
      failAuthorization('refresh_token_missing');
    }
    const claims = tokens.idTokenClaims;
    const account = accountOf(claims) ?? flow.accountLabel ?? failAuthorization('account_unknown');
    const existing = await connections.findByAccount(link.id, account);
    if (flow.connectionId) {
      // Re-authorizing one connection: the account that signed in must be its account.
      const target = await connections.findById(flow.connectionId);
      if (!target) throw new OutlinkError('connection_not_found', { id: flow.connectionId });
      if (target.account.toLowerCase() !== account.toLowerCase()) {
        failAuthorization('account_mismatch', { expected: target.account, actual: account });
      }
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
      };
      const stored = createConnectionRepository(trx);
      if (existing) {
        await stored.updateAuthorized(connectionId, authorized, existing.tokenVersion + 1);
      } else {
        await stored.insertAuthorized(
          { id: connectionId, linkId: link.id, account, createdAt: at },
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
        actor: { kind: 'system' },
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
          actor: { kind: 'system' },
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
        accountLabel: options.accountLabel?.trim() || null,
        expiresAt: new Date(now.getTime() + FLOW_TTL_MS).toISOString(),
        createdAt: now.toISOString(),
      });
      return { flowId, authorizationUrl: request.url };
    },

    get: async (flowId) => outcomeOf(await loadFlow(flowId)),

    async complete(suffix, parameters, sessionToken) {
      const state = parameters.get('state');
      if (!state) throw new OutlinkError('authorization_state_invalid');
      // Single use: only one request can move a flow out of `pending`.
      const flow = await flows.claimPending(hashToken(state));
      if (!flow) throw new OutlinkError('authorization_state_invalid');
      try {
        const { account } = await authorize(flow, suffix, parameters, state, sessionToken);
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
