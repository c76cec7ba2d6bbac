import { type MailServerPreset, presetServer } from './mail-preset.js';
import type { ProviderErrors, ProviderPreset, ScopeAdjustment } from './types.js';

/** The one Gmail scope that covers IMAP, POP3 and SMTP; the trailing slash is required. */
export const GOOGLE_MAIL_SCOPE = 'https://mail.google.com/';

/**
 * Google's token endpoint errors (DESIGN §7): the OAuth `error` codes it adds to RFC 6749's,
 * and the wording that tells a revoked or expired grant from other `invalid_grant`s.
 * @see https://developers.google.com/identity/protocols/oauth2/web-server#exchange-errors
 */
export const GOOGLE_ERRORS: ProviderErrors = Object.freeze({
  rules: Object.freeze([
    {
      id: 'google_token_revoked',
      error: 'invalid_grant',
      description: /token has been expired or revoked/i,
      scope: 'connection',
      example: { error: 'invalid_grant', description: 'Token has been expired or revoked.' },
    },
    {
      id: 'admin_policy_enforced',
      error: 'admin_policy_enforced',
      scope: 'connection',
      example: {
        error: 'admin_policy_enforced',
        description:
          'The Google Account is unable to authorize one or more scopes requested due to the policies of their Google Workspace administrator.',
      },
    },
    // Workspace session control wants the user to sign in again (a reauth proof token).
    {
      id: 'invalid_rapt',
      error: 'invalid_rapt',
      scope: 'connection',
      example: { error: 'invalid_rapt', description: 'reauth related error (invalid_rapt)' },
    },
    {
      id: 'invalid_rapt',
      error: 'invalid_grant',
      description: /invalid_rapt|reauth/i,
      scope: 'connection',
      example: { error: 'invalid_grant', description: 'reauth related error (invalid_rapt)' },
    },
    {
      id: 'redirect_uri_mismatch',
      error: 'redirect_uri_mismatch',
      scope: 'link',
      example: {
        error: 'redirect_uri_mismatch',
        description:
          'The redirect URI in the request, https://outlink.example.test/oauth2/callback/abc, does not match the ones authorized for the OAuth client.',
      },
    },
    // An "Internal" consent screen: only accounts of the project's own Workspace may sign in.
    {
      id: 'org_internal',
      error: 'org_internal',
      scope: 'connection',
      example: {
        error: 'org_internal',
        description: 'This client is restricted to users within its organization.',
      },
    },
    {
      id: 'google_client_deleted',
      error: 'deleted_client',
      scope: 'link',
      example: { error: 'deleted_client', description: 'The OAuth client was deleted.' },
    },
    {
      id: 'google_client_not_found',
      error: 'invalid_client',
      description: /client was not found/i,
      scope: 'link',
      example: { error: 'invalid_client', description: 'The OAuth client was not found.' },
    },
  ] as const),
});

/** @see https://developers.google.com/identity/protocols/oauth2/web-server */
export const google: ProviderPreset = Object.freeze({
  id: 'google',
  name: 'Google',
  endpoints: () => ({
    authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenEndpoint: 'https://oauth2.googleapis.com/token',
  }),
  issuer: () => 'https://accounts.google.com',
  revocationEndpoint: 'https://oauth2.googleapis.com/revoke',
  scopes: () => ({
    imap: [GOOGLE_MAIL_SCOPE],
    pop3: [GOOGLE_MAIL_SCOPE],
    smtp: [GOOGLE_MAIL_SCOPE],
  }),
  adjustScope: adjustGoogleScope,
  // Google refuses redirect hosts that are IP literals; `localhost` is its one exception.
  refusesIpLiteralRedirectHost: true,
  // Without both, Google issues no refresh token on a repeated consent.
  authorizationParams: Object.freeze({ access_type: 'offline', prompt: 'consent' }),
  identityScopes: Object.freeze(['openid', 'email']),
  errors: GOOGLE_ERRORS,
  refreshTokenRequired: true,
  options: Object.freeze([]),
});

/**
 * Google only accepts the Gmail scope with its trailing slash; admins often type it
 * without (and Google's own docs show both). Returns the normalised scope or undefined.
 */
export function normalizeGoogleScope(scope: string): string | undefined {
  return scope === 'https://mail.google.com' || scope === 'http://mail.google.com/'
    ? GOOGLE_MAIL_SCOPE
    : undefined;
}

/** {@link normalizeGoogleScope} as the preset's rule, with the warning it owes the admin. */
function adjustGoogleScope(scope: string): ScopeAdjustment | undefined {
  const normalized = normalizeGoogleScope(scope);
  if (!normalized) return undefined;
  return {
    scope: normalized,
    warning: { code: 'scope_normalized', params: { from: scope, to: GOOGLE_MAIL_SCOPE } },
  };
}

// Mail

/**
 * Gmail: one scope (`https://mail.google.com/`) for every protocol. On a refused token Gmail
 * sends the RFC 7628 error challenge `{"status":"401","schemes":"bearer","scope":
 * "https://mail.google.com/"}` (also for XOAUTH2), then IMAP `NO SASL authentication failed`
 * or SMTP `535-5.7.8 Username and Password not accepted` (PEERS.md). Workspace administrators
 * can turn IMAP and POP off for their users; POP is off until turned on in Gmail's settings.
 *
 * @see https://developers.google.com/gmail/imap/imap-smtp Gmail IMAP, POP and SMTP
 */
export const gmailPreset: MailServerPreset = Object.freeze({
  id: 'gmail',
  provider: 'google',
  name: 'Gmail',
  servers: Object.freeze({
    imap: Object.freeze([presetServer('imap.gmail.com', 993, 'tls')]),
    pop3: Object.freeze([presetServer('pop.gmail.com', 995, 'tls')]),
    smtp: Object.freeze([
      presetServer('smtp.gmail.com', 465, 'tls'),
      presetServer('smtp.gmail.com', 587, 'starttls'),
    ]),
  }),
  protocolDisabledRemedy: 'gmail_protocol_disabled',
});

/**
 * Google's OpenID Connect UserInfo endpoint: an access token with `openid` is accepted there
 * until its grant is revoked, so diagnose asks it, changing nothing.
 * @see https://accounts.google.com/.well-known/openid-configuration
 */
export const GOOGLE_USERINFO_ENDPOINT = 'https://openidconnect.googleapis.com/v1/userinfo';
