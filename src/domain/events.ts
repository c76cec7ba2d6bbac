/** Every type of event the audit log records (DESIGN §8). */
export const EventTypes = [
  'link.created',
  'link.updated',
  'link.deleted',
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
 * What a webhook sends when it is created without `eventTypes`: the connection events
 * (issue 3). Webhooks from before issue 10 store exactly these.
 */
export const DefaultWebhookEventTypes = [
  'connection.authorized',
  'connection.refresh_failed',
  'connection.recovered',
  'connection.reauthorization_required',
] as const;

/**
 * Events that carry what a stranger wrote (an issue's summary, a sender's address), sent
 * only to a webhook that names them: a receiver set up for connection events never starts
 * getting mail content (issue 10 item 8).
 */
export const MailWebhookEventTypes = ['issue.created', 'comment.created'] as const;

/** Every event type a webhook can subscribe to. */
export const WebhookEventTypes = [...DefaultWebhookEventTypes, ...MailWebhookEventTypes] as const;
