import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { InteractionDetails, Provider } from 'oidc-provider';
import type { Fetch } from '../../src/oauth/discovery.js';
import { listenClosable } from '../support/ports.js';
import { type TestTls, testTls } from './ca.js';
import { createTrustingFetch, type TrustingFetch, testFetch } from './fetch.js';

/** A client registered at the authorization server (RFC 7591 metadata names in camelCase). */
export interface PeerClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
  /** Default `client_secret_post`, Outlink's default for custom providers (DESIGN §5). */
  readonly tokenEndpointAuthMethod?: 'client_secret_post' | 'client_secret_basic';
  /** Default `['authorization_code', 'refresh_token']`. */
  readonly grantTypes?: readonly string[];
}

/** An end-user who can sign in at the authorization server. */
export interface PeerAccount {
  readonly email: string;
  /** Default `DEFAULT_ACCOUNT_PASSWORD`. */
  readonly password?: string;
  /** The `sub`; defaults to the email, so introspection's `sub` names the mailbox. */
  readonly sub?: string;
  /**
   * The `email` claim, when it is not the login name (`email`): two accounts claiming one
   * address, as an unverified claim allows.
   */
  readonly emailClaim?: string;
  readonly name?: string;
}

export interface AuthorizationServerOptions {
  /**
   * The registered clients; or a function of the server's issuer and endpoints, since a
   * client's redirect URI (Outlink's) derives from the authorization endpoint, whose port is
   * only known once the server listens.
   */
  readonly clients?:
    | readonly PeerClient[]
    | ((server: { issuer: string; endpoints: PeerEndpoints }) => readonly PeerClient[]);
  readonly accounts?: readonly PeerAccount[];
  /** Certificate to serve; the process's shared test CA leaf by default. */
  readonly tls?: TestTls;
  /** Access token lifetime in seconds (default 3600, as the library's default). */
  readonly accessTokenTtl?: number;
  /** Refresh token lifetime in seconds (default 14 days). */
  readonly refreshTokenTtl?: number;
}

/** Endpoint URLs as the discovery document names them. */
export interface PeerEndpoints {
  readonly authorization: string;
  readonly token: string;
  readonly introspection: string;
  readonly revocation: string;
  readonly userinfo: string;
  readonly jwks: string;
  readonly discovery: string;
}

/** How a scripted login answers the interaction pages. */
export interface LoginOptions {
  /** The account's email, typed into the login form. */
  readonly email: string;
  /** Default: the account's own password. */
  readonly password?: string;
  /** Press "Allow" (default) or "Deny" on the consent page. */
  readonly consent?: boolean;
}

/** A running oidc-provider over HTTPS on 127.0.0.1 with a random port. */
export interface AuthorizationServer {
  /** `https://127.0.0.1:<port>`: also the base of every endpoint. */
  readonly issuer: string;
  readonly port: number;
  readonly endpoints: PeerEndpoints;
  /** The CA that signed the server's certificate (PEM). */
  readonly caPem: string;
  /** A `fetch` that trusts `caPem`. */
  readonly fetch: Fetch;
  /** The oidc-provider instance, for tests that reach into grants or listen to its events. */
  readonly provider: Provider;
  /**
   * Walks an authorization request as a user would: follows the redirects, signs in on the
   * login page, answers the consent page, and returns the URL the server finally redirects
   * to at the client (`?code=…&state=…&iss=…`, or `?error=…`) without fetching it.
   */
  login(authorizationUrl: string | URL, options: LoginOptions): Promise<URL>;
  /**
   * Re-registers a client with a new secret, as an administrator rotating (or a provider
   * expiring) it would: the old secret answers `invalid_client` from the next request on,
   * while the client's grants and refresh tokens stay valid for the new one.
   */
  setClientSecret(clientId: string, clientSecret: string): Promise<void>;
  /**
   * Holds every token endpoint request `ms` before the provider handles it (0: none): a
   * provider as far away as a real one, at no CPU cost to anyone (the benchmarks' distance).
   */
  setTokenLatency(ms: number): void;
  /** Token endpoint requests so far (grants of any kind, answered or not). */
  readonly tokenRequests: number;
  close(): Promise<void>;
}

export const DEFAULT_ACCOUNT_PASSWORD = 'correct horse battery staple';

/**
 * The claims per scope: `openid`, `email` and `profile` (with `offline_access`) are the
 * scopes this server knows; the library leaves any other requested scope out of the grant.
 */
const CLAIMS = Object.freeze({
  acr: null,
  auth_time: null,
  iss: null,
  sid: null,
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'preferred_username'],
});

const DAY = 24 * 60 * 60;

let signingKey: Record<string, unknown> | undefined;
let providerModule: Promise<typeof import('oidc-provider')> | undefined;

/**
 * Starts panva's oidc-provider (a certified OpenID provider) as the test authorization
 * server (DESIGN §9): refresh-token rotation on every use, introspection (RFC 7662) and
 * revocation (RFC 7009) on, and its own login and consent pages that browser tests click
 * through and `login()` drives for API tests.
 *
 * Note the library's rules that matter to clients (PEERS.md): a refresh token is issued only
 * for `offline_access` requested with `prompt=consent`, and reusing a consumed refresh token
 * revokes the whole grant.
 */
export async function startAuthorizationServer(
  options: AuthorizationServerOptions = {},
): Promise<AuthorizationServer> {
  const tls = options.tls ?? (await testTls());
  const { Provider } = await loadProvider();
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer({ cert: tls.server.certPem, key: tls.server.keyPem }, (req, res) => {
    if (handler) return handler(req, res);
    res.statusCode = 503;
    res.end();
  });
  const { port, close: closeServer } = await listenClosable(server);
  const issuer = `https://127.0.0.1:${port}`;

  const accounts = (options.accounts ?? []).map((a) => ({
    ...a,
    sub: a.sub ?? a.email,
    password: a.password ?? DEFAULT_ACCOUNT_PASSWORD,
  }));
  const accountBySub = (sub: string) => accounts.find((a) => a.sub === sub);

  const endpoints: PeerEndpoints = {
    authorization: `${issuer}/auth`,
    token: `${issuer}/token`,
    introspection: `${issuer}/token/introspection`,
    revocation: `${issuer}/token/revocation`,
    userinfo: `${issuer}/me`,
    jwks: `${issuer}/jwks`,
    discovery: `${issuer}/.well-known/openid-configuration`,
  };
  const clients =
    typeof options.clients === 'function'
      ? options.clients({ issuer, endpoints })
      : (options.clients ?? []);

  // Clients live in the adapter's Client model, where dynamic registration keeps them (and
  // not in the static `clients` setting, which the library caches for good), so that
  // `setClientSecret` can re-register one while the server runs.
  const adapter = createMemoryAdapter();
  const registered = new Map(clients.map((c) => [c.clientId, clientMetadata(c)]));
  const clientModel = adapter('Client');
  for (const [id, metadata] of registered) await clientModel.upsert(id, metadata);

  const provider = new Provider(issuer, {
    // Given explicitly: the library's defaults print development-only warnings.
    adapter,
    jwks: { keys: [rsaSigningKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: CLAIMS,
    // Google and Microsoft put the scope claims (email) into the ID token; so does this peer.
    conformIdTokenClaims: false,
    findAccount: async (_ctx: unknown, sub: string) => {
      const account = accountBySub(sub);
      if (!account) return undefined;
      return {
        accountId: account.sub,
        claims: async () => ({
          sub: account.sub,
          email: account.emailClaim ?? account.email,
          email_verified: account.emailClaim === undefined,
          name: account.name ?? account.email,
          preferred_username: account.email,
        }),
      };
    },
    // Introspection answers carry the mailbox, for Dovecot's `username_attribute = email`.
    extraTokenClaims: async (_ctx: unknown, token: { accountId?: string }) => {
      const account = token.accountId ? accountBySub(token.accountId) : undefined;
      return account ? { email: account.emailClaim ?? account.email } : undefined;
    },
    rotateRefreshToken: true,
    features: {
      devInteractions: { enabled: false },
      // Any authenticated client may introspect: Dovecot uses a client of its own.
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx: unknown, client: ClientRef, token: { clientId: string }) =>
          token.clientId === client.clientId,
      },
    },
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600,
      AuthorizationCode: 60,
      BackchannelAuthenticationRequest: 600,
      ClientCredentials: 600,
      DeviceCode: 600,
      Grant: 14 * DAY,
      IdToken: 3600,
      Interaction: 600,
      PreAuthorizedCode: 600,
      RefreshToken: options.refreshTokenTtl ?? 14 * DAY,
      Session: 14 * DAY,
    },
    clientBasedCORS: () => false,
    renderError: async (ctx: { type: string; body: unknown }, out: Record<string, string>) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  const callback = provider.callback();
  let tokenLatencyMs = 0;
  let tokenRequests = 0;
  handler = (req, res) => {
    if (req.url === '/token') {
      tokenRequests++;
      if (tokenLatencyMs > 0) {
        setTimeout(callback, tokenLatencyMs, req, res);
        return;
      }
    }
    const match = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/.exec(
      new URL(req.url ?? '/', issuer).pathname,
    );
    if (!match) {
      callback(req, res);
      return;
    }
    interact(provider, accounts, req, res, match[2]).catch((error: unknown) => {
      if (res.headersSent) {
        res.end();
        return;
      }
      res.statusCode = 400;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(`interaction failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  };

  // A server with its own CA gets its own pool, closed with the server.
  const own: TrustingFetch | undefined = options.tls ? createTrustingFetch(tls.caPem) : undefined;
  const fetch = own ? own.fetch : await testFetch();
  return {
    issuer,
    port,
    endpoints,
    caPem: tls.caPem,
    fetch,
    provider,
    login: (authorizationUrl, loginOptions) =>
      scriptedLogin(fetch, issuer, new URL(authorizationUrl), {
        ...loginOptions,
        password:
          loginOptions.password ??
          accounts.find((a) => a.email.toLowerCase() === loginOptions.email.toLowerCase())
            ?.password ??
          DEFAULT_ACCOUNT_PASSWORD,
      }),
    async setClientSecret(clientId, clientSecret) {
      const metadata = registered.get(clientId);
      if (!metadata) throw new Error(`no client "${clientId}" is registered`);
      const next = { ...metadata, client_secret: clientSecret };
      registered.set(clientId, next);
      await clientModel.upsert(clientId, next);
    },
    setTokenLatency(ms) {
      tokenLatencyMs = ms;
    },
    get tokenRequests() {
      return tokenRequests;
    },
    async close() {
      handler = undefined;
      await closeServer();
      await own?.close();
    },
  };
}

interface ClientRef {
  readonly clientId: string;
}

/** A peer client as RFC 7591 registration metadata, the form the Client model stores. */
function clientMetadata(c: PeerClient): Payload {
  return {
    client_id: c.clientId,
    client_secret: c.clientSecret,
    redirect_uris: [...c.redirectUris],
    grant_types: [...(c.grantTypes ?? ['authorization_code', 'refresh_token'])],
    response_types: ['code'],
    token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? 'client_secret_post',
  };
}

type ResolvedAccount = PeerAccount & { readonly sub: string; readonly password: string };

/** The login, consent and abort steps: the part of an authorization server a user sees. */
async function interact(
  provider: Provider,
  accounts: readonly ResolvedAccount[],
  req: IncomingMessage,
  res: ServerResponse,
  action: string | undefined,
): Promise<void> {
  res.setHeader('cache-control', 'no-store');
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET' && action === undefined) return sendPage(res, page(details));
  if (req.method !== 'POST') {
    res.statusCode = 405;
    return void res.end();
  }
  if (action === 'abort') {
    return provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'End-User aborted interaction' },
      { mergeWithLastSubmission: false },
    );
  }
  const form = new URLSearchParams(await readBody(req));
  if (action === 'login') {
    const email = (form.get('email') ?? '').trim().toLowerCase();
    const account = accounts.find((a) => a.email.toLowerCase() === email);
    if (!account || account.password !== form.get('password')) {
      return sendPage(res, page(details, 'Wrong email or password.'));
    }
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.sub } },
      { mergeWithLastSubmission: false },
    );
  }
  if (action === 'confirm' && details.prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({
          accountId: details.session?.accountId ?? '',
          clientId: details.params.client_id,
        });
    if (!grant) throw new Error('the grant of this interaction is gone');
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    return provider.interactionFinished(
      req,
      res,
      { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true },
    );
  }
  res.statusCode = 400;
  res.end(`unexpected ${action} during the ${details.prompt.name} prompt`);
}

function page(details: InteractionDetails, error?: string): string {
  const { uid, prompt, params } = details;
  const client = escapeHtml(params.client_id);
  const abort = `<form method="post" action="/interaction/${uid}/abort"><button id="abort" type="submit">Cancel</button></form>`;
  const alert = error ? `<p role="alert" data-error>${escapeHtml(error)}</p>` : '';
  if (prompt.name === 'login') {
    return layout(
      'login',
      `<h1>Sign in</h1><p>to continue to ${client}</p>${alert}
<form method="post" action="/interaction/${uid}/login">
<label>Email <input id="email" name="email" type="email" autocomplete="username" autofocus required></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
<button id="submit" type="submit">Sign in</button></form>${abort}`,
    );
  }
  const scopes = String(params.scope ?? '')
    .split(' ')
    .filter(Boolean)
    .map((s) => `<li>${escapeHtml(s)}</li>`)
    .join('');
  return layout(
    prompt.name,
    `<h1>Authorize ${client}</h1><p>${client} asks for:</p><ul>${scopes}</ul>
<form method="post" action="/interaction/${uid}/confirm"><button id="allow" type="submit">Allow</button></form>
<form method="post" action="/interaction/${uid}/abort"><button id="deny" type="submit">Deny</button></form>`,
  );
}

function layout(prompt: string, body: string): string {
  // The empty icon spares browser tests a /favicon.ico 404 in their console.
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Test authorization server</title></head><body><main data-prompt="${escapeHtml(prompt)}">${body}</main></body></html>`;
}

function sendPage(res: ServerResponse, html: string): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(html);
}

function escapeHtml(value: unknown): string {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A cookie as the scripted browser keeps it: enough of RFC 6265 for one server. */
interface StoredCookie {
  readonly value: string;
  readonly path: string;
}

async function scriptedLogin(
  fetch: Fetch,
  issuer: string,
  start: URL,
  options: LoginOptions,
): Promise<URL> {
  const jar = new Map<string, StoredCookie>();
  const request = async (url: URL, init: { method?: string; body?: string } = {}) => {
    const cookie = [...jar]
      .filter(([, c]) => url.pathname.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.body,
    });
    for (const line of response.headers.getSetCookie()) storeCookie(jar, line);
    return response;
  };

  let url = start;
  let response = await request(url);
  for (let step = 0; step < 20; step++) {
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      url = new URL(location, url);
      if (url.origin !== new URL(issuer).origin) return url;
      response = await request(url);
      continue;
    }
    const html = await response.text();
    const prompt = /data-prompt="([^"]+)"/.exec(html)?.[1];
    if (response.status !== 200 || !prompt) {
      throw new Error(
        `the authorization server answered ${response.status}: ${html.slice(0, 500)}`,
      );
    }
    if (html.includes('data-error')) throw new Error(`login refused for ${options.email}`);
    const uid = /\/interaction\/([\w-]+)\//.exec(html)?.[1];
    if (!uid) throw new Error('no interaction id on the page');
    const base = new URL(`/interaction/${uid}/`, issuer);
    if (prompt === 'login') {
      const body = new URLSearchParams({
        email: options.email,
        password: options.password ?? DEFAULT_ACCOUNT_PASSWORD,
      }).toString();
      response = await request(new URL('login', base), { method: 'POST', body });
    } else {
      const action = options.consent === false ? 'abort' : 'confirm';
      response = await request(new URL(action, base), { method: 'POST', body: '' });
    }
  }
  throw new Error('too many redirects during the scripted login');
}

function storeCookie(jar: Map<string, StoredCookie>, line: string): void {
  const [pair = '', ...attributes] = line.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  let path = '/';
  let expired = value === '';
  for (const attribute of attributes) {
    const [key = '', val = ''] = attribute.trim().split('=');
    if (key.toLowerCase() === 'path' && val) path = val;
    if (key.toLowerCase() === 'max-age' && Number(val) <= 0) expired = true;
    if (key.toLowerCase() === 'expires' && Date.parse(val) <= Date.now()) expired = true;
  }
  if (expired) jar.delete(name);
  else jar.set(name, { value, path });
}

function rsaSigningKey(): Record<string, unknown> {
  if (!signingKey) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', use: 'sig' };
  }
  return signingKey;
}

/**
 * The library warns on import when Node is older than 22 (PEERS.md: v9 works on Node 20);
 * that one notice is dropped so test output stays quiet, every other warning still shows.
 */
function loadProvider(): Promise<typeof import('oidc-provider')> {
  providerModule ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (String(args[0]).includes('Unsupported runtime')) return;
      warn(...args);
    };
    try {
      return await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  })();
  return providerModule;
}

/**
 * An in-memory store per server instance: oidc-provider's own memory adapter is one
 * module-wide store that warns when used, and two peers in one test must not share state.
 * Returns the adapter factory (a plain function, which the library calls per model).
 */
function createMemoryAdapter(): (model: string) => MemoryAdapter {
  const store: Store = new Map();
  return (model) => new MemoryAdapter(model, store);
}

type Payload = Record<string, unknown> & {
  grantId?: string;
  uid?: string;
  userCode?: string;
  consumed?: number;
};

type Store = Map<string, { payload: Payload; expiresAt: number }>;

class MemoryAdapter {
  readonly #model: string;
  readonly #store: Store;

  constructor(model: string, store: Store) {
    this.#model = model;
    this.#store = store;
  }

  #key(id: string) {
    return `${this.#model}:${id}`;
  }

  #get(key: string): Payload | undefined {
    const entry = this.#store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#store.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
    this.#store.set(this.#key(id), { payload, expiresAt });
  }

  async find(id: string): Promise<Payload | undefined> {
    return this.#get(this.#key(id));
  }

  async findByUid(uid: string): Promise<Payload | undefined> {
    return this.#findBy((p) => p.uid === uid);
  }

  async findByUserCode(userCode: string): Promise<Payload | undefined> {
    return this.#findBy((p) => p.userCode === userCode);
  }

  async consume(id: string): Promise<void> {
    const payload = this.#get(this.#key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.#store.delete(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [key, entry] of this.#store) {
      if (entry.payload.grantId === grantId) this.#store.delete(key);
    }
  }

  #findBy(test: (payload: Payload) => boolean): Payload | undefined {
    const prefix = `${this.#model}:`;
    for (const [key, entry] of this.#store) {
      if (key.startsWith(prefix) && test(entry.payload)) return this.#get(key);
    }
    return undefined;
  }
}
