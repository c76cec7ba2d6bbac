/**
 * A mail server as the API, the CLI and the UI show it (DESIGN §8): the password only as
 * `passwordSet`, the connection with its link and whether it is a delegate's.
 */
import { presetFor } from '../providers/registry.js';
import type { MicrosoftCloud, ProviderId } from '../providers/types.js';
import type { MailProtocol, MailSecurity } from './endpoint.js';
import type { ProcessedAction } from './mail-server-body.js';
import type { ResolvedConnection, StoredMailServer } from './mail-server-rules.js';
import { type MailPresetId, type MailServerPreset, presetOfHost } from './presets.js';
import type { SaslMechanism } from './sasl.js';

/** How a mail server authenticates, as the API shows it: never the password, never a token. */
export type MailServerAuthenticationView =
  | {
      method: 'oauth2';
      linkId: string;
      linkName: string;
      connectionId: string;
      account: string;
      /** The connection's account differs from the username: a delegate's token. */
      delegated: boolean;
    }
  | { method: 'password'; passwordSet: boolean };

/** A mail server as the API and CLI show it (DESIGN §8). */
export interface MailServerView {
  id: string;
  name: string;
  protocol: MailProtocol;
  host: string;
  port: number;
  security: MailSecurity;
  username: string;
  authentication: MailServerAuthenticationView;
  saslMechanism: SaslMechanism | null;
  folder: string | null;
  pollIntervalSeconds: number | null;
  processedAction: ProcessedAction | null;
  processedFolder: string | null;
  /** The provider preset the host belongs to (Gmail, Exchange Online), if any. */
  preset: MailPresetId | null;
  createdAt: string;
  updatedAt: string;
}

/** A preset as the API shows it: servers per protocol and the scopes each protocol needs. */
export interface MailPresetView {
  id: MailPresetId;
  provider: ProviderId;
  name: string;
  servers: Record<MailProtocol, { host: string; port: number; security: MailSecurity }[]>;
  scopes: Record<MailProtocol, string[]>;
}

/** A stored mail server as the API shows it, with its connection when it has one. */
export function toMailServerView(
  stored: StoredMailServer & { id: string; createdAt: string; updatedAt: string },
  connection: ResolvedConnection | undefined,
): MailServerView {
  const authentication: MailServerAuthenticationView =
    stored.authMethod === 'oauth2'
      ? {
          method: 'oauth2',
          linkId: connection?.linkId ?? '',
          linkName: connection?.linkName ?? '',
          connectionId: stored.connectionId ?? '',
          account: connection?.account ?? '',
          delegated: connection
            ? connection.account.toLowerCase() !== stored.username.toLowerCase()
            : false,
        }
      : { method: 'password', passwordSet: stored.hasPassword };
  return {
    id: stored.id,
    name: stored.name,
    protocol: stored.protocol,
    host: stored.host,
    port: stored.port,
    security: stored.security,
    username: stored.username,
    authentication,
    saslMechanism: stored.saslMechanism,
    folder: stored.folder,
    pollIntervalSeconds: stored.pollIntervalSeconds,
    processedAction: stored.processedAction,
    processedFolder: stored.processedFolder,
    preset: presetOfHost(stored.host)?.id ?? null,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
}

/** A preset as the API shows it, with the scopes of its provider in the link's cloud. */
export function presetView(preset: MailServerPreset, cloud: MicrosoftCloud): MailPresetView {
  return {
    id: preset.id,
    provider: preset.provider,
    name: preset.name,
    servers: {
      imap: preset.servers.imap.map((s) => ({ ...s })),
      pop3: preset.servers.pop3.map((s) => ({ ...s })),
      smtp: preset.servers.smtp.map((s) => ({ ...s })),
    },
    scopes: presetFor(preset.provider).scopes?.({ cloud }) ?? { imap: [], pop3: [], smtp: [] },
  };
}
