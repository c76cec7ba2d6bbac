import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Cipher } from '../crypto/cipher.js';
import type { Clock } from '../domain/clock.js';
import type { MailClient } from '../mail/mail-client.js';
import type { Store } from '../store/db.js';
import type { TokenService } from '../tokens/token-service.js';
import type { ApiTokenService } from './api-tokens.js';
import type { AuthorizationFlows } from './authorizations.js';
import type { ClusterService } from './cluster.js';
import type { ConnectionService } from './connections.js';
import type { DiagnoseService } from './diagnose/index.js';
import type { EventService } from './events.js';
import type { IssueService } from './issues.js';
import type { KeyService } from './keys.js';
import type { LinkService } from './links.js';
import type { MailHandlerService } from './mail-handler.js';
import type { MailServerService } from './mail-servers.js';
import type { Metrics } from './metrics.js';
import type { ReauthorizationService } from './reauthorizations.js';
import type { UserService } from './users.js';
import type { WebhookService } from './webhooks.js';

/**
 * Everything the HTTP server, the UI and the CLI share; `src/main/compose.ts` builds it
 * once per process. Edges take the part they use (`Pick<Services, 'links'>`), never more.
 */
export interface Services {
  readonly config: Config;
  readonly store: Store;
  readonly cipher: Cipher;
  readonly clock: Clock;
  readonly log: Logger;
  readonly events: EventService;
  readonly users: UserService;
  readonly apiTokens: ApiTokenService;
  readonly links: LinkService;
  /** Diagnose a link: every check, changing nothing (issue 13). */
  readonly diagnose: DiagnoseService;
  readonly keys: KeyService;
  readonly tokens: TokenService;
  readonly connections: ConnectionService;
  readonly flows: AuthorizationFlows;
  /** One-time re-authorization links for a connection's owner (issue 13). */
  readonly reauthorizations: ReauthorizationService;
  readonly webhooks: WebhookService;
  /** Authenticated IMAP, POP3 and SMTP sessions, with the rejected-token rule. */
  readonly mail: MailClient;
  readonly mailServers: MailServerService;
  /** The mail handler: email → issues and comments. */
  readonly mailHandler: MailHandlerService;
  /** The issues and comments the handler made, to read. */
  readonly issues: IssueService;
  /** Prometheus metrics: counters the services feed, gauges read at scrape time. */
  readonly metrics: Metrics;
  /** Whether this process's refresh scheduler is running (`/readyz` reports it). */
  schedulerRunning(): boolean;
  /** The nodes sharing the database (issue 14). */
  readonly cluster: ClusterService;
  /** Stops what runs in the background and closes the database. */
  close(): Promise<void>;
}
