import { type Static, Type } from '@sinclair/typebox';
import { ConnectionStatuses } from '../domain/connection.js';
import { ERROR_CODE_KEYWORD } from '../domain/validation.js';
import { MICROSOFT_TENANT_PATTERN } from '../providers/microsoft.js';
import { MicrosoftClouds, ProviderIds } from '../providers/types.js';
import { Nullable, OneOf, Warnings } from './common.js';

const Url = (description: string) => Type.String({ format: 'uri', maxLength: 2048, description });

/** A scope token (RFC 6749 §3.3): no inner whitespace; surrounding blanks are trimmed. */
const Scope = Type.String({ minLength: 1, maxLength: 512, pattern: '^\\s*[\\x21-\\x7E]+\\s*$' });

const Clouds = MicrosoftClouds;

const linkFields = {
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'Unique name' }),
  description: Type.String({ maxLength: 1000 }),
  provider: OneOf(ProviderIds, {
    [ERROR_CODE_KEYWORD]: 'unknown_provider',
    description: 'google, microsoft or custom',
  }),
  clientId: Type.String({ minLength: 1, maxLength: 512, pattern: '\\S' }),
  clientSecret: Type.String({ minLength: 1, maxLength: 4096, description: 'Write-only' }),
  scopes: Type.Array(Scope, { maxItems: 50 }),
  authorizationEndpoint: Url('HTTPS URL where authorization starts'),
  tokenEndpoint: Url('HTTPS URL of the token endpoint'),
  issuer: Url('Issuer identifier; for custom providers, discovery fills the endpoints from it'),
  revocationEndpoint: Url(
    'HTTPS URL of the RFC 7009 revocation endpoint (custom providers; Google has its own)',
  ),
  tenant: Type.String({ minLength: 1, maxLength: 253, pattern: MICROSOFT_TENANT_PATTERN }),
  cloud: OneOf(Clouds),
  clientAuthMethod: OneOf(['client_secret_post', 'client_secret_basic']),
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
    revocationEndpoint: Type.Optional(Nullable(linkFields.revocationEndpoint)),
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

/** A connection as a link shows it (DESIGN §8): never a token. */
export const LinkConnection = Type.Object({
  id: Type.String(),
  account: Type.String(),
  status: OneOf(ConnectionStatuses),
  expiresAt: Nullable(Type.String()),
  scopes: Type.Array(Type.String()),
  lastRefreshedAt: Nullable(Type.String()),
  lastError: Type.Optional(Type.Unknown()),
});
export type LinkConnectionView = Static<typeof LinkConnection>;

/** A link as the API, CLI and UI show it: never the client secret, only `clientSecretSet`. */
export const Link = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  direction: Type.Literal('outgoing'),
  applicationType: Type.Literal('external'),
  provider: OneOf(ProviderIds),
  clientId: Type.String(),
  clientSecretSet: Type.Boolean(),
  scopes: Type.Array(Type.String()),
  authorizationEndpoint: Type.String(),
  tokenEndpoint: Type.String(),
  issuer: Nullable(Type.String()),
  /** Shown when a custom link has one; a preset's (Google's) is the preset's. */
  revocationEndpoint: Type.Optional(Type.String()),
  tenant: Nullable(Type.String()),
  cloud: Nullable(OneOf(Clouds)),
  clientAuthMethod: Type.String(),
  clientSecretExpiresAt: Nullable(Type.String()),
  redirectUrl: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  connections: Type.Array(LinkConnection),
});
export type LinkView = Static<typeof Link>;

/** The link answer: a link, plus `warnings` on create and update (DESIGN §4). */
export const LinkResponse = Type.Object(
  { ...Link.properties, warnings: Type.Optional(Warnings) },
  { $id: 'Link' },
);
export type LinkResponseBody = Static<typeof LinkResponse>;

/**
 * The answer to deleting a link (issue 11): how many connections went with it and whether
 * their grants were revoked at the provider (RFC 7009), in words for the administrator.
 */
export const LinkRemovalResponse = Type.Object({
  id: Type.String(),
  connections: Type.Integer({ description: 'How many connections were deleted with the link' }),
  revocation: Type.Object({
    status: Type.Union(
      [
        Type.Literal('revoked'),
        Type.Literal('unsupported'),
        Type.Literal('failed'),
        Type.Literal('nothing_to_revoke'),
      ],
      {
        description:
          '`unsupported`: the provider has no revocation endpoint, the grants stay alive there',
      },
    ),
    revoked: Type.Integer(),
    failed: Type.Integer(),
    message: Type.String(),
  }),
});
export type LinkRemovalBody = Static<typeof LinkRemovalResponse>;
