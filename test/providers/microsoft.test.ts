import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyProviderError } from '../../src/oauth/provider-errors.js';
import { expectedIdTokenIssuer } from '../../src/oauth/token-client.js';
import { applyProviderRules } from '../../src/providers/link-rules.js';
import { presetsForProvider } from '../../src/providers/mail-registry.js';
import {
  adjustMicrosoftScope,
  isNationalCloud,
  MICROSOFT_CLOUDS,
  MICROSOFT_ERRORS,
  microsoft,
  microsoftIdTokenIssuer,
} from '../../src/providers/microsoft.js';
import type { MicrosoftCloud } from '../../src/providers/types.js';

const TID = '9188040d-6c67-4c5b-b112-36a304b66dad';

describe('Microsoft ID token issuer', () => {
  it('is the v2.0 issuer of the tenant the token names', () => {
    assert.equal(
      microsoftIdTokenIssuer({ tid: TID, iss: 'https://attacker.example.test' }),
      `https://login.microsoftonline.com/${TID}/v2.0`,
    );
    assert.equal(
      microsoftIdTokenIssuer({ tid: TID.toUpperCase() }),
      `https://login.microsoftonline.com/${TID}/v2.0`,
    );
  });

  it('is undefined for a token without a tenant id, or with something else in tid', () => {
    assert.equal(microsoftIdTokenIssuer({}), undefined);
    assert.equal(microsoftIdTokenIssuer({ tid: 'common' }), undefined);
    assert.equal(microsoftIdTokenIssuer({ tid: `${TID}/../x` }), undefined);
    assert.equal(microsoftIdTokenIssuer({ tid: 42 }), undefined);
  });
});

describe('expectedIdTokenIssuer', () => {
  it('takes the token’s own iss when the provider has no rule', () => {
    assert.equal(
      expectedIdTokenIssuer({ iss: 'https://as.example.test' }),
      'https://as.example.test',
    );
    assert.equal(expectedIdTokenIssuer({ iss: 7 }), undefined);
    assert.equal(expectedIdTokenIssuer(undefined), undefined);
  });

  it('follows the provider’s rule, and names no real issuer when the rule finds none', () => {
    const claims = { iss: `https://login.microsoftonline.com/${TID}/v2.0`, tid: TID };
    assert.equal(expectedIdTokenIssuer(claims, microsoftIdTokenIssuer), claims.iss);
    const forged = { iss: 'https://attacker.example.test', tid: TID };
    assert.notEqual(expectedIdTokenIssuer(forged, microsoftIdTokenIssuer), forged.iss);
    const expected = expectedIdTokenIssuer(
      { iss: 'https://x.example.test' },
      microsoftIdTokenIssuer,
    );
    assert.ok(expected?.startsWith('urn:outlink:'));
  });
});

describe('Microsoft error codes (AADSTS)', () => {
  it('reads the first AADSTS code of the description', () => {
    const codeOf = MICROSOFT_ERRORS.codeOf;
    assert.ok(codeOf);
    assert.equal(
      codeOf('AADSTS700082: The refresh token has expired due to inactivity.'),
      '700082',
    );
    assert.equal(codeOf('AADSTS50011: The redirect URI … (see AADSTS90002)'), '50011');
    assert.equal(codeOf('Token has been expired or revoked.'), undefined);
  });

  it('lets a known code beat any wording, Google’s included', () => {
    assert.deepEqual(
      classifyProviderError(
        'invalid_grant',
        'AADSTS700082: Token has been expired or revoked.',
        400,
      ),
      { id: 'aadsts_700082', scope: 'connection' },
    );
    // An unknown code leaves the wording to decide.
    assert.deepEqual(
      classifyProviderError('invalid_grant', 'AADSTS1: Token has been expired or revoked.', 400),
      { id: 'google_token_revoked', scope: 'connection' },
    );
  });
});

describe('Microsoft clouds (issue 13 item 6)', () => {
  const endpointsOf = (cloud: MicrosoftCloud, tenant = 'common') =>
    microsoft.endpoints?.({ tenant, cloud });
  const cases: [MicrosoftCloud, string, string, string][] = [
    ['global', 'login.microsoftonline.com', 'https://outlook.office.com/', 'exchange_online'],
    ['gcc', 'login.microsoftonline.com', 'https://outlook.office365.com/', 'exchange_online'],
    ['gcc_high', 'login.microsoftonline.us', 'https://outlook.office365.us/', 'exchange_online_us'],
    ['dod', 'login.microsoftonline.us', 'https://outlook.office365.us/', 'exchange_online_us'],
    ['china', 'login.chinacloudapi.cn', 'https://partner.outlook.cn/', 'exchange_online_china'],
  ];

  for (const [cloud, login, resource, mailPreset] of cases) {
    it(`${cloud}: endpoints on ${login}, scopes on ${resource}, the ${mailPreset} servers`, () => {
      assert.deepEqual(endpointsOf(cloud, 'contoso.example'), {
        authorizationEndpoint: `https://${login}/contoso.example/oauth2/v2.0/authorize`,
        tokenEndpoint: `https://${login}/contoso.example/oauth2/v2.0/token`,
      });
      assert.deepEqual(microsoft.scopes?.({ cloud }), {
        imap: [`${resource}IMAP.AccessAsUser.All`],
        pop3: [`${resource}POP.AccessAsUser.All`],
        smtp: [`${resource}SMTP.Send`],
      });
      assert.deepEqual(
        presetsForProvider('microsoft', cloud).map((p) => p.id),
        [mailPreset],
      );
      const { settings, warnings } = applyProviderRules({ provider: 'microsoft', cloud });
      assert.equal(settings.cloud, cloud);
      assert.equal(settings.authorizationEndpoint, `https://${login}/common/oauth2/v2.0/authorize`);
      assert.ok(settings.scopes.every((s) => s === 'offline_access' || s.startsWith(resource)));
      // National clouds: the app and the redirect URL are registered in that cloud's portal.
      const national = warnings.find((w) => w.code === 'national_cloud_registration');
      assert.equal(
        national?.params.portal,
        isNationalCloud(cloud) ? MICROSOFT_CLOUDS[cloud].portal : undefined,
      );
    });
  }

  it('moves a scope typed for another cloud onto the link’s cloud', () => {
    assert.equal(
      adjustMicrosoftScope('https://outlook.office.com/SMTP.Send', 'china'),
      'https://partner.outlook.cn/SMTP.Send',
    );
    assert.equal(
      adjustMicrosoftScope('https://partner.outlook.cn/IMAP.AccessAsUser.All', 'gcc_high'),
      'https://outlook.office365.us/IMAP.AccessAsUser.All',
    );
    assert.equal(
      adjustMicrosoftScope('https://outlook.office365.us/POP.AccessAsUser.All', 'global'),
      'https://outlook.office.com/POP.AccessAsUser.All',
    );
  });

  it('expects ID tokens from the issuer host of the link’s cloud', () => {
    assert.equal(
      microsoftIdTokenIssuer({ tid: TID }, { cloud: 'gcc_high' }),
      `https://login.microsoftonline.us/${TID}/v2.0`,
    );
    assert.equal(
      microsoftIdTokenIssuer({ tid: TID }, { cloud: 'china' }),
      `https://login.partner.microsoftonline.cn/${TID}/v2.0`,
    );
    assert.equal(
      microsoftIdTokenIssuer({ tid: TID }, { cloud: 'gcc' }),
      `https://login.microsoftonline.com/${TID}/v2.0`,
    );
  });
});
