import { Type } from '@sinclair/typebox';

const Nullable = <T extends ReturnType<typeof Type.String>>(s: T) => Type.Union([s, Type.Null()]);

export const LinkConnection = Type.Object({
  id: Type.String(),
  account: Type.String(),
  status: Type.String(),
  expiresAt: Nullable(Type.String()),
  scopes: Type.Array(Type.String()),
  lastRefreshedAt: Nullable(Type.String()),
  lastError: Type.Optional(Type.Unknown()),
});

/** A link as the API returns it: never the client secret, only `clientSecretSet`. */
export const LinkResponse = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    direction: Type.Literal('outgoing'),
    applicationType: Type.Literal('external'),
    provider: Type.String(),
    clientId: Type.String(),
    clientSecretSet: Type.Boolean(),
    scopes: Type.Array(Type.String()),
    authorizationEndpoint: Type.String(),
    tokenEndpoint: Type.String(),
    issuer: Nullable(Type.String()),
    tenant: Nullable(Type.String()),
    cloud: Nullable(Type.String()),
    clientAuthMethod: Type.String(),
    clientSecretExpiresAt: Nullable(Type.String()),
    redirectUrl: Type.String(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    connections: Type.Array(LinkConnection),
    warnings: Type.Optional(
      Type.Array(Type.Object({ code: Type.String(), message: Type.String() })),
    ),
  },
  { $id: 'Link' },
);
