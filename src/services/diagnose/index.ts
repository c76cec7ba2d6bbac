import type { Config } from '../../config/config.js';
import type { Clock } from '../../domain/clock.js';
import type { MailServerRuntime } from '../../domain/mail-server.js';
import type { AccessTokenSource, MailClient } from '../../mail/mail-client.js';
import type { Discover, Fetch } from '../../oauth/discovery.js';
import { GOOGLE_USERINFO_ENDPOINT } from '../../providers/google.js';
import {
  type ConnectionRecord,
  createConnectionRepository,
} from '../../store/repositories/connections.js';
import { createMailServerRepository } from '../../store/repositories/mail-servers.js';
import type { Executor } from '../../store/repositories/transaction.js';
import { notExpired } from '../../tokens/freshness.js';
import type { LinkService } from '../links.js';
import { mailServerChecks } from './mail-checks.js';
import {
  clientCredentialsCheck,
  clockSkewCheck,
  discoveryCheck,
  type EndpointProbe,
  endpointCheck,
  type ProbeDeps,
  redirectRegistrationCheck,
  userinfoRefusal,
} from './provider-checks.js';
import {
  baseUrlCheck,
  connectionChecks,
  googleTestingChecks,
  type MailUse,
  microsoftInactivityChecks,
  scopeChecks,
  secretExpiryCheck,
  storedRedirectChecks,
} from './stored-checks.js';
import { type Diagnosis, DiagnosticIds } from './types.js';

export { readOnlyTokenSource } from './mail-checks.js';
export type { Diagnosis, DiagnosticCheck, DiagnosticStatus } from './types.js';

/**
 * Diagnose (issue 13 item 1, DESIGN §8 `POST /api/v1/links/:id/diagnose`, `outlink doctor`):
 * every check of a link, as message keys. It never changes anything, here or at the
 * provider, and never reports a secret.
 */
export interface DiagnoseService {
  diagnose(linkId: string): Promise<Diagnosis>;
}

export function createDiagnoseService(deps: {
  db: Executor;
  clock: Clock;
  config: Pick<Config, 'baseUrl' | 'baseUrlIsHttps'>;
  links: Pick<LinkService, 'get' | 'clientSecret'>;
  fetch: Fetch;
  discover: Discover;
  /** A mail client that never refreshes a token (over `readOnlyTokenSource`). */
  mail: MailClient;
  tokens: AccessTokenSource;
  mailServerRuntime: (id: string) => Promise<MailServerRuntime>;
  /** Per request to a provider. */
  timeoutMs?: number;
}): DiagnoseService {
  const { db, clock, config } = deps;
  const probe = { fetch: deps.fetch, clock, timeoutMs: deps.timeoutMs ?? 10_000 };
  return {
    async diagnose(linkId) {
      const link = await deps.links.get(linkId);
      const now = clock.now();
      const connections = await createConnectionRepository(db).listOfLink(linkId);
      const mailUses = await mailUsesOf(
        db,
        connections.map((c) => c.id),
      );
      const endpoints = [
        ...new Set([link.authorizationEndpoint, link.tokenEndpoint, link.revocationEndpoint ?? '']),
      ].filter(Boolean);
      const [registration, probes, discovery, credentials] = await Promise.all([
        redirectRegistrationCheck(probe, config.baseUrl, link),
        Promise.all(endpoints.map((e) => endpointCheck(probe, e))),
        link.provider === 'custom' ? discoveryCheck(deps.discover, link) : undefined,
        clientCredentialsCheck(probe, {
          id: link.id,
          clientId: link.clientId,
          clientSecret: await deps.links.clientSecret(linkId),
          clientAuthMethod: link.clientAuthMethod,
          authorizationEndpoint: link.authorizationEndpoint,
          tokenEndpoint: link.tokenEndpoint,
          issuer: link.issuer,
          provider: link.provider,
        }),
      ]);
      const refused = await refusals(
        probe,
        deps.tokens,
        link.provider === 'google' ? GOOGLE_USERINFO_ENDPOINT : discovery?.userinfoEndpoint,
        connections,
        now,
      );
      const tokenProbe: EndpointProbe | undefined = probes[endpoints.indexOf(link.tokenEndpoint)];
      const checks = [
        baseUrlCheck(config.baseUrl, config.baseUrlIsHttps),
        registration,
        ...storedRedirectChecks(config.baseUrl, link, connections),
        ...probes.map((p) => p.check),
        ...(discovery ? [discovery.check] : []),
        credentials,
        ...scopeChecks(link, connections, mailUses),
        ...connectionChecks(connections, now, refused),
        clockSkewCheck(tokenProbe),
        secretExpiryCheck(link, now),
        ...(link.provider === 'google' ? googleTestingChecks(connections) : []),
        ...(link.provider === 'microsoft' ? microsoftInactivityChecks(connections, now) : []),
        ...(await mailServerChecks(
          { db, clock, mail: deps.mail, tokens: deps.tokens, runtime: deps.mailServerRuntime },
          mailUses,
        )),
      ];
      // The reported order is the checks' priority, whatever order they finished in.
      const rank = (id: string) => DiagnosticIds.indexOf(id as (typeof DiagnosticIds)[number]);
      return {
        linkId: link.id,
        linkName: link.name,
        checks: checks
          .map((c, i) => ({ c, i }))
          .sort((a, b) => rank(a.c.id) - rank(b.c.id) || a.i - b.i)
          .map((x) => x.c),
      };
    },
  };
}

/**
 * The connections whose access token the provider's UserInfo endpoint refuses: asked only for
 * tokens Outlink still counts as usable and that carry `openid`.
 */
async function refusals(
  probe: ProbeDeps,
  tokens: AccessTokenSource,
  endpoint: string | undefined,
  connections: readonly ConnectionRecord[],
  now: Date,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!endpoint) return out;
  for (const c of connections) {
    if (c.status === 'reauthorization_required' || !c.accessTokenEnc) continue;
    if (!c.scopes.includes('openid') || !notExpired({ expires_at: c.expiresAt }, now)) continue;
    const { accessToken } = await tokens.getAccessToken(c.id);
    const refusal = await userinfoRefusal(probe, endpoint, accessToken);
    if (refusal !== undefined) out.set(c.id, refusal);
  }
  return out;
}

/** The mail servers that authenticate with these connections. */
async function mailUsesOf(db: Executor, connectionIds: readonly string[]): Promise<MailUse[]> {
  if (connectionIds.length === 0) return [];
  const servers = createMailServerRepository(db);
  const users = await servers.usingConnections(connectionIds);
  const out: MailUse[] = [];
  for (const { id } of users) {
    const record = await servers.findById(id);
    if (!record?.connectionId) continue;
    out.push({
      id,
      name: record.name,
      protocol: record.protocol,
      connectionId: record.connectionId,
    });
  }
  return out;
}
