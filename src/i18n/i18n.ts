import en from './en.json' with { type: 'json' };
import ja from './ja.json' with { type: 'json' };

export const Locales = ['en', 'ja'] as const;
export type Locale = (typeof Locales)[number];

type Catalog = typeof en;
const catalogs: Record<Locale, Catalog> = { en, ja };

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
 * Looks up `key` (dot-separated) in the locale's catalog and fills `{name}` placeholders.
 * A missing key falls back to English, then to the key itself, so text is never empty.
 */
export function translate(
  locale: Locale,
  key: string,
  params: Readonly<Record<string, string | number>> = {},
): string {
  const template = lookup(catalogs[locale], key) ?? lookup(catalogs.en, key) ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** True when the key exists in the catalog of the given locale. */
export function hasMessage(locale: Locale, key: string): boolean {
  return lookup(catalogs[locale], key) !== undefined;
}

function lookup(catalog: unknown, key: string): string | undefined {
  let node: unknown = catalog;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || !(part in node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' ? node : undefined;
}
