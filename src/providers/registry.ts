import { custom } from './custom.js';
import { google } from './google.js';
import { microsoft } from './microsoft.js';
import type { ProviderId, ProviderPreset } from './types.js';

/** Every preset by id; frozen so no caller can change provider facts. */
export const providers: Readonly<Record<ProviderId, ProviderPreset>> = Object.freeze({
  google,
  microsoft,
  custom,
});

export function presetFor(id: ProviderId): ProviderPreset {
  return providers[id];
}
