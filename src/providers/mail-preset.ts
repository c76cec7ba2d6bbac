/**
 * What a mail server preset is (DESIGN §5, issue 5 item 5): the servers of a provider whose
 * links Outlink ships presets for, how those servers refuse a token, and what to tell the
 * administrator when they do. The presets themselves live with their provider
 * (`google.ts`, `microsoft.ts`); `mail-registry.ts` lists them.
 */
import type { MailProtocol, MailSecurity } from '../domain/mail-server.js';
import type { MicrosoftCloud, ProviderId } from './types.js';

export const MailPresetIds = [
  'gmail',
  'exchange_online',
  'exchange_online_us',
  'exchange_online_china',
] as const;
export type MailPresetId = (typeof MailPresetIds)[number];

/** One server of a preset: where it listens and how the connection is protected. */
export interface PresetServer {
  readonly host: string;
  readonly port: number;
  readonly security: MailSecurity;
}

export interface MailServerPreset {
  readonly id: MailPresetId;
  /** The link provider whose tokens these servers accept. */
  readonly provider: ProviderId;
  readonly name: string;
  /** The provider clouds whose tokens these servers accept (Microsoft); every cloud if absent. */
  readonly clouds?: readonly MicrosoftCloud[];
  /** The servers per protocol, the recommended one first. */
  readonly servers: Readonly<Record<MailProtocol, readonly PresetServer[]>>;
  /**
   * The remedy when a fresh token of the right account with the right scope is still refused:
   * the protocol is turned off for the mailbox or the organisation. Its servers' own answers
   * are in `mail-refusal-catalog.ts`.
   */
  readonly protocolDisabledRemedy: string;
}

/** A preset's server, frozen. */
export function presetServer(host: string, port: number, security: MailSecurity): PresetServer {
  return Object.freeze({ host, port, security });
}
