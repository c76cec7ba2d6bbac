import { type Locale, translate } from '../i18n/i18n.js';

/**
 * A provider or flow failure in words: the catalog's cause (`providerErrors.<id>.cause`) and
 * remedy in one language, with the provider's own `error` / `error_description` kept apart.
 */
export interface FailureText {
  readonly code: string;
  readonly message: string;
  readonly remedy: string;
  readonly providerError?: string;
  readonly providerDescription?: string;
}

/** The failure `id` of the provider error catalog in `locale`. */
export function presentFailure(
  locale: Locale,
  id: string,
  params: Readonly<Record<string, string>>,
  providerError: string | undefined,
  providerDescription: string | undefined,
): FailureText {
  return {
    code: id,
    message: translate(locale, `providerErrors.${id}.cause`, params),
    remedy: translate(locale, `providerErrors.${id}.remedy`, params),
    ...(providerError ? { providerError } : {}),
    ...(providerDescription ? { providerDescription } : {}),
  };
}
