/**
 * The checks of diagnose (issue 13 item 1), in the order they are reported: the ones an
 * administrator can fix alone first, then what the provider and the mail servers say.
 */
export const DiagnosticIds = [
  'base_url_https',
  'redirect_url',
  'endpoint_tls',
  'discovery',
  'client_credentials',
  'scopes',
  'connection_token',
  'clock_skew',
  'client_secret_expiry',
  'google_testing',
  'microsoft_inactivity',
  'mail_server',
] as const;
export type DiagnosticId = (typeof DiagnosticIds)[number];

export const DiagnosticStatuses = ['pass', 'warn', 'fail'] as const;
export type DiagnosticStatus = (typeof DiagnosticStatuses)[number];
