import type { ProviderPreset } from './types.js';

/** Any OAuth 2.0 provider: the administrator gives the endpoints or an issuer to discover. */
export const custom: ProviderPreset = Object.freeze({
  id: 'custom',
  name: 'Custom',
  refreshTokenRequired: false,
  options: Object.freeze([]),
});
