import type { Generated } from 'kysely';
import type { ConnectionStatus } from '../domain/connection.js';

/**
 * Table shapes shared by SQLite and PostgreSQL. Timestamps are ISO-8601 UTC text
 * (`2026-01-02T03:04:05.678Z`), which sorts correctly in both; JSON is text.
 */
export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  links: LinksTable;
  connections: ConnectionsTable;
  events: EventsTable;
  authorization_flows: AuthorizationFlowsTable;
  reauthorization_invitations: ReauthorizationInvitationsTable;
  leases: LeasesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  mail_servers: MailServersTable;
  mail_handler_state: MailHandlerStateTable;
  issue_counters: IssueCountersTable;
  issues: IssuesTable;
  comments: CommentsTable;
  attachments: AttachmentsTable;
  thread_messages: ThreadMessagesTable;
  mail_messages: MailMessagesTable;
  mail_outbox: MailOutboxTable;
  cache_epochs: CacheEpochsTable;
  notification_state: NotificationStateTable;
  notification_windows: NotificationWindowsTable;
  notification_outbox: NotificationOutboxTable;
  cluster_nodes: ClusterNodesTable;
  cluster_state: ClusterStateTable;
}

export interface NotificationStateTable {
  subject: string;
  state: string;
  notified_state: string | null;
  notified_at: string | null;
  /** JSON: the last bad-state event (secret-free). */
  event: string | null;
  updated_at: string;
}

export interface NotificationWindowsTable {
  subject: string;
  state: string;
  sent_at: string;
}

export interface NotificationOutboxTable {
  id: string;
  kind: string;
  /** JSON: the notice's data (names, codes, dates; never a secret). */
  data: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: Generated<number>;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  token_hash: string;
  scopes: string;
  link_ids: string;
  connection_ids: string;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface LinksTable {
  id: string;
  name: string;
  /** Lower-cased name: the unique key, so "Gmail" and "gmail" cannot both exist. */
  name_key: string;
  description: string;
  direction: string;
  application_type: string;
  provider: string;
  client_id: string;
  client_secret_enc: string;
  scopes: string;
  authorization_endpoint: string;
  token_endpoint: string;
  issuer: string | null;
  tenant: string | null;
  cloud: string | null;
  client_auth_method: string;
  client_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
  /** 1 once the authorization server has sent `iss` (RFC 9207): then it is required. */
  iss_required: Generated<number>;
  /** RFC 7009: where a deleted connection's refresh token is revoked; none when null. */
  revocation_endpoint: string | null;
}

export interface ConnectionsTable {
  id: string;
  link_id: string;
  account: string;
  status: ConnectionStatus;
  access_token_enc: string | null;
  refresh_token_enc: string | null;
  token_type: string | null;
  expires_at: string | null;
  scopes: string;
  last_refreshed_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  /** The `iss` of the ID token seen at authorization (Microsoft's names the tenant). */
  issuer: string | null;
  /** Consecutive transient refresh failures, for backoff. */
  refresh_failures: Generated<number>;
  /** Not before this time may the scheduler retry a failing refresh. */
  retry_at: string | null;
  /** Bumped on every token change, so waiters can tell a fresh token from the one they saw. */
  token_version: Generated<number>;
  /** Who the account is within its link: `<iss> <sub>`, Microsoft's `tid`/`oid`, or a label. */
  identity: string | null;
  /** The redirect URI the last authorization used (issue 13); null before migration 0008. */
  redirect_uri: string | null;
  /** When the last authorization completed (issue 13); null before migration 0008. */
  authorized_at: string | null;
}

export interface EventsTable {
  id: string;
  seq: Generated<number>;
  type: string;
  at: string;
  actor: string;
  link_id: string | null;
  connection_id: string | null;
  mail_server_id: string | null;
  data: string;
}

export interface AuthorizationFlowsTable {
  id: string;
  state_hash: string;
  link_id: string;
  connection_id: string | null;
  code_verifier_enc: string;
  nonce: string | null;
  redirect_uri: string;
  session_hash: string | null;
  actor: string;
  account_label: string | null;
  actor_kind: string | null;
  actor_id: string | null;
  start_hash: string | null;
  authorization_url_enc: string | null;
  binding_hash: string | null;
  started_at: string | null;
  status: string;
  result_connection_id: string | null;
  error: string | null;
  expires_at: string;
  created_at: string;
  completed_at: string | null;
}

/** Issue 13: one-time re-authorization links (migration 0010); only the secret's hash. */
export interface ReauthorizationInvitationsTable {
  id: string;
  connection_id: string;
  secret_hash: string;
  actor: string;
  actor_kind: string;
  actor_id: string | null;
  emailed_to: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  flow_id: string | null;
  revoked_at: string | null;
}

export interface LeasesTable {
  name: string;
  owner: string;
  expires_at: string;
}

export interface WebhooksTable {
  id: string;
  url: string;
  secret_enc: string;
  event_types: string;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  payload: string;
  status: string;
  attempts: Generated<number>;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface MailServersTable {
  id: string;
  name: string;
  /** Lower-cased name: the unique key. */
  name_key: string;
  /** `imap`, `pop3` or `smtp`. */
  protocol: string;
  host: string;
  port: number;
  /** `tls`, `starttls` or `none`. */
  security: string;
  /** The mailbox: IMAP/POP3 user, SMTP sender. */
  username: string;
  /** `oauth2` or `password`. */
  auth_method: string;
  /** The connection whose token authenticates (`oauth2`). */
  connection_id: string | null;
  /** The encrypted password (`password`). */
  password_enc: string | null;
  /** `XOAUTH2` or `OAUTHBEARER` when the administrator overrides the choice. */
  sasl_mechanism: string | null;
  /** IMAP folder to read (incoming). */
  folder: string | null;
  poll_interval_seconds: number | null;
  /** `seen`, `move` or `delete` (incoming). */
  processed_action: string | null;
  processed_folder: string | null;
  created_at: string;
  updated_at: string;
  /** 1 when the mail handler reads this (incoming) server; 0 paused. */
  handler_enabled: Generated<number>;
  /** The key prefix of the issues it makes (`MAIL` → `MAIL-12`). */
  issue_key_prefix: string | null;
  /** The reporter of a message without a usable sender. */
  default_reporter: string | null;
  /** Messages above this size are kept on the server and recorded as failed. */
  max_message_bytes: number | null;
  /** The outgoing server that acknowledges new issues; null: no acknowledgement. */
  ack_mail_server_id: string | null;
  /** IMAP folder for messages that cannot be handled; null: left unread where they are. */
  error_folder: string | null;
}

export interface MailHandlerStateTable {
  mail_server_id: string;
  /** `idle`, `running`, `failed`, `waiting_reauthorization`, `paused`. */
  status: string;
  last_run_at: string | null;
  last_success_at: string | null;
  next_run_at: string;
  /** The catalog code of the last run's failure. */
  last_error: string | null;
  /** JSON `{fetched, created, commented, skipped, failed}` of the last run. */
  last_counts: string | null;
  /** The IMAP folder's UIDVALIDITY seen last. */
  uid_validity: string | null;
  updated_at: string;
}

export interface IssueCountersTable {
  prefix: string;
  last_number: number;
}

export interface IssuesTable {
  id: string;
  key: string;
  summary: string;
  description: string;
  reporter_address: string;
  reporter_name: string;
  mail_server_id: string | null;
  message_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface CommentsTable {
  id: string;
  issue_id: string;
  author_address: string;
  author_name: string;
  body: string;
  message_id: string | null;
  created_at: string;
}

export interface AttachmentsTable {
  id: string;
  issue_id: string;
  comment_id: string | null;
  filename: string;
  content_type: string;
  size: number;
  content: Buffer;
  created_at: string;
}

export interface ThreadMessagesTable {
  message_id: string;
  issue_id: string;
}

export interface MailMessagesTable {
  id: string;
  mail_server_id: string;
  /** `imap:<uidvalidity>:<uid>` or `pop3:<uidl>`. */
  location: string;
  message_id: string | null;
  /** SHA-256 of the message bytes (hex). */
  content_hash: string;
  sender: string | null;
  subject: string | null;
  size: number;
  /** `issue`, `comment`, `skipped`, `failed` or `duplicate`. */
  outcome: string;
  reason: string | null;
  issue_id: string | null;
  comment_id: string | null;
  processed_at: string;
  /** When the message was marked, moved or deleted on the server. */
  settled_at: string | null;
}

export interface MailOutboxTable {
  id: string;
  mail_server_id: string;
  issue_id: string;
  recipient: string;
  subject: string;
  in_reply_to: string | null;
  references_header: string | null;
  /** `en` or `ja`: the language of the acknowledgement text. */
  language: string;
  /** `pending`, `sent` or `failed`. */
  status: string;
  attempts: Generated<number>;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

/** One counter per in-process cache, bumped by every write that makes its entries stale. */
export interface CacheEpochsTable {
  name: 'api_tokens' | 'access_tokens';
  epoch: number | string | bigint;
}

/** One `serve` or `worker` process of the cluster (issue 14). */
export interface ClusterNodesTable {
  id: string;
  role: string;
  hostname: string;
  pid: number;
  version: string;
  schema_version: number;
  started_at: string;
  last_heartbeat_at: string;
  stopped_at: string | null;
}

/** Facts the nodes share: `schema_version`, `min_compatible_schema`, `current_key_id`. */
export interface ClusterStateTable {
  name: string;
  value: string;
  updated_at: string;
}
