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
  'mail_server.created',
  'mail_server.updated',
  'mail_server.deleted',
  'mail_server.test_failed',
  'issue.created',
  'comment.created',
  'key.rotated',
  'api_token.created',
  'api_token.revoked',
  'session.login_failed',
  'user.password_changed',
  'webhook.delivered',
  'webhook.failed',
] as const;
export type EventType = (typeof EventTypes)[number];

/** The connection events webhooks carry (issue 3). */
export const WebhookEventTypes = [
  'connection.authorized',
  'connection.refresh_failed',
  'connection.recovered',
  'connection.reauthorization_required',
] as const;
