import type { FastifyRequest } from 'fastify';
import type { Warning } from '../domain/link.js';
import { type Locale, pickLocale, translate } from '../ui/i18n/i18n.js';

export function localeOf(request: FastifyRequest): Locale {
  return pickLocale(request.headers['accept-language']);
}

/** `{code, params}` → `{code, message}` in the request's language. */
export function localizeWarnings(request: FastifyRequest, warnings: readonly Warning[]) {
  const locale = localeOf(request);
  return warnings.map((w) => ({
    code: w.code,
    message: translate(locale, `warnings.${w.code}`, w.params),
  }));
}
