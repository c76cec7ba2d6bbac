import { createHash } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { MICROSOFT_TENANT_PATTERN } from '../providers/microsoft.js';
import { ProviderIds } from '../providers/types.js';
import { ERROR_CODE_KEYWORD } from './validation.js';

const Url = (description: string) => Type.String({ format: 'uri', maxLength: 2048, description });

/** A scope token (RFC 6749 §3.3): no inner whitespace; surrounding blanks are trimmed. */
const Scope = Type.String({ minLength: 1, maxLength: 512, pattern: '^\\s*[\\x21-\\x7E]+\\s*$' });

const linkFields = {
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'Unique name' }),
  description: Type.String({ maxLength: 1000 }),
  provider: Type.Union(
    ProviderIds.map((id) => Type.Literal(id)),
    { [ERROR_CODE_KEYWORD]: 'unknown_provider', description: 'google, microsoft or custom' },
  ),
  clientId: Type.String({ minLength: 1, maxLength: 512, pattern: '\\S' }),
  clientSecret: Type.String({ minLength: 1, maxLength: 4096, description: 'Write-only' }),
  scopes: Type.Array(Scope, { maxItems: 50 }),
  authorizationEndpoint: Url('HTTPS URL where authorization starts'),
  tokenEndpoint: Url('HTTPS URL of the token endpoint'),
  issuer: Url('Issuer identifier; for custom providers, discovery fills the endpoints from it'),
  tenant: Type.String({ minLength: 1, maxLength: 253, pattern: MICROSOFT_TENANT_PATTERN }),
  cloud: Type.Union([Type.Literal('global'), Type.Literal('gcc')]),
  clientAuthMethod: Type.Union([
    Type.Literal('client_secret_post'),
    Type.Literal('client_secret_basic'),
  ]),
  clientSecretExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
};

/** Body of `POST /api/v1/links` (DESIGN §8). */
export const CreateLinkBody = Type.Object(
  {
    name: linkFields.name,
    description: Type.Optional(linkFields.description),
    provider: linkFields.provider,
    clientId: linkFields.clientId,
    clientSecret: linkFields.clientSecret,
    scopes: Type.Optional(linkFields.scopes),
    authorizationEndpoint: Type.Optional(linkFields.authorizationEndpoint),
    tokenEndpoint: Type.Optional(linkFields.tokenEndpoint),
    issuer: Type.Optional(linkFields.issuer),
    tenant: Type.Optional(linkFields.tenant),
    cloud: Type.Optional(linkFields.cloud),
    clientAuthMethod: Type.Optional(linkFields.clientAuthMethod),
    clientSecretExpiresAt: Type.Optional(linkFields.clientSecretExpiresAt),
  },
  { additionalProperties: false },
);
export type CreateLinkInput = Static<typeof CreateLinkBody>;

/** Body of `PATCH /api/v1/links/:id`: any subset; `provider` may only repeat the current one. */
export const UpdateLinkBody = Type.Partial(CreateLinkBody, { additionalProperties: false });
export type UpdateLinkInput = Static<typeof UpdateLinkBody>;

export interface Warning {
  readonly code: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * `<base URL>/oauth2/callback/<suffix>` with suffix = the first 22 characters of
 * base64url(SHA-256(authorization endpoint)): one redirect URL per authorization server,
 * which is also the mix-up defence of RFC 9700 §4.4.
 */
export function redirectUrlFor(baseUrl: URL, authorizationEndpoint: string): string {
  return `${baseUrl.href.replace(/\/+$/, '')}/oauth2/callback/${callbackSuffix(authorizationEndpoint)}`;
}

export function callbackSuffix(authorizationEndpoint: string): string {
  return createHash('sha256').update(authorizationEndpoint).digest('base64url').slice(0, 22);
}

/** True for a host that is an IPv4 or IPv6 literal (Google refuses those as redirect hosts). */
export function isIpLiteralHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** Trims, drops empties and de-duplicates scopes, keeping the first occurrence's order. */
export function cleanScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map((s) => s.trim()).filter(Boolean))];
}
