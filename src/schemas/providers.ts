import { Type } from '@sinclair/typebox';
import { ERROR_CODE_KEYWORD } from '../domain/validation.js';
import { MICROSOFT_TENANT_PATTERN } from '../providers/microsoft.js';
import { ProviderIds } from '../providers/types.js';
import { Nullable, OneOf } from './common.js';

const Endpoints = Type.Object({
  authorizationEndpoint: Type.String(),
  tokenEndpoint: Type.String(),
});
const ScopesByProtocol = Type.Object({
  imap: Type.Array(Type.String()),
  pop3: Type.Array(Type.String()),
  smtp: Type.Array(Type.String()),
});

/** A provider preset (DESIGN §5) as `GET /api/v1/providers` lists it. */
export const ProviderResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  endpoints: Nullable(Endpoints),
  issuer: Nullable(Type.String()),
  scopes: Nullable(ScopesByProtocol),
  /** Microsoft: scopes per cloud. */
  scopesByCloud: Type.Optional(Type.Record(Type.String(), ScopesByProtocol)),
  /** Microsoft: endpoints per cloud (for the default tenant). */
  endpointsByCloud: Type.Optional(Type.Record(Type.String(), Endpoints)),
  requiredScopes: Type.Array(Type.String()),
  authorizationParams: Type.Record(Type.String(), Type.String()),
  options: Type.Array(Type.String()),
  redirectUrl: Nullable(Type.String()),
});

/** `GET /api/v1/redirect-url?provider=…[&authorizationEndpoint=…][&tenant=…]`. */
export const RedirectQuery = Type.Object(
  {
    provider: OneOf(ProviderIds, { [ERROR_CODE_KEYWORD]: 'unknown_provider' }),
    authorizationEndpoint: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
    tenant: Type.Optional(Type.String({ maxLength: 253, pattern: MICROSOFT_TENANT_PATTERN })),
  },
  { additionalProperties: false },
);

export const RedirectResponse = Type.Object({ redirectUrl: Type.String() });
