import { type SchemaOptions, type TSchema, Type } from '@sinclair/typebox';

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

/** What create and update answers carry for what was accepted but deserves attention. */
export const Warnings = Type.Array(Type.Object({ code: Type.String(), message: Type.String() }));

/** `T` or `null`. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** One of the given strings: a union of literals, an `anyOf` of `const`s in OpenAPI. */
export const OneOf = <T extends string>(values: readonly T[], options: SchemaOptions = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );

/** `{items, nextCursor?}`, the shape of every list (DESIGN §8). */
export const ListOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Optional(Type.String()) });

/** `{items}`, a list that is always whole. */
export const ItemsOf = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item) });

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

/** The error answer for each of `codes`, e.g. `errorResponses(404, 409)`. */
export const errorResponses = <const C extends readonly number[]>(...codes: C) =>
  Object.fromEntries(codes.map((c) => [c, Type.Ref(ErrorResponse)])) as {
    [K in C[number]]: typeof errorRef;
  };

const errorRef = Type.Ref(ErrorResponse);
