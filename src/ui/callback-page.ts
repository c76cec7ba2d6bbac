import { type Locale, translate } from './i18n/i18n.js';

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

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** The page the browser lands on after the provider: connected, or what failed and what to do. */
export function renderCallbackPage(locale: Locale, view: CallbackView, account?: string): string {
  const t = (key: string, params: Record<string, string> = {}) =>
    escapeHtml(translate(locale, key, params));
  const ok = view.status === 'succeeded';
  const title = ok ? t('callback.connectedTitle') : t('callback.failedTitle');
  const body = ok
    ? `<p>${t('callback.connected', { account: account ?? '' })}</p>`
    : `<p><strong>${escapeHtml(view.error?.message ?? '')}</strong></p>
<p>${escapeHtml(view.error?.remedy ?? '')}</p>${
        view.error?.providerError
          ? `<p>${t('callback.providerSaid')} <code>${escapeHtml(view.error.providerError)}${
              view.error.providerDescription
                ? `: ${escapeHtml(view.error.providerDescription)}`
                : ''
            }</code></p>`
          : ''
      }<p><small>${t('callback.code')} <code>${escapeHtml(view.error?.code ?? '')}</code></small></p>`;
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} — Outlink</title></head>
<body><main><h1 data-status="${escapeHtml(view.status)}">${title}</h1>${body}
<p>${t('callback.close')}</p></main></body></html>`;
}
