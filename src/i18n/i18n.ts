import en from './en.json' with { type: 'json' };
import ja from './ja.json' with { type: 'json' };

export const Locales = ['en', 'ja'] as const;
export type Locale = (typeof Locales)[number];

type Catalog = typeof en;
const catalogs: Record<Locale, Catalog> = { en, ja };

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
