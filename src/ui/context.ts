import { type Locale, translate } from '../i18n/i18n.js';
import { type DateFormat, dateFormat } from './format.js';

/** The signed-in administrator as a page shows them. */
export interface PageUser {
  readonly name: string;
  /** The session's CSRF token, for the client script's state-changing API calls. */
  readonly csrfToken: string;
}

/** Where the static files are served, with a content hash so browsers cache them. */
export interface AssetUrls {
  readonly script: string;
  /** The stylesheets, in cascade order. */
  readonly styles: readonly string[];
}

/** Everything a page template needs besides its data; built once per request. */
export interface PageContext {
  readonly locale: Locale;
  /** The path and query of this request, for the language switch. */
  readonly url: string;
  readonly user: PageUser | undefined;
  readonly assets: AssetUrls;
  readonly dates: DateFormat;
  /** The catalog text of `ui.<key>` (or of a full key starting with a known section). */
  t(key: string, params?: Readonly<Record<string, string | number>>): string;
  /** Plural-aware `t`: `<key>.one` / `<key>.other` by `Intl.PluralRules`, `{count}` filled. */
  tn(key: string, count: number, params?: Readonly<Record<string, string | number>>): string;
}

const FULL_KEY = /^(ui|errors|warnings|providerErrors|callback|diagnose)\./;

/** A page context for one request. */
export function pageContext(options: {
  locale: Locale;
  url: string;
  user?: PageUser;
  assets: AssetUrls;
  now: Date;
}): PageContext {
  const { locale } = options;
  const plural = new Intl.PluralRules(locale);
  const t: PageContext['t'] = (key, params = {}) =>
    translate(locale, FULL_KEY.test(key) ? key : `ui.${key}`, params);
  return {
    locale,
    url: options.url,
    user: options.user,
    assets: options.assets,
    dates: dateFormat(locale, options.now),
    t,
    tn: (key, count, params = {}) => {
      const category = plural.select(count);
      const full = FULL_KEY.test(key) ? key : `ui.${key}`;
      const chosen = `${full}.${category}`;
      const withCount = { ...params, count };
      const text = translate(locale, chosen, withCount);
      return text === chosen ? translate(locale, `${full}.other`, withCount) : text;
    },
  };
}
