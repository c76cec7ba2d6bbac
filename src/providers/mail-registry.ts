/**
 * Every mail server preset by id, and what is looked up in them: the presets of a provider,
 * the preset a host belongs to, and the scopes a protocol needs with a provider's tokens.
 */
import type { MailProtocol } from '../domain/mail-server.js';
import { gmailPreset } from './google.js';
import type { MailPresetId, MailServerPreset } from './mail-preset.js';
import {
  exchangeOnlineChinaPreset,
  exchangeOnlinePreset,
  exchangeOnlineUsPreset,
} from './microsoft.js';
import { presetFor } from './registry.js';
import type { MicrosoftCloud, ProviderId } from './types.js';

export const mailPresets: Readonly<Record<MailPresetId, MailServerPreset>> = Object.freeze({
  gmail: gmailPreset,
  exchange_online: exchangeOnlinePreset,
  exchange_online_us: exchangeOnlineUsPreset,
  exchange_online_china: exchangeOnlineChinaPreset,
});

/** The presets whose servers accept the tokens of a provider's links (in `cloud`, if given). */
export function presetsForProvider(
  provider: ProviderId,
  cloud?: MicrosoftCloud | null,
): MailServerPreset[] {
  return Object.values(mailPresets).filter(
    (p) => p.provider === provider && (!cloud || !p.clouds || p.clouds.includes(cloud)),
  );
}

/** The preset a host belongs to (names compared without regard to case), if any. */
export function presetOfHost(host: string): MailServerPreset | undefined {
  const name = host.toLowerCase().replace(/\.$/, '');
  return Object.values(mailPresets).find((p) =>
    Object.values(p.servers).some((servers) => servers.some((s) => s.host === name)),
  );
}

/** The scopes the provider's preset says a protocol needs (none for custom links). */
export function neededScopes(
  provider: ProviderId,
  cloud: MicrosoftCloud | null,
  protocol: MailProtocol,
): string[] {
  const scopes = presetFor(provider).scopes?.({ cloud: cloud ?? 'global' });
  return scopes ? [...scopes[protocol]] : [];
}
