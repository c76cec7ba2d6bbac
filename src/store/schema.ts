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
  leases: LeasesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  mail_servers: MailServersTable;
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
  status: string;
  result_connection_id: string | null;
  error: string | null;
  expires_at: string;
  created_at: string;
  completed_at: string | null;
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
}
