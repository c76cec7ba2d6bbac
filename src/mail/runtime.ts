import type { ProviderId } from '../providers/types.js';
import type { MailEndpoint } from './endpoint.js';
import type { SaslMechanism } from './sasl.js';

/**
 * How a mail server authenticates, as the mail code needs it: a connection of a link (whose
 * token the token service hands out), or a password (decrypted).
 */
export type MailCredentials =
  | {
      readonly method: 'oauth2';
      readonly connectionId: string;
      /** The connection's account: a delegate's when it differs from the username. */
      readonly account: string;
      /** The link's provider, for presets and remedies. */
      readonly provider: ProviderId;
      /** The scopes the connection was granted. */
      readonly grantedScopes: readonly string[];
      /** The scopes the provider's preset says this protocol needs (none for custom). */
      readonly neededScopes: readonly string[];
    }
  | { readonly method: 'password'; readonly password: string };

/** A configured mail server with what it needs to connect, never shown to anyone. */
export interface MailServerRuntime extends MailEndpoint {
  readonly id: string;
  readonly name: string;
  /** The mailbox (IMAP/POP3 user, SMTP sender). */
  readonly username: string;
  readonly credentials: MailCredentials;
  /** The administrator's mechanism override, if any. */
  readonly saslMechanism: SaslMechanism | null;
  /** The incoming folder (IMAP); null for POP3 and SMTP. */
  readonly folder: string | null;
}
