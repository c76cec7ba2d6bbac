import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import * as oauth from 'oauth4webapi';
import type { Config } from '../config/config.js';
import { Aad } from '../crypto/aad.js';
import type { Cipher } from '../crypto/cipher.js';
import { hashToken } from '../crypto/tokens.js';
import { type Actor, actorLabel } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import { callbackSuffix, redirectUrlFor } from '../domain/link.js';
import { presetFor } from '../providers/registry.js';
import type { ProviderId, ProviderPreset } from '../providers/types.js';
import type { EventService } from '../services/events.js';
import type { Database } from '../store/schema.js';
import type { Fetch } from './discovery.js';
import { classifyProviderError, type FlowFailureId } from './provider-errors.js';
import {
  authorizationCodeGrant,
  authorizationServerOf,
  OAuthFailure,
  type OAuthLink,
  type TokenSet,
} from './token-client.js';

/** A flow lives this long (state, PKCE verifier): issue 3, DESIGN §6. */
export const FLOW_TTL_MS = 10 * 60_000;

export type FlowStatus = 'pending' | 'succeeded' | 'failed';

/** Why a flow failed: a catalog id (`providerErrors.<id>`) and what the provider said. */
export interface FlowError {
  readonly id: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly error?: string;
  readonly description?: string;
}

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
function requestedScopes(linkScopes: string, preset: ProviderPreset): string[] {
  return [...new Set([...(JSON.parse(linkScopes) as string[]), ...(preset.identityScopes ?? [])])];
}

/** Thrown inside `complete` to end a flow as failed with a catalog reason. */
class FlowFailure extends Error {
  constructor(readonly reason: FlowError) {
    super(reason.id);
  }
}

const fail = (id: FlowFailureId, params?: Record<string, string>): never => {
  throw new FlowFailure(params ? { id, params } : { id });
};

export function createAuthorizationFlows(deps: {
  db: Kysely<Database>;
  cipher: Cipher;
  clock: Clock;
  config: Config;
  events: EventService;
  fetch: Fetch;
  requestTimeoutMs?: number;
}): AuthorizationFlows {
  const { db, cipher, clock, config, events } = deps;

  const outcomeOf = (
    row: {
      id: string;
      link_id: string;
      status: string;
      result_connection_id: string | null;
      error: string | null;
    },
    account?: string,
  ): FlowOutcome => ({
    flowId: row.id,
    linkId: row.link_id,
    status: row.status === 'succeeded' || row.status === 'failed' ? row.status : 'pending',
    ...(row.result_connection_id ? { connectionId: row.result_connection_id } : {}),
    ...(account ? { account } : {}),
    ...(row.error ? { error: JSON.parse(row.error) as FlowError } : {}),
  });

  const loadLink = async (linkId: string) => {
    const link = await db
      .selectFrom('links')
      .selectAll()
      .where('id', '=', linkId)
      .executeTakeFirst();
    if (!link) throw new OutlinkError('link_not_found', { id: linkId });
    return link;
  };

  return {
    async start(actor, linkId, options = {}) {
      if (!config.baseUrlIsHttps)
        throw new OutlinkError('insecure_base_url', { baseUrl: config.baseUrl.href });
      const link = await loadLink(linkId);
      if (options.connectionId) {
        const conn = await db
          .selectFrom('connections')
          .select('id')
          .where('id', '=', options.connectionId)
          .where('link_id', '=', linkId)
          .executeTakeFirst();
        if (!conn) throw new OutlinkError('connection_not_found', { id: options.connectionId });
      }
      const preset = presetFor(link.provider as ProviderId);
      const scopes = requestedScopes(link.scopes, preset);
      const state = oauth.generateRandomState();
      const verifier = oauth.generateRandomCodeVerifier();
      const nonce = scopes.includes('openid') ? oauth.generateRandomNonce() : null;
      const redirectUri = redirectUrlFor(config.baseUrl, link.authorization_endpoint);
      const flowId = randomUUID();
      const now = clock.now();

      const url = new URL(link.authorization_endpoint);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', link.client_id);
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('scope', scopes.join(' '));
      url.searchParams.set('state', state);
      url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
      url.searchParams.set('code_challenge_method', 'S256');
      if (nonce) url.searchParams.set('nonce', nonce);
      // OpenID Connect Core §11: offline_access is ignored unless consent is prompted.
      if (scopes.includes('offline_access')) url.searchParams.set('prompt', 'consent');
      for (const [k, v] of Object.entries(preset.authorizationParams ?? {}))
        url.searchParams.set(k, v);

      await db
        .insertInto('authorization_flows')
        .values({
          id: flowId,
          state_hash: hashToken(state),
          link_id: linkId,
          connection_id: options.connectionId ?? null,
          code_verifier_enc: cipher.encrypt(verifier, Aad.codeVerifier(flowId)),
          nonce,
          redirect_uri: redirectUri,
          session_hash: options.sessionToken ? hashToken(options.sessionToken) : null,
          actor: actorLabel(actor),
          account_label: options.accountLabel?.trim() || null,
          status: 'pending',
          result_connection_id: null,
          error: null,
          expires_at: new Date(now.getTime() + FLOW_TTL_MS).toISOString(),
          created_at: now.toISOString(),
          completed_at: null,
        })
        .execute();
      return { flowId, authorizationUrl: url.href };
    },

    async get(flowId) {
      const row = await db
        .selectFrom('authorization_flows')
        .selectAll()
        .where('id', '=', flowId)
        .executeTakeFirst();
      if (!row) throw new OutlinkError('flow_not_found', { id: flowId });
      return outcomeOf(row);
    },

    async complete(suffix, parameters, sessionToken) {
      const state = parameters.get('state');
      if (!state) throw new OutlinkError('authorization_state_invalid');
      const flow = await db
        .selectFrom('authorization_flows')
        .selectAll()
        .where('state_hash', '=', hashToken(state))
        .executeTakeFirst();
      if (!flow) throw new OutlinkError('authorization_state_invalid');
      const now = clock.now().toISOString();
      // Single use: only one request can move a flow out of `pending`.
      const claimed = await db
        .updateTable('authorization_flows')
        .set({ status: 'exchanging' })
        .where('id', '=', flow.id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0)
        throw new OutlinkError('authorization_state_invalid');

      const finish = async (
        result: { connectionId: string; account: string } | { error: FlowError },
      ) => {
        const completedAt = clock.now().toISOString();
        if ('error' in result) {
          await db.transaction().execute(async (trx) => {
            await trx
              .updateTable('authorization_flows')
              .set({
                status: 'failed',
                error: JSON.stringify(result.error),
                completed_at: completedAt,
              })
              .where('id', '=', flow.id)
              .execute();
            await events.record(trx, {
              type: 'connection.authorization_failed',
              actor: { kind: 'system' },
              linkId: flow.link_id,
              ...(flow.connection_id ? { connectionId: flow.connection_id } : {}),
              data: {
                flowId: flow.id,
                reason: result.error.id,
                ...(result.error.error ? { error: result.error.error } : {}),
              },
            });
          });
        }
        const row = await db
          .selectFrom('authorization_flows')
          .selectAll()
          .where('id', '=', flow.id)
          .executeTakeFirstOrThrow();
        return outcomeOf(row, 'account' in result ? result.account : undefined);
      };

      try {
        if (flow.expires_at <= now) fail('state_expired');
        if (flow.session_hash && (!sessionToken || hashToken(sessionToken) !== flow.session_hash)) {
          fail('session_mismatch');
        }
        const link = await loadLink(flow.link_id);
        if (callbackSuffix(link.authorization_endpoint) !== suffix)
          fail('callback_suffix_mismatch');
        const oauthLink: OAuthLink = {
          id: link.id,
          clientId: link.client_id,
          clientSecret: cipher.decrypt(link.client_secret_enc, Aad.linkClientSecret(link.id)),
          clientAuthMethod: link.client_auth_method,
          authorizationEndpoint: link.authorization_endpoint,
          tokenEndpoint: link.token_endpoint,
          issuer: link.issuer,
        };
        const sentIss = parameters.get('iss') ?? undefined;
        if (link.iss_required && sentIss === undefined) fail('iss_missing');
        const callbackParameters = validateCallback(oauthLink, parameters, state, sentIss);
        const tokens = await exchange(
          oauthLink,
          callbackParameters,
          flow,
          sentIss,
          presetFor(link.provider as ProviderId).idTokenIssuer,
        );
        const preset = presetFor(link.provider as ProviderId);
        if (preset.refreshTokenRequired && !tokens.refreshToken) fail('refresh_token_missing');
        const claims = tokens.idTokenClaims ?? {};
        const account =
          [claims.email, claims.preferred_username, claims.sub].find(
            (v): v is string => typeof v === 'string' && v.length > 0,
          ) ??
          flow.account_label ??
          fail('account_unknown');
        const existing = await db
          .selectFrom('connections')
          .selectAll()
          .where('link_id', '=', link.id)
          // Mail addresses are compared as the providers treat them: without regard to case.
          .where(sql`lower(account)`, '=', account.toLowerCase())
          .executeTakeFirst();
        if (flow.connection_id) {
          const target = await db
            .selectFrom('connections')
            .select(['id', 'account'])
            .where('id', '=', flow.connection_id)
            .executeTakeFirst();
          if (!target) throw new OutlinkError('connection_not_found', { id: flow.connection_id });
          if (target.account.toLowerCase() !== account.toLowerCase())
            fail('account_mismatch', { expected: target.account, actual: account });
        }
        const connectionId = existing?.id ?? randomUUID();
        const requested = requestedScopes(link.scopes, preset);
        await db.transaction().execute(async (trx) => {
          const at = clock.now().toISOString();
          const tokenColumns = {
            access_token_enc: cipher.encrypt(tokens.accessToken, Aad.accessToken(connectionId)),
            refresh_token_enc: tokens.refreshToken
              ? cipher.encrypt(tokens.refreshToken, Aad.refreshToken(connectionId))
              : null,
            token_type: tokens.tokenType,
            expires_at: tokens.expiresAt?.toISOString() ?? null,
            scopes: JSON.stringify(tokens.scopes ?? requested),
            status: 'valid' as const,
            issuer: typeof claims.iss === 'string' ? claims.iss : null,
            last_refreshed_at: at,
            last_error: null,
            refresh_failures: 0,
            retry_at: null,
            updated_at: at,
          };
          if (existing) {
            await trx
              .updateTable('connections')
              .set({ ...tokenColumns, token_version: existing.token_version + 1 })
              .where('id', '=', connectionId)
              .execute();
          } else {
            await trx
              .insertInto('connections')
              .values({
                id: connectionId,
                link_id: link.id,
                account,
                created_at: at,
                ...tokenColumns,
              })
              .execute();
          }
          // RFC 9207 / DESIGN §4: an issuer first seen here is required from now on.
          if (sentIss && (!link.issuer || !link.iss_required)) {
            await trx
              .updateTable('links')
              .set({ issuer: link.issuer ?? sentIss, iss_required: 1 })
              .where('id', '=', link.id)
              .execute();
          }
          await trx
            .updateTable('authorization_flows')
            .set({ status: 'succeeded', result_connection_id: connectionId, completed_at: at })
            .where('id', '=', flow.id)
            .execute();
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
        return await finish({ connectionId, account });
      } catch (error) {
        if (error instanceof FlowFailure) return finish({ error: error.reason });
        if (error instanceof OAuthFailure) {
          return finish({
            error: {
              id: error.entry.id,
              ...(error.error ? { error: error.error } : {}),
              ...(error.description ? { description: error.description } : {}),
            },
          });
        }
        await finish({ error: { id: 'unknown_provider_error', description: 'internal error' } });
        throw error;
      }
    },
  };

  /** RFC 6749 §4.1.2 and RFC 9207: the provider's error answer, `state` and `iss`. */
  function validateCallback(
    link: OAuthLink,
    parameters: URLSearchParams,
    state: string,
    sentIss: string | undefined,
  ) {
    // RFC 9207 §2.4: an `iss` that is not the expected issuer is refused before anything else.
    if (link.issuer && sentIss !== undefined && sentIss !== link.issuer) fail('iss_mismatch');
    try {
      return oauth.validateAuthResponse(
        authorizationServerOf(link, link.issuer ?? sentIss),
        { client_id: link.clientId },
        parameters,
        state,
      );
    } catch (error) {
      if (error instanceof oauth.AuthorizationResponseError) {
        const entry = classifyProviderError(error.error, error.error_description);
        throw new FlowFailure({
          id: entry.id,
          error: error.error,
          ...(error.error_description
            ? { description: error.error_description.slice(0, 500) }
            : {}),
        });
      }
      // Not an authorization code response (RFC 6749 §4.1.2): implicit or hybrid tokens, JARM.
      if (
        error instanceof oauth.OperationProcessingError ||
        error instanceof oauth.UnsupportedOperationError
      ) {
        fail('callback_invalid', { detail: error.message.slice(0, 200) });
      }
      throw error;
    }
  }

  async function exchange(
    link: OAuthLink,
    callbackParameters: URLSearchParams,
    flow: { id: string; code_verifier_enc: string; nonce: string | null; redirect_uri: string },
    sentIss: string | undefined,
    idTokenIssuer: ProviderPreset['idTokenIssuer'],
  ): Promise<TokenSet> {
    if (!callbackParameters.get('code')) fail('code_missing');
    try {
      return await authorizationCodeGrant(
        { fetch: deps.fetch, clock, timeoutMs: deps.requestTimeoutMs ?? 15_000 },
        link,
        {
          callbackParameters,
          redirectUri: flow.redirect_uri,
          codeVerifier: cipher.decrypt(flow.code_verifier_enc, Aad.codeVerifier(flow.id)),
          nonce: flow.nonce ?? undefined,
          issuer: link.issuer ?? sentIss,
          idTokenIssuer,
        },
      );
    } catch (error) {
      if (error instanceof OAuthFailure && error.cause instanceof oauth.OperationProcessingError) {
        const code = error.cause.code;
        if (
          code === oauth.JWT_CLAIM_COMPARISON ||
          code === oauth.JWT_TIMESTAMP_CHECK ||
          code === oauth.INVALID_RESPONSE
        ) {
          if (error.status === undefined || error.status === 200)
            fail('id_token_invalid', { detail: error.cause.message.slice(0, 200) });
        }
      }
      throw error;
    }
  }
}
