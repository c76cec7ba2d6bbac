import { type MailServerPreset, presetServer } from './mail-preset.js';
import type { ProviderPreset } from './types.js';

/** The one Gmail scope that covers IMAP, POP3 and SMTP; the trailing slash is required. */
export const GOOGLE_MAIL_SCOPE = 'https://mail.google.com/';

/** @see https://developers.google.com/identity/protocols/oauth2/web-server */
export const google: ProviderPreset = Object.freeze({
  id: 'google',
  name: 'Google',
  endpoints: () => ({
    authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenEndpoint: 'https://oauth2.googleapis.com/token',
  }),
  issuer: () => 'https://accounts.google.com',
  scopes: () => ({
    imap: [GOOGLE_MAIL_SCOPE],
    pop3: [GOOGLE_MAIL_SCOPE],
    smtp: [GOOGLE_MAIL_SCOPE],
  }),
  // Without both, Google issues no refresh token on a repeated consent.
  authorizationParams: Object.freeze({ access_type: 'offline', prompt: 'consent' }),
  identityScopes: Object.freeze(['openid', 'email']),
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
  refusals: Object.freeze([]),
});
