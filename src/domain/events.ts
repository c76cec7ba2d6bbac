/** Every type of event the audit log records (DESIGN §8). */
export const EventTypes = [
  'link.created',
  'link.updated',
  'link.deleted',
  'link.credentials_failed',
  'link.credentials_recovered',
  'link.client_secret_expiring',
  'connection.authorized',
  'connection.authorization_failed',
  'connection.refreshed',
  'connection.refresh_failed',
  'connection.recovered',
  'connection.reauthorization_required',
  'connection.deleted',
  'connection.revocation_failed',
  'connection.reauthorization_link_created',
  'connection.reauthorization_link_revoked',
  'connection.reauthorization_link_opened',
  'mail_server.created',
  'mail_server.updated',
  'mail_server.deleted',
  'mail_server.test_failed',
  'mail_server.handler_stopped',
  'mail_server.handler_recovered',
  'issue.created',
  'comment.created',
  'key.rotated',
  'key.retired',
  'api_token.created',
  'api_token.revoked',
  'session.login_failed',
  'user.password_changed',
  'webhook.created',
  'webhook.deleted',
  'webhook.delivered',
  'webhook.failed',
] as const;
export type EventType = (typeof EventTypes)[number];

/**
 * Notices to administrators (issue 13): recorded only when a notice goes out, at most one
 * per state change and hour (the connection events above them are recorded at every attempt,
 * and their webhooks follow the same de-duplication).
 */
export const NoticeEventTypes = [
  'link.credentials_failed',
  'link.credentials_recovered',
  'link.client_secret_expiring',
  'mail_server.handler_stopped',
  'mail_server.handler_recovered',
] as const;

/**
 * What a webhook sends when it is created without `eventTypes`: the connection events
 * (issue 3) and the notices (issue 13). Webhooks from before issue 10 store the first four.
 */
export const DefaultWebhookEventTypes = [
  'connection.authorized',
  'connection.refresh_failed',
  'connection.recovered',
  'connection.reauthorization_required',
  ...NoticeEventTypes,
] as const;

/**
 * Events that carry what a stranger wrote (an issue's summary, a sender's address), sent
 * only to a webhook that names them: a receiver set up for connection events never starts
 * getting mail content (issue 10 item 8).
 */
export const MailWebhookEventTypes = ['issue.created', 'comment.created'] as const;

/** Every event type a webhook can subscribe to. */
export const WebhookEventTypes = [...DefaultWebhookEventTypes, ...MailWebhookEventTypes] as const;
