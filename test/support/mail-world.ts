import { type TestTls, testTls } from '../peers/ca.js';
import {
  type DovecotIntrospection,
  type DovecotMechanism,
  type DovecotOptions,
  type DovecotPeer,
  startDovecot,
} from '../peers/dovecot.js';
import type { AuthorizationServer } from '../peers/oidc-provider.js';
import {
  CAROL,
  CAROL_PASSWORD,
  INTROSPECTOR,
  issueAccessToken,
  revokeToken,
  startTestProvider,
  type TestProvider,
} from './worlds.js';

/** Layer 6 of the test worlds (see worlds.ts): Dovecot, checking the test provider's tokens. */

/** Dovecot's settings for checking the provider's tokens: RFC 7662 as INTROSPECTOR. */
export function dovecotIntrospection(provider: Pick<TestProvider, 'as'>): DovecotIntrospection {
  const { as } = provider;
  return {
    url: as.endpoints.introspection,
    clientId: INTROSPECTOR.clientId,
    clientSecret: INTROSPECTOR.clientSecret,
    caPem: as.caPem,
    openidConfigurationUrl: as.endpoints.discovery,
  };
}

/** Dovecot's options; `introspection` overrides settings of its token check. */
export type TestDovecotOptions = Omit<DovecotOptions, 'introspection'> & {
  readonly introspection?: Partial<DovecotIntrospection>;
};

/** A Dovecot that checks the tokens of `provider` by introspection. */
export function startTestDovecot(
  provider: Pick<TestProvider, 'as'>,
  options: TestDovecotOptions = {},
): Promise<DovecotPeer> {
  return startDovecot({
    ...options,
    introspection: { ...dovecotIntrospection(provider), ...options.introspection },
  });
}

/**
 * The real peers of the mail protocol tests, without Outlink: the test provider issuing
 * tokens and Dovecot validating them by introspection against it, over a TLS certificate
 * from the test CA.
 */
export interface MailWorld {
  readonly as: AuthorizationServer;
  readonly dovecot: DovecotPeer;
  readonly tls: TestTls;
  /** An access token the provider issued to `email` through the code flow (PKCE). */
  accessToken(email: string): Promise<string>;
  /** RFC 7009 revocation of an access token at the provider. */
  revoke(accessToken: string): Promise<void>;
  /** Another Dovecot against the same provider (stopped by `close()`), e.g. without TLS. */
  startDovecot(options: TestDovecotOptions): Promise<DovecotPeer>;
  /** Stops the provider only (Dovecot's introspection then fails: a temporary failure). */
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
  const provider = await startTestProvider();
  const peers: DovecotPeer[] = [];
  let providerRunning = true;
  const stopProvider = async () => {
    if (!providerRunning) return;
    providerRunning = false;
    await provider.close();
  };
  try {
    peers.push(
      await startTestDovecot(provider, {
        ...(options.tls === false ? {} : { tls }),
        ...(options.passwords
          ? { passwordUsers: [{ user: CAROL, password: CAROL_PASSWORD }] }
          : {}),
        ...(options.mechanisms ? { mechanisms: options.mechanisms } : {}),
      }),
    );
  } catch (error) {
    await stopProvider();
    throw error;
  }
  return {
    as: provider.as,
    dovecot: peers[0]!,
    tls,
    accessToken: (email) => issueAccessToken(provider, email),
    revoke: (accessToken) => revokeToken(provider, accessToken),
    async startDovecot(more) {
      const peer = await startTestDovecot(provider, more);
      peers.push(peer);
      return peer;
    },
    stopAuthorizationServer: stopProvider,
    async close() {
      await Promise.all(peers.map((peer) => peer.stop()));
      await stopProvider();
    },
  };
}
