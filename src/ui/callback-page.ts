import { type Locale, translate } from '../i18n/i18n.js';
import { STATIC_PREFIX, STYLESHEETS } from './assets.js';
import { type Html, html } from './html.js';

/** What the callback page shows: the flow's outcome, already localised. */
export interface CallbackView {
  readonly status: string;
  readonly linkId?: string;
  readonly connectionId?: string;
  readonly error?: {
    readonly code: string;
    readonly message: string;
    readonly remedy: string;
    readonly providerError?: string;
    readonly providerDescription?: string;
  };
}

/**
 * The page the browser lands on after the provider: connected, or what failed and what to
 * do, with the way back to the link's page when the flow names its link.
 */
export function renderCallbackPage(locale: Locale, view: CallbackView, account?: string): string {
  const t = (key: string, params: Record<string, string> = {}) => translate(locale, key, params);
  const ok = view.status === 'succeeded';
  const title = ok ? t('callback.connectedTitle') : t('callback.failedTitle');
  const body = ok
    ? html`<p class="banner banner-success"><span aria-hidden="true">✓ </span>${t(
        'callback.connected',
        {
          account: account ?? '',
        },
      )}</p>`
    : failure(t, view);
  const back = view.linkId
    ? html`<p><a class="button button-primary" href="/admin/applinks/${encodeURIComponent(view.linkId)}" data-testid="callback-back">${t(
        'callback.backToLink',
      )}</a></p>`
    : html`<p>${t('callback.close')}</p>`;
  return html`<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} — Outlink</title>
<link rel="icon" href="data:,">${STYLESHEETS.map(
    (name) => html`<link rel="stylesheet" href="${STATIC_PREFIX}${name}">`,
  )}</head>
<body data-page="callback"><main id="main" class="callback"><h1 data-status="${view.status}">${title}</h1>${body}
${back}</main></body></html>`.value;
}

function failure(t: (key: string) => string, view: CallbackView): Html {
  const e = view.error;
  return html`<div class="banner banner-error" role="alert">
<p><strong><span aria-hidden="true">✕ </span>${e?.message ?? ''}</strong></p>
<p>${e?.remedy ?? ''}</p>
${
  e?.providerError
    ? html`<p>${t('callback.providerSaid')} <code>${e.providerError}${
        e.providerDescription ? `: ${e.providerDescription}` : ''
      }</code></p>`
    : ''
}
<p><small>${t('callback.code')} <code>${e?.code ?? ''}</code></small></p>
</div>`;
}
