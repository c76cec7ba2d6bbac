import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  MailCredentials,
  MailProtocol,
  MailServerRuntime,
} from '../../src/domain/mail-server.js';
import { hasMessage, translate } from '../../src/i18n/i18n.js';
import { MailError, type MailErrorDetails } from '../../src/mail/mail-error.js';
import { mailRefusalCatalog } from '../../src/providers/mail-refusal-catalog.js';
import { missingScope, remedyForRefusal } from '../../src/providers/mail-refusals.js';
import { mailPresets } from '../../src/providers/mail-registry.js';

/**
 * The remedy for a refusal that survived the forced refresh, from the server's words and
 * challenge (as Gmail and Exchange Online send them, PEERS.md) and what Outlink knows about the
 * mailbox and its connection. Dovecot cannot send a Gmail-style challenge with the needed scope
 * (its XOAUTH2 challenge always says "mail"), so the mapping is checked here as a table.
 */

const GMAIL_SCOPE = 'https://mail.google.com/';
const EXO = 'https://outlook.office.com/';

function server(
  protocol: MailProtocol,
  host: string,
  credentials: Partial<Extract<MailCredentials, { method: 'oauth2' }>> | { method: 'password' },
  username = 'support@example.com',
): MailServerRuntime {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    name: 'Support',
    protocol,
    host,
    port: 993,
    security: 'tls',
    username,
    saslMechanism: null,
    folder: null,
    credentials:
      credentials.method === 'password'
        ? { method: 'password', password: 'secret' }
        : {
            method: 'oauth2',
            connectionId: '00000000-0000-4000-8000-000000000002',
            account: 'support@example.com',
            provider: 'google',
            grantedScopes: [],
            neededScopes: [],
            ...credentials,
          },
  };
}

const refusal = (protocol: MailProtocol, details: MailErrorDetails) =>
  new MailError('auth_failed', 'authentication', protocol, 'refused', details);

describe('remedies for a refusal after the forced refresh', () => {
  const cases: {
    label: string;
    error: MailError;
    server: MailServerRuntime;
    id: string;
    text: string;
  }[] = [
    {
      label: 'Gmail names its scope in the challenge; the connection was not granted it',
      error: refusal('imap', {
        serverText: 'SASL authentication failed',
        challenge: { status: '401', schemes: 'bearer', scope: GMAIL_SCOPE },
      }),
      server: server('imap', 'imap.gmail.com', {
        grantedScopes: ['openid', 'email'],
        neededScopes: [GMAIL_SCOPE],
      }),
      id: 'missing_scope',
      text: `The token lacks the scope ${GMAIL_SCOPE}: add ${GMAIL_SCOPE} to the link's scopes and authorize support@example.com again.`,
    },
    {
      label: 'Gmail refuses a token with the right scope: IMAP or POP turned off',
      error: refusal('pop3', {
        challenge: { status: '401', schemes: 'bearer', scope: GMAIL_SCOPE },
      }),
      server: server('pop3', 'POP.GMAIL.COM', {
        grantedScopes: ['openid', GMAIL_SCOPE],
        neededScopes: [GMAIL_SCOPE],
      }),
      id: 'gmail_protocol_disabled',
      text: 'Gmail refused a fresh token of support@example.com with the right scope: check that POP3 is turned on for the mailbox (Gmail settings for POP; the Google Workspace admin console for IMAP and POP) and that the app is allowed in the organization.',
    },
    {
      label: 'Exchange Online: SMTP AUTH disabled (5.7.139)',
      error: refusal('smtp', {
        responseCode: '535 5.7.139',
        serverText:
          'Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.',
      }),
      server: server('smtp', 'smtp.office365.com', {
        provider: 'microsoft',
        grantedScopes: [`${EXO}SMTP.Send`],
        neededScopes: [`${EXO}SMTP.Send`],
      }),
      id: 'exchange_smtp_auth_disabled',
      text: "Exchange Online has SMTP AUTH turned off for support@example.com or the tenant (5.7.139): turn it on (Set-CASMailbox -SmtpClientAuthenticationDisabled $false, or the tenant's Set-TransportConfig).",
    },
    {
      label: 'Exchange Online sends no challenge: the scope its preset needs is missing',
      error: refusal('imap', { serverText: 'AUTHENTICATE failed.' }),
      server: server('imap', 'outlook.office365.com', {
        provider: 'microsoft',
        grantedScopes: ['openid', `${EXO}SMTP.Send`],
        neededScopes: [`${EXO}IMAP.AccessAsUser.All`],
      }),
      id: 'missing_scope',
      text: `The token lacks the scope ${EXO}IMAP.AccessAsUser.All: add ${EXO}IMAP.AccessAsUser.All to the link's scopes and authorize support@example.com again.`,
    },
    {
      label: 'Exchange Online refuses a token with the right scope: IMAP off for the mailbox',
      error: refusal('imap', { serverText: 'AUTHENTICATE failed.' }),
      server: server('imap', 'outlook.office365.com', {
        provider: 'microsoft',
        grantedScopes: [`${EXO}IMAP.AccessAsUser.All`],
        neededScopes: [`${EXO}IMAP.AccessAsUser.All`],
      }),
      id: 'exchange_protocol_disabled',
      text: 'Exchange Online refused a fresh token of support@example.com with the right scope: turn IMAP on for the mailbox (Set-CASMailbox -ImapEnabled, -PopEnabled, or -SmtpClientAuthenticationDisabled $false) and check that the app has the IMAP permission with admin consent in the tenant.',
    },
    {
      label: "a delegate's token for a shared mailbox comes first, whatever else is missing",
      error: refusal('imap', { serverText: 'AUTHENTICATE failed.' }),
      server: server(
        'imap',
        'outlook.office365.com',
        {
          provider: 'microsoft',
          account: 'agent@example.com',
          grantedScopes: [],
          neededScopes: [`${EXO}IMAP.AccessAsUser.All`],
        },
        'shared@example.com',
      ),
      id: 'wrong_account',
      text: 'The token is of agent@example.com, but the mailbox is shared@example.com, and the server refused it even after a refresh: either agent@example.com has no full access to shared@example.com (grant it, for a shared mailbox), or the wrong account signed in: authorize shared@example.com itself and choose that connection.',
    },
    {
      label: 'a password refused',
      error: refusal('pop3', { serverText: 'Authentication failed.' }),
      server: server('pop3', 'mail.example.com', { method: 'password' }),
      id: 'password_rejected',
      text: 'The server refused the password of support@example.com over POP3: check the password, and whether the provider still accepts passwords at all (Gmail and Exchange Online require OAuth 2.0).',
    },
    {
      label: 'a custom provider without a preset and no scope in the challenge',
      error: refusal('imap', { challenge: { status: 'invalid_token' } }),
      server: server('imap', 'mail.example.com', { provider: 'custom', grantedScopes: ['mail'] }),
      id: 'token_refused',
      text: "The server refused a freshly refreshed token of support@example.com for support@example.com over IMAP: check that the account may use IMAP, that the link's scopes include what the server needs, and that the server trusts this identity provider.",
    },
  ];
  for (const c of cases) {
    it(c.label, () => {
      const remedy = remedyForRefusal(c.error, c.server);
      assert.equal(remedy.id, c.id);
      assert.equal(translate('en', `mail.remedies.${remedy.id}`, remedy.params), c.text);
      const ja = translate('ja', `mail.remedies.${remedy.id}`, remedy.params);
      assert.notEqual(ja, c.text);
      assert.doesNotMatch(ja, /\{\w+\}/);
    });
  }

  it('missingScope: the challenge first, a space-separated list read whole, then the preset', () => {
    assert.equal(missingScope({ challenge: { status: '401', scope: 'a b' } }, ['a'], []), 'b');
    assert.equal(missingScope({ challenge: { status: '401', scope: 'a' } }, ['a'], ['c']), 'c');
    assert.equal(missingScope({ challenge: undefined }, ['c'], ['c']), undefined);
  });

  it('every remedy and step text exists in both languages', () => {
    for (const key of [
      ...[
        'password_rejected',
        'wrong_account',
        'missing_scope',
        'gmail_protocol_disabled',
        'exchange_protocol_disabled',
        'exchange_smtp_auth_disabled',
        'token_refused',
      ].map((id) => `mail.remedies.${id}`),
      ...Object.values(mailPresets).flatMap((p) => [`mail.remedies.${p.protocolDisabledRemedy}`]),
      ...mailRefusalCatalog.map((e) => `mail.remedies.${e.remedy}`),
    ]) {
      assert.ok(hasMessage('en', key), key);
      assert.ok(hasMessage('ja', key), key);
    }
  });
});
