import type { OutlinkError } from '../domain/errors.js';
import { type Locale, translate } from '../i18n/i18n.js';

/** A catalog error in words: what the API's `error` object, the CLI and the pages show. */
export interface ErrorText {
  readonly code: string;
  readonly message: string;
  /** Absent when the catalog has no remedy for the code. */
  readonly remedy?: string;
  /** The request field the error is about, when it names one. */
  readonly field?: string;
}

/** The JSON body of every error answer (DESIGN §8). */
export interface ErrorBody {
  readonly error: ErrorText;
}

/**
 * An `OutlinkError` in `locale`: message and remedy from `errors.<code>`, filled with the
 * error's parameters and `extra` (the API adds the request id).
 */
export function presentError(
  locale: Locale,
  error: OutlinkError,
  extra: Readonly<Record<string, string | number>> = {},
): ErrorText {
  const params = { ...error.params, ...extra };
  const remedyKey = `errors.${error.code}.remedy`;
  const remedy = translate(locale, remedyKey, params);
  const field = error.details?.field;
  return {
    code: error.code,
    message: translate(locale, `errors.${error.code}.message`, params),
    ...(remedy !== remedyKey ? { remedy } : {}),
    ...(typeof field === 'string' ? { field } : {}),
  };
}

/** `{ error: {code, message, remedy?, field?} }` for an API answer. */
export function presentErrorBody(
  locale: Locale,
  error: OutlinkError,
  requestId: string,
): ErrorBody {
  return { error: presentError(locale, error, { requestId }) };
}
