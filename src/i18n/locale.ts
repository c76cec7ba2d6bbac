import { type Locale, Locales } from './i18n.js';

/** Cookie that remembers the language chosen with `?lang=`. */
export const LANG_COOKIE = 'outlink_lang';

/** Query parameter that picks the language of a page (and is then remembered). */
export const LANG_QUERY = 'lang';

/** Where a request or a command line says which language it wants. */
export interface LocaleInput {
  /** The `?lang=` value, if any. */
  readonly query?: unknown;
  /** The `outlink_lang` cookie, if any. */
  readonly cookie?: unknown;
  /** An `Accept-Language` header, or its equivalent (the CLI's POSIX locale). */
  readonly acceptLanguage?: string;
}

/** The chosen locale, and whether it was asked for now (`?lang=`) and is to be remembered. */
export interface LocaleChoice {
  readonly locale: Locale;
  readonly remember: boolean;
}

/** A supported locale, or undefined for anything else. */
export function asLocale(value: unknown): Locale | undefined {
  return Locales.find((l) => l === value);
}

/**
 * The one locale resolution of Outlink, for pages, API errors and warnings, and the CLI:
 * `?lang=` first (and then it is to be remembered), else the cookie, else
 * `Accept-Language`, else English.
 */
export function chooseLocale(input: LocaleInput): LocaleChoice {
  const asked = asLocale(input.query);
  if (asked) return { locale: asked, remember: true };
  const remembered = asLocale(input.cookie);
  if (remembered) return { locale: remembered, remember: false };
  return { locale: pickLocale(input.acceptLanguage), remember: false };
}

/**
 * Picks the best supported locale from an `Accept-Language` header (RFC 9110 §12.5.4),
 * honouring q-values; English when nothing matches.
 */
export function pickLocale(acceptLanguage: string | undefined): Locale {
  if (!acceptLanguage) return 'en';
  const ranked = acceptLanguage
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: tag.toLowerCase(), q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((entry) => entry.tag && !Number.isNaN(entry.q) && entry.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    const primary = tag.split('-')[0];
    const hit = Locales.find((l) => l === primary);
    if (hit) return hit;
  }
  return 'en';
}

/**
 * The CLI's language: its POSIX locale stands where a browser's `Accept-Language` would.
 * `LC_ALL` overrides `LC_MESSAGES`, which overrides `LANG` (POSIX.1-2017 §8.2).
 */
export function localeFromEnv(env: Readonly<Record<string, string | undefined>>): Locale {
  const value = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((v) => v !== undefined && v !== '');
  return chooseLocale({ acceptLanguage: value && posixLanguageTag(value) }).locale;
}

/**
 * `ja_JP.UTF-8@modifier` → `ja-JP`: a POSIX locale name (language[_territory][.codeset]
 * [@modifier]) as a language tag; `C` and `POSIX` name no language and match none.
 */
function posixLanguageTag(name: string): string {
  return name.replace(/[.@].*$/, '').replace(/_/g, '-');
}
