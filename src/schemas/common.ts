import { type TSchema, Type } from '@sinclair/typebox';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      remedy: Type.Optional(Type.String()),
      field: Type.Optional(Type.String()),
    }),
  },
  { $id: 'ErrorResponse' },
);

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid', maxLength: 36 }) });

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

export const Warnings = Type.Array(Type.Object({ code: Type.String(), message: Type.String() }));

/** `{items, nextCursor?}`, the shape of every list (DESIGN §8). */
export const ListOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Optional(Type.String()) });

/** Error answers every authenticated route may give, for the OpenAPI document. */
export const authErrors = {
  401: Type.Ref(ErrorResponse),
  403: Type.Ref(ErrorResponse),
};

export const validationErrors = {
  400: Type.Ref(ErrorResponse),
  413: Type.Ref(ErrorResponse),
  415: Type.Ref(ErrorResponse),
  422: Type.Ref(ErrorResponse),
};
