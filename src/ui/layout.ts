import { Locales } from '../i18n/i18n.js';
import type { PageContext } from './context.js';
import { attrs, type Html, html } from './html.js';

/** Sections of the administration the navigation offers; later features add theirs here. */
export const NAV = [
  { id: 'applinks', href: '/admin/applinks', label: 'nav.applinks' },
  { id: 'mail-servers', href: '/admin/mail-servers', label: 'nav.mailServers' },
  { id: 'issues', href: '/admin/issues', label: 'nav.issues' },
  { id: 'api-tokens', href: '/admin/api-tokens', label: 'nav.apiTokens' },
  { id: 'events', href: '/admin/events', label: 'nav.events' },
  { id: 'cluster', href: '/admin/cluster', label: 'nav.cluster' },
] as const;
/** A navigation entry, or the account page (reached from the user name). */
export type NavId = (typeof NAV)[number]['id'] | 'account';

/** Texts the client script shows (copy feedback, progress, confirmations), in page language. */
const CLIENT_STRINGS = [
  'copied',
  'copyFailed',
  'networkError',
  'saved',
  'created',
  'redirectPendingCustom',
  'redirectPendingTenant',
  'refreshed',
  'removed',
  'revoked',
  'passwordsDiffer',
  'flowSucceeded',
  'flowFailed',
  'flowPending',
  'confirm',
  'cancel',
] as const;

/** What a page gives the shell. */
export interface LayoutOptions {
  readonly title: string;
  /** The navigation entry to mark current; none on the login page. */
  readonly active?: NavId;
  /** `data-page` of <body>: tells the client script which behaviours to wire. */
  readonly page: string;
  readonly body: Html;
}

/** The page shell: head with the static files, top bar, language switch, main. */
export function layout(ctx: PageContext, options: LayoutOptions): Html {
  const { t } = ctx;
  const strings = Object.fromEntries(CLIENT_STRINGS.map((k) => [k, t(`client.${k}`)]));
  return html`<!doctype html>
<html lang="${ctx.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${ctx.user ? html`<meta name="csrf-token" content="${ctx.user.csrfToken}">` : ''}
<title>${options.title} — ${t('product')}</title>
<link rel="icon" href="data:,">
${ctx.assets.styles.map(
  (href) => html`<link rel="stylesheet" href="${href}">
`,
)}
<script type="module" src="${ctx.assets.script}"></script>
</head>
<body data-page="${options.page}">
<a class="skip-link" href="#main">${t('skipToContent')}</a>
<header class="topbar">
<a class="brand" href="/admin/applinks"><span class="brand-mark" aria-hidden="true">⇄</span> ${t('product')}</a>
${ctx.user ? navigation(ctx, options.active) : ''}
<div class="topbar-tools">
${languageSwitch(ctx)}
${
  ctx.user
    ? html`<a href="/admin/account" class="account-link" data-testid="nav-account"${
        options.active === 'account' ? html` aria-current="page"` : ''
      }><span class="visually-hidden">${t('nav.account')}: </span>${ctx.user.name}</a>
<button type="button" class="button-quiet" id="sign-out" data-testid="sign-out">${t('nav.signOut')}</button>`
    : ''
}
</div>
</header>
<main id="main" tabindex="-1">
<noscript><p class="banner banner-warning">${t('noscript')}</p></noscript>
<div id="flash" class="flash" role="status" aria-live="polite" data-testid="flash"></div>
${options.body}
</main>
${confirmDialog(ctx)}
<div id="live" class="visually-hidden" aria-live="polite"></div>
<div id="client-strings" hidden data-strings="${JSON.stringify(strings)}"></div>
</body>
</html>
`;
}

function navigation(ctx: PageContext, active: NavId | undefined): Html {
  return html`<nav class="main-nav" aria-label="${ctx.t('nav.label')}"><ul>${NAV.map(
    (item) =>
      html`<li><a ${attrs({
        href: item.href,
        'data-testid': `nav-${item.id}`,
        'aria-current': item.id === active ? 'page' : undefined,
      })}>${ctx.t(item.label)}</a></li>`,
  )}</ul></nav>`;
}

/** English / 日本語, each link keeping the current page and query. */
function languageSwitch(ctx: PageContext): Html {
  const names: Record<string, string> = { en: 'English', ja: '日本語' };
  return html`<nav class="lang-switch" aria-label="${ctx.t('language')}"><ul>${Locales.map(
    (locale) =>
      html`<li><a ${attrs({
        href: withLang(ctx.url, locale),
        lang: locale,
        hreflang: locale,
        'data-testid': `lang-${locale}`,
        'aria-current': locale === ctx.locale ? 'true' : undefined,
      })}>${names[locale]}</a></li>`,
  )}</ul></nav>`;
}

/** `url` (path and query) with `lang` set to `locale`. */
export function withLang(url: string, locale: string): string {
  const parsed = new URL(url, 'http://outlink.invalid');
  parsed.searchParams.set('lang', locale);
  return `${parsed.pathname}${parsed.search}`;
}

/** The one confirmation dialog of every page; the client script fills in its texts. */
function confirmDialog(ctx: PageContext): Html {
  return html`<dialog id="confirm-dialog" class="dialog dialog-small" aria-labelledby="confirm-title" aria-describedby="confirm-message" data-testid="confirm-dialog">
<form method="dialog">
<h2 id="confirm-title"></h2>
<p id="confirm-message"></p>
<div class="actions">
<button type="submit" value="cancel" class="button-quiet" data-testid="confirm-cancel">${ctx.t('client.cancel')}</button>
<button type="submit" value="confirm" class="button-danger" id="confirm-ok" data-testid="confirm-ok">${ctx.t('client.confirm')}</button>
</div>
</form>
</dialog>`;
}
