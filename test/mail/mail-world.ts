import * as oauth from 'oauth4webapi';
import { type TestTls, testTls } from '../peers/ca.js';
import {
  type DovecotMechanism,
  type DovecotOptions,
  type DovecotPeer,
  startDovecot,
} from '../peers/dovecot.js';
import { type AuthorizationServer, startAuthorizationServer } from '../peers/oidc-provider.js';

export const ALICE = 'alice@example.test';
export const BOB = 'bob@example.test';
/** A mailbox that also has a password at Dovecot (USER/PASS). */
export const CAROL = 'carol@example.test';
export const CAROL_PASSWORD = 'carols mail password';

/** The OAuth client the tests get tokens with (stands for Outlink's link). */
const CLIENT = { id: 'outlink-mail-tests', secret: 'outlink-mail-tests-secret' };
/** Dovecot's own client at the AS, for RFC 7662 introspection (`introspection_mode = post`). */
const INTROSPECTOR = { id: 'dovecot', secret: 'dovecot-introspection-secret' };
const REDIRECT_URI = 'https://localhost:8443/oauth2/callback/mail-tests';

/**
 * The real peers of the mail tests: oidc-provider issuing tokens and Dovecot validating them by
 * introspection against it, over a TLS certificate from the test CA.
 */
export interface MailWorld {
  readonly as: AuthorizationServer;
  readonly dovecot: DovecotPeer;
  readonly tls: TestTls;
  /** An access token the AS issued to `email` through the authorization code flow (PKCE). */
  accessToken(email: string): Promise<string>;
  /** RFC 7009 revocation of an access token at the AS. */
  revoke(accessToken: string): Promise<void>;
  /** Another Dovecot against the same AS (stopped by `close()`), e.g. without TLS. */
  startDovecot(options: Omit<DovecotOptions, 'introspection'>): Promise<DovecotPeer>;
  /** Stops the AS only (Dovecot's introspection then fails: a temporary failure). */
  stopAuthorizationServer(): Promise<void>;
  close(): Promise<void>;
}

export async function startMailWorld(
  options: {
    mechanisms?: readonly DovecotMechanism[];
    tls?: boolean;
    /** Give CAROL a password at Dovecot (adds PLAIN to the mechanisms). */
    passwords?: boolean;
  } = {},
): Promise<MailWorld> {
  const tls = await testTls();
  const as = await startAuthorizationServer({
    clients: [
      { clientId: CLIENT.id, clientSecret: CLIENT.secret, redirectUris: [REDIRECT_URI] },
      {
        clientId: INTROSPECTOR.id,
        clientSecret: INTROSPECTOR.secret,
        redirectUris: ['https://localhost/unused'],
      },
    ],
    accounts: [{ email: ALICE }, { email: BOB }, { email: CAROL }],
  });
  const introspection = {
    url: as.endpoints.introspection,
    clientId: INTROSPECTOR.id,
    clientSecret: INTROSPECTOR.secret,
    caPem: as.caPem,
    openidConfigurationUrl: as.endpoints.discovery,
  };
  const extra: DovecotPeer[] = [];
  let dovecot: DovecotPeer;
  try {
    dovecot = await startDovecot({
      introspection,
      ...(options.tls === false ? {} : { tls }),
      ...(options.passwords ? { passwordUsers: [{ user: CAROL, password: CAROL_PASSWORD }] } : {}),
      ...(options.mechanisms ? { mechanisms: options.mechanisms } : {}),
    });
  } catch (error) {
    await as.close();
    throw error;
  }

  const issuer = new URL(as.issuer);
  const fetchOptions = { [oauth.customFetch]: as.fetch };
  const server = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, fetchOptions),
  );
  const client: oauth.Client = { client_id: CLIENT.id };
  const clientAuth = oauth.ClientSecretPost(CLIENT.secret);
  let asRunning = true;

  return {
    as,
    dovecot,
    tls,
    async accessToken(email) {
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const url = new URL(as.endpoints.authorization);
      url.search = new URLSearchParams({
        client_id: CLIENT.id,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'openid email',
        state,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      const callback = await as.login(url, { email });
      const params = oauth.validateAuthResponse(server, client, callback, state);
      const response = await oauth.authorizationCodeGrantRequest(
        server,
        client,
        clientAuth,
        params,
        REDIRECT_URI,
        verifier,
        fetchOptions,
      );
      const tokens = await oauth.processAuthorizationCodeResponse(server, client, response);
      return tokens.access_token;
    },
    async revoke(accessToken) {
      const response = await oauth.revocationRequest(
        server,
        client,
        clientAuth,
        accessToken,
        fetchOptions,
      );
      await oauth.processRevocationResponse(response);
    },
    async startDovecot(more) {
      const peer = await startDovecot({ ...more, introspection });
      extra.push(peer);
      return peer;
    },
    async stopAuthorizationServer() {
      if (!asRunning) return;
      asRunning = false;
      await as.close();
    },
    async close() {
      await Promise.all([dovecot, ...extra].map((peer) => peer.stop()));
      if (asRunning) {
        asRunning = false;
        await as.close();
      }
    },
  };
}
