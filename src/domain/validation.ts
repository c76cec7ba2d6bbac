import type { Static, TSchema } from '@sinclair/typebox';
import { FormatRegistry } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { type ErrorCode, OutlinkError } from './errors.js';

/**
 * One schema language (TypeBox) at every boundary: HTTP bodies, query strings, CLI input.
 * A schema may name the catalog code for its failures with `'x-error'`, e.g. an unknown
 * provider answers `unknown_provider` rather than a generic `field_invalid`.
 */
export const ERROR_CODE_KEYWORD = 'x-error';

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => ISO_DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));
}
if (!FormatRegistry.Has('uri')) {
  FormatRegistry.Set('uri', (v) => URL.canParse(v));
}
if (!FormatRegistry.Has('uuid')) {
  FormatRegistry.Set('uuid', (v) =>
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  );
}

export type Validator<T> = (value: unknown) => T;

/**
 * Compiles `schema` into a function that returns the value typed, or throws the
 * `OutlinkError` of the first problem. `convert` turns strings into numbers and booleans
 * (query strings and path parameters); bodies are never converted, so a wrong JSON type
 * is reported, not guessed at.
 */
export function compileValidator<S extends TSchema>(
  schema: S,
  options: { convert?: boolean } = {},
): Validator<Static<S>> {
  const check = TypeCompiler.Compile(schema);
  return (input) => {
    const value = options.convert ? Value.Convert(schema, input) : input;
    if (check.Check(value)) return value;
    const first = pickError([...check.Errors(value)]);
    throw first
      ? toOutlinkError(first)
      : new OutlinkError('field_invalid', { field: '', problem: 'invalid' });
  };
}

/**
 * Among several errors prefer the most telling one: an unknown field or a missing one
 * before a type error before the rest, and a union's own code before its members'.
 */
function pickError(errors: ValueError[]): ValueError | undefined {
  const rank = (e: ValueError) => {
    if (e.type === ValueErrorType.ObjectAdditionalProperties) return 0;
    if (e.type === ValueErrorType.ObjectRequiredProperty) return 1;
    if (ERROR_CODE_KEYWORD in e.schema) return 2;
    return 3;
  };
  return errors.sort((a, b) => rank(a) - rank(b))[0];
}

const TYPE_ERRORS: ReadonlyMap<ValueErrorType, string> = new Map([
  [ValueErrorType.String, 'string'],
  [ValueErrorType.Number, 'number'],
  [ValueErrorType.Integer, 'integer'],
  [ValueErrorType.Boolean, 'boolean'],
  [ValueErrorType.Array, 'array'],
  [ValueErrorType.Object, 'object'],
  [ValueErrorType.Null, 'null'],
]);

function toOutlinkError(error: ValueError): OutlinkError {
  const field = fieldName(error.path);
  const custom = (error.schema as Record<string, unknown>)[ERROR_CODE_KEYWORD];
  const member = typeof custom === 'string' ? undefined : nonNullMember(error);
  if (member) return toOutlinkError(member);
  if (typeof custom === 'string' && error.type !== ValueErrorType.ObjectRequiredProperty) {
    return new OutlinkError(
      custom as ErrorCode,
      {
        field,
        value: typeof error.value === 'string' ? error.value.slice(0, 100) : String(error.value),
        provider: typeof error.value === 'string' ? error.value.slice(0, 100) : '',
      },
      { details: { field } },
    );
  }
  const detail = { details: { field } };
  // An empty string fails a format or pattern check too; "empty" says more than "invalid".
  if (
    error.value === '' &&
    (error.type === ValueErrorType.StringFormat || error.type === ValueErrorType.StringPattern)
  ) {
    return new OutlinkError('field_empty', { field }, detail);
  }
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return new OutlinkError('field_required', { field }, detail);
    case ValueErrorType.ObjectAdditionalProperties:
      return new OutlinkError('unknown_field', { field }, detail);
    case ValueErrorType.StringMaxLength:
      return new OutlinkError(
        'field_too_long',
        { field, limit: `${error.schema.maxLength} characters` },
        detail,
      );
    case ValueErrorType.ArrayMaxItems:
      return new OutlinkError(
        'field_too_long',
        { field, limit: `${error.schema.maxItems} items` },
        detail,
      );
    case ValueErrorType.StringMinLength:
    case ValueErrorType.ArrayMinItems:
      if (error.value === '' || (Array.isArray(error.value) && error.value.length === 0)) {
        return new OutlinkError('field_empty', { field }, detail);
      }
      return new OutlinkError('field_invalid', { field, problem: error.message }, detail);
    default: {
      const expected = TYPE_ERRORS.get(error.type);
      if (expected) return new OutlinkError('field_type', { field, expected }, detail);
      return new OutlinkError('field_invalid', { field, problem: error.message }, detail);
    }
  }
}

/**
 * A nullable field (`T | null`) holding something other than null fails as its `T` would:
 * "too long" or "not text" rather than the union's "Expected union value".
 */
function nonNullMember(error: ValueError): ValueError | undefined {
  if (error.type !== ValueErrorType.Union || error.value === null) return undefined;
  const members = (error.schema as { anyOf?: readonly TSchema[] }).anyOf ?? [];
  const others = members.flatMap((m, i) => (m.type === 'null' ? [] : [i]));
  if (others.length !== 1 || others.length === members.length) return undefined;
  return pickError([...(error.errors[others[0]!] ?? [])]);
}

/** `/scopes/0` → `scopes[0]`, `/name` → `name`. */
function fieldName(path: string): string {
  if (path === '') return 'body';
  return path
    .split('/')
    .filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}
