/**
 * The one error catalog. Every error a user can see has a code here, an HTTP status, and a
 * message and remedy in `src/i18n/{en,ja}.json` under `errors.<code>`.
 */
export const ErrorCodes = {
  body_malformed: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  field_required: 422,
  field_type: 422,
  field_invalid: 422,
  field_too_long: 422,
  field_empty: 422,
  unknown_field: 422,
  field_not_applicable: 422,
  unknown_provider: 422,
  endpoint_not_https: 422,
  address_refused: 422,
  endpoints_required: 422,
  scopes_empty: 422,
  provider_immutable: 422,
  protocol_immutable: 422,
  mail_field_not_applicable: 422,
  discovery_failed: 422,
  client_secret_required: 422,
  mail_password_required: 422,
  not_authenticated: 401,
  invalid_credentials: 401,
  forbidden: 403,
  metrics_forbidden: 403,
  csrf_token_invalid: 403,
  password_incorrect: 403,
  not_found: 404,
  link_not_found: 404,
  api_token_not_found: 404,
  link_name_taken: 409,
  insecure_base_url: 409,
  link_in_use: 409,
  connection_in_use: 409,
  mail_server_not_found: 404,
  mail_server_name_taken: 409,
  mail_server_in_use: 409,
  mailbox_not_authorized: 409,
  mail_server_failed: 502,
  mail_server_unavailable: 503,
  mail_handler_busy: 409,
  mail_handler_not_incoming: 422,
  notify_mail_server_not_outgoing: 422,
  issue_not_found: 404,
  attachment_not_found: 404,
  connection_not_found: 404,
  flow_not_found: 404,
  webhook_not_found: 404,
  not_authorized: 409,
  reauthorization_required: 409,
  ambiguous_connection: 409,
  account_mismatch: 409,
  authorization_state_invalid: 400,
  authorization_failed: 502,
  provider_unavailable: 503,
  provider_response_too_large: 502,
  token_refresh_busy: 503,
  token_refresh_throttled: 429,
  authorization_session_mismatch: 403,
  authorization_start_invalid: 410,
  reauthorization_link_invalid: 404,
  reauthorization_link_used: 410,
  reauthorization_link_expired: 410,
  reauthorization_link_revoked: 410,
  reauthorization_hours_invalid: 422,
  reauthorization_mail_server_not_outgoing: 422,
  rate_limited: 429,
  login_busy: 503,
  master_key_missing: 500,
  master_key_mismatch: 500,
  key_not_found: 404,
  key_is_current: 409,
  key_in_use: 409,
  key_retire_unsupported: 409,
  internal: 500,
  database_unavailable: 503,
  schema_too_new: 500,
  migration_blocked: 409,
  key_set_outdated: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ErrorCodes;

/** Values substituted into a catalog message: `{field}` and the like. */
export type ErrorParams = Readonly<Record<string, string | number>>;

/** An error whose code, status and localised text come from the catalog. */
export class OutlinkError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly params: ErrorParams;
  /** Extra machine-readable detail returned with the error (never a secret). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    params: ErrorParams = {},
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(`${code}${Object.keys(params).length ? ` ${JSON.stringify(params)}` : ''}`, {
      cause: options.cause,
    });
    this.name = 'OutlinkError';
    this.code = code;
    this.status = ErrorCodes[code];
    this.params = params;
    this.details = options.details;
  }
}

/** Type guard used by the error handler and the CLI. */
export function isOutlinkError(value: unknown): value is OutlinkError {
  return value instanceof OutlinkError;
}
