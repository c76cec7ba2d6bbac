import { type Static, Type } from '@sinclair/typebox';
import { ApiTokenScopes } from '../domain/actor.js';
import { OneOf } from './common.js';

const Id = Type.String({ format: 'uuid', maxLength: 36 });

/** Body of `POST /api/v1/api-tokens` (DESIGN §8). */
export const CreateApiTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    scopes: Type.Optional(
      Type.Array(OneOf(ApiTokenScopes), {
        minItems: 1,
        maxItems: 3,
        uniqueItems: true,
      }),
    ),
    linkIds: Type.Optional(Type.Array(Id, { maxItems: 100, uniqueItems: true })),
    connectionIds: Type.Optional(Type.Array(Id, { maxItems: 100, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export type CreateApiTokenInput = Static<typeof CreateApiTokenBody>;

/** An API token as the API lists it: never the token itself. */
export const ApiToken = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  linkIds: Type.Array(Type.String()),
  connectionIds: Type.Array(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
});
export type ApiTokenView = Static<typeof ApiToken>;

/** The answer to creating one: the token, in this answer only. */
export const CreatedApiToken = Type.Object({ id: Type.String(), token: Type.String() });
