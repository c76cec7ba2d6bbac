import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/domain/clock.js';
import { clientCredentialsCheck } from '../../src/services/diagnose/provider-checks.js';
import {
  connectionChecks,
  googleTestingChecks,
  microsoftInactivityChecks,
  scopeChecks,
  secretExpiryCheck,
} from '../../src/services/diagnose/stored-checks.js';
import type { ConnectionRecord } from '../../src/store/repositories/connections.js';
import { startTestProvider, TEST_CLIENT, type TestProvider } from '../support/worlds.js';

/**
 * Diagnose's checks one by one (issue 13 item 1): the time patterns of providers that no test
 * peer can play (Google's 7-day "Testing" apps, Microsoft's 90 idle days) from stored rows, and
 * the client credentials check against oidc-provider with a Microsoft-shaped secret ID.
 */
const DAY = 86_400_000;
const NOW = new Date('2026-06-01T00:00:00Z');

function connection(overrides: Partial<ConnectionRecord>): ConnectionRecord {
  return {
    id: 'c1',
    linkId: 'l1',
    account: 'alice@example.test',
    status: 'valid',
    accessTokenEnc: 'x',
    refreshTokenEnc: 'y',
    tokenType: 'bearer',
    expiresAt: new Date(NOW.getTime() + 3_600_000).toISOString(),
    scopes: ['openid', 'email'],
    lastRefreshedAt: NOW.toISOString(),
    lastError: null,
    createdAt: new Date(NOW.getTime() - 30 * DAY).toISOString(),
    updatedAt: NOW.toISOString(),
    issuer: null,
    refreshFailures: 0,
    retryAt: null,
    tokenVersion: 1,
    identity: null,
    redirectUri: null,
    authorizedAt: null,
    ...overrides,
  };
}

const brief = (checks: { id: string; status: string; text: string }[]) =>
  checks.map((c) => `${c.id}:${c.status}:${c.text}`);

describe('diagnose: checks from stored rows', () => {
  it('finds the Google "Testing" pattern: invalid_grant about 7 days after authorization', () => {
    const authorizedAt = new Date(NOW.getTime() - 10 * DAY).toISOString();
    const died = (days: number) =>
      connection({
        status: 'reauthorization_required',
        authorizedAt,
        lastError: {
          id: 'invalid_grant',
          scope: 'connection',
          error: 'invalid_grant',
          description: 'Token has been expired or revoked.',
          at: new Date(Date.parse(authorizedAt) + days * DAY).toISOString(),
        },
      });
    assert.deepEqual(brief(googleTestingChecks([died(7.01)])), [
      'google_testing:fail:testing_pattern',
    ]);
    assert.deepEqual(brief(googleTestingChecks([died(3)])), ['google_testing:pass:no_pattern']);
    assert.deepEqual(brief(googleTestingChecks([connection({})])), [
      'google_testing:pass:no_pattern',
    ]);
  });

  it('warns at 60 idle days of a Microsoft connection, fails at 90', () => {
    const idle = (days: number) =>
      connection({ lastRefreshedAt: new Date(NOW.getTime() - days * DAY).toISOString() });
    assert.deepEqual(brief(microsoftInactivityChecks([idle(1)], NOW)), [
      'microsoft_inactivity:pass:active',
    ]);
    assert.deepEqual(brief(microsoftInactivityChecks([idle(61)], NOW)), [
      'microsoft_inactivity:warn:at_risk',
    ]);
    assert.deepEqual(brief(microsoftInactivityChecks([idle(91)], NOW)), [
      'microsoft_inactivity:fail:expired_likely',
    ]);
  });

  it("reports each connection's token state with the provider's words", () => {
    const checks = connectionChecks(
      [
        connection({}),
        connection({
          status: 'reauthorization_required',
          lastError: { id: 'invalid_grant', scope: 'connection', error: 'invalid_grant', at: '' },
        }),
        connection({ refreshTokenEnc: null, expiresAt: new Date(NOW.getTime() - 1).toISOString() }),
      ],
      NOW,
    );
    assert.deepEqual(brief(checks), [
      'connection_token:pass:valid',
      'connection_token:fail:reauthorization_required',
      'connection_token:fail:expired_no_refresh',
    ]);
    assert.equal(checks[1]!.params.providerError, 'invalid_grant');
    assert.deepEqual(brief(connectionChecks([], NOW)), ['connection_token:warn:none']);
  });

  it('fails a connection lacking a scope its mail servers need (Gmail IMAP)', () => {
    const link = { provider: 'google' as const, cloud: null, scopes: ['openid', 'email'] };
    const uses = [{ id: 'm1', name: 'Inbox', protocol: 'imap' as const, connectionId: 'c1' }];
    const checks = scopeChecks(link, [connection({ scopes: ['openid', 'email'] })], uses);
    assert.deepEqual(brief(checks), ['scopes:fail:mail_missing']);
    assert.equal(checks[0]!.params.scopes, 'https://mail.google.com/ (Inbox)');
    const granted = connection({ scopes: ['openid', 'email', 'https://mail.google.com/'] });
    assert.deepEqual(brief(scopeChecks(link, [granted], uses)), ['scopes:pass:granted']);
  });

  it('reads the recorded client secret expiry', () => {
    const at = (days: number) => ({
      clientSecretExpiresAt: new Date(NOW.getTime() + days * DAY).toISOString(),
    });
    assert.deepEqual(brief([secretExpiryCheck({ clientSecretExpiresAt: null }, NOW)]), [
      'client_secret_expiry:pass:not_recorded',
    ]);
    assert.deepEqual(brief([secretExpiryCheck(at(3), NOW)]), ['client_secret_expiry:warn:soon']);
    assert.deepEqual(brief([secretExpiryCheck(at(-1), NOW)]), [
      'client_secret_expiry:fail:expired',
    ]);
    assert.deepEqual(brief([secretExpiryCheck(at(90), NOW)]), ['client_secret_expiry:pass:ok']);
  });
});

describe('diagnose: client credentials against oidc-provider', () => {
  let provider: TestProvider;
  before(async () => {
    provider = await startTestProvider();
  });
  after(() => provider?.close());

  const probe = () => ({ fetch: provider.as.fetch, clock: systemClock, timeoutMs: 10_000 });
  const link = (provider_: 'custom' | 'microsoft', clientSecret: string) => ({
    id: 'l1',
    clientId: TEST_CLIENT.clientId,
    clientSecret,
    clientAuthMethod: 'client_secret_post',
    authorizationEndpoint: provider.as.endpoints.authorization,
    tokenEndpoint: provider.as.endpoints.token,
    issuer: provider.as.issuer,
    provider: provider_,
  });

  it('passes good credentials (invalid_grant) and fails wrong ones (invalid_client)', async () => {
    const good = await clientCredentialsCheck(probe(), link('custom', TEST_CLIENT.clientSecret));
    assert.deepEqual([good.status, good.text], ['pass', 'accepted']);
    const bad = await clientCredentialsCheck(probe(), link('custom', 'wrong'));
    assert.deepEqual([bad.status, bad.text], ['fail', 'rejected']);
    assert.match(String(bad.params.providerError), /^invalid_client/);
  });

  it("says a Microsoft secret shaped like a GUID is the secret's ID, not its value", async () => {
    const id = await clientCredentialsCheck(
      probe(),
      link('microsoft', '8f6a3c2e-1b4d-4e5f-9a7b-0c1d2e3f4a5b'),
    );
    assert.deepEqual([id.status, id.text], ['fail', 'secret_id']);
    const value = await clientCredentialsCheck(probe(), link('microsoft', 'Abc8Q~not-a-guid'));
    assert.deepEqual([value.status, value.text], ['fail', 'rejected']);
  });
});
