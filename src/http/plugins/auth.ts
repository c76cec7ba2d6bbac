import { timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4 } from 'node:net';
import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Actor } from '../../domain/actor.js';
import { isAdmin, mayReadMetrics } from '../../domain/actor.js';
import { OutlinkError } from '../../domain/errors.js';
import type { Services } from '../../services/index.js';

/**
 * `__Host-`: the browser accepts it only Secure, with `Path=/` and no `Domain`, so a sibling
 * subdomain or a plain-HTTP page cannot plant or shadow the session cookie.
 */
export const SESSION_COOKIE = '__Host-outlink_session';

/** The attributes the session cookie is set and cleared with (the `__Host-` rules). */
export const SESSION_COOKIE_OPTIONS = {
  path: '/',
  httpOnly: true,
  secure: true,
  sameSite: 'lax',
} as const;
export const CSRF_HEADER = 'x-csrf-token';

/**
 * Who may call a route: nobody checked, an admin, a `token:read` credential, or a reader of
 * the metrics (`metrics:read`, or a client address in `OUTLINK_METRICS_ALLOW`).
 */
export type RouteAuth = 'public' | 'admin' | 'token:read' | 'metrics:read';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    actor: Actor | undefined;
    sessionToken: string | undefined;
    /**
     * The cache counters read while authenticating an API token, in this request: the token
     * route passes them on so that a cached token costs one read of them (issue 12).
     */
    cacheEpochs: { readonly access_tokens?: string } | undefined;
  }
}

/** What authentication looks credentials up with. */
export type AuthServices = Pick<Services, 'apiTokens' | 'users'> & {
  /** Client addresses (CIDRs) that may read the metrics without a credential. */
  readonly metricsAllow?: readonly string[];
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Authentication for `/api/v1`: a route is admin-only unless it says otherwise, so a new
 * route cannot forget. Bearer API tokens or the session cookie; a state-changing request
 * made with the cookie must carry the session's CSRF token (DESIGN §8).
 */
export const authPlugin = fp(
  async (app: FastifyInstance, services: AuthServices) => {
    app.decorateRequest('actor', undefined);
    app.decorateRequest('sessionToken', undefined);
    app.decorateRequest('cacheEpochs', undefined);
    const metricsAllowed = addressList(services.metricsAllow ?? []);

    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/api/v1')) return;
      route.config = { ...(route.config ?? {}), auth: route.config?.auth ?? 'admin' };
    });

    // onRequest, before the body is parsed or validated: a stranger learns nothing about a
    // route's schema and cannot make the server parse a large body.
    app.addHook('onRequest', async (request) => {
      const auth = request.routeOptions.config.auth;
      if (!auth || auth === 'public') return;
      if (auth === 'metrics:read' && metricsAllowed(request.ip)) return;
      request.actor = await authenticate(request, services);
      if (!request.actor) throw new OutlinkError('not_authenticated');
      if (auth === 'admin' && !isAdmin(request.actor)) throw new OutlinkError('forbidden');
      if (auth === 'metrics:read' && !mayReadMetrics(request.actor)) {
        throw new OutlinkError('metrics_forbidden');
      }
    });
  },
  { name: 'outlink-auth', fastify: '5.x', dependencies: ['@fastify/cookie', 'outlink-errors'] },
);

/**
 * A test of a client address against CIDRs or single addresses; an IPv4 client seen as an
 * IPv4-mapped IPv6 address (`::ffff:10.0.0.5`) is tested as the IPv4 address it is.
 */
export function addressList(entries: readonly string[]): (ip: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIPv4(address) ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (ip) => {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
    const address = mapped ?? ip;
    return list.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
  };
}

/** The authenticated actor of a route that required one. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new OutlinkError('not_authenticated');
  return request.actor;
}

async function authenticate(
  request: FastifyRequest,
  services: AuthServices,
): Promise<Actor | undefined> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const bearer = bearerTokenOf(header);
    if (!bearer) return undefined;
    const verified = await services.apiTokens.authenticate(bearer);
    if (!verified) return undefined;
    request.cacheEpochs = verified.epochs;
    return verified.actor;
  }
  const token = request.cookies[SESSION_COOKIE];
  if (!token) return undefined;
  const session = await services.users.resolveSession(token);
  if (!session) return undefined;
  if (
    !SAFE_METHODS.has(request.method) &&
    !csrfTokenMatches(request.headers[CSRF_HEADER], session.csrfToken)
  ) {
    throw new OutlinkError('csrf_token_invalid');
  }
  request.sessionToken = token;
  return { kind: 'user', id: session.userId, name: session.username };
}

/** The token of an `Authorization: Bearer …` header; undefined for any other header. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

/**
 * Compares the presented CSRF token with the session's in constant time: an attacker timing
 * the answers learns nothing about how many leading characters were right.
 */
export function csrfTokenMatches(
  presented: string | string[] | undefined,
  expected: string,
): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // timingSafeEqual needs equal lengths; the length of a token is not a secret.
  return a.length === b.length && timingSafeEqual(a, b);
}
