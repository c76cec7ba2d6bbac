import type { FastifyRequest } from 'fastify';
import type { Warning } from '../domain/link.js';
import { type Locale, translate } from '../i18n/i18n.js';
import { chooseLocale, LANG_COOKIE } from '../i18n/locale.js';

/** The language chosen in the UI (its cookie), else `Accept-Language`. */
export function localeOf(request: FastifyRequest): Locale {
  return chooseLocale({
    cookie: request.cookies?.[LANG_COOKIE],
    acceptLanguage: request.headers['accept-language'],
  }).locale;
}

/** `{code, params}` → `{code, message}` in the request's language. */
export function localizeWarnings(request: FastifyRequest, warnings: readonly Warning[]) {
  const locale = localeOf(request);
  return warnings.map((w) => ({
    code: w.code,
    message: translate(locale, `warnings.${w.code}`, w.params),
  }));
}
