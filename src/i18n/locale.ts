import { type Locale, Locales, pickLocale } from './i18n.js';

/** Cookie that remembers the language chosen with `?lang=`. */
export const LANG_COOKIE = 'outlink_lang';

/** A supported locale, or undefined for anything else. */
export function asLocale(value: unknown): Locale | undefined {
  return Locales.find((l) => l === value);
}

/**
 * The page language: `?lang=` first (and then it is to be remembered), else the cookie,
 * else `Accept-Language`, else English.
 */
export function chooseLocale(input: {
  query?: unknown;
  cookie?: unknown;
  acceptLanguage?: string;
}): { locale: Locale; remember: boolean } {
  const asked = asLocale(input.query);
  if (asked) return { locale: asked, remember: true };
  const remembered = asLocale(input.cookie);
  if (remembered) return { locale: remembered, remember: false };
  return { locale: pickLocale(input.acceptLanguage), remember: false };
}
