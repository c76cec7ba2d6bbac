import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Locale } from '../../i18n/i18n.js';
import { chooseLocale, LANG_COOKIE, LANG_QUERY, type LocaleChoice } from '../../i18n/locale.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The request's language, chosen by `src/i18n/locale.ts` (`?lang=`, the `outlink_lang`
     * cookie, `Accept-Language`, English): the same for pages, API errors and warnings.
     */
    readonly locale: Locale;
    /** The choice behind `locale`, and whether a page should remember it in the cookie. */
    readonly localeChoice: LocaleChoice;
  }
}

/** Decorates every request with its locale; read lazily, so any hook or handler may ask. */
export const localePlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('localeChoice', {
      getter(this: FastifyRequest) {
        return chooseLocale({
          query: (this.query as Record<string, unknown> | undefined)?.[LANG_QUERY],
          cookie: this.cookies?.[LANG_COOKIE],
          acceptLanguage: this.headers['accept-language'],
        });
      },
    });
    app.decorateRequest('locale', {
      getter(this: FastifyRequest) {
        return this.localeChoice.locale;
      },
    });
  },
  { name: 'outlink-locale', fastify: '5.x', dependencies: ['@fastify/cookie'] },
);
