import type { ConnectionStatus } from '../domain/connection.js';
import type { PageContext } from './context.js';
import { attrs, type Html, html } from './html.js';

/** Connection statuses (DESIGN §7) and "not authorized", each with its own shape and text. */
export const STATUS_ICONS: Readonly<Record<ConnectionStatus | 'not_authorized', string>> = {
  valid: '✓',
  refresh_failing: '!',
  reauthorization_required: '✕',
  not_authorized: '○',
};

/** A status badge: icon and words, never colour alone. */
export function statusBadge(ctx: PageContext, status: string): Html {
  const known = Object.hasOwn(STATUS_ICONS, status)
    ? (status as keyof typeof STATUS_ICONS)
    : undefined;
  return html`<span class="badge badge-${known ?? 'unknown'}" data-status="${status}"><span class="badge-icon" aria-hidden="true">${
    known ? STATUS_ICONS[known] : '?'
  }</span> ${ctx.t(`status.${known ?? 'unknown'}`)}</span>`;
}

/**
 * A `<time>` element: relative ("in 40 minutes") or absolute, with the exact instant in
 * `title`; absolute ones are re-rendered in the browser's time zone by the client script.
 */
export function timeTag(
  ctx: PageContext,
  iso: string | null | undefined,
  mode: 'relative' | 'dateTime' | 'date' = 'dateTime',
): Html {
  if (!iso) return html`<span class="muted">${ctx.t('none')}</span>`;
  const text = ctx.dates[mode](iso);
  return html`<time ${attrs({
    datetime: iso,
    title: mode === 'relative' ? ctx.dates.dateTime(iso) : undefined,
    'data-format': mode === 'relative' ? undefined : mode,
  })}>${text}</time>`;
}

/** A read-only value with a copy button; `id` names the input. */
export function copyField(
  ctx: PageContext,
  options: { id: string; label: string; value: string; help?: Html | string; testid?: string },
): Html {
  const helpId = options.help ? `${options.id}-help` : undefined;
  return html`<div class="field">
<label for="${options.id}">${options.label}</label>
<div class="copy-row">
<input ${attrs({
    id: options.id,
    type: 'text',
    readonly: true,
    value: options.value,
    'aria-describedby': helpId,
    'data-testid': options.testid ?? options.id,
    spellcheck: 'false',
  })}>
<button type="button" class="button-secondary" data-copy="${options.id}" data-testid="${options.testid ?? options.id}-copy">${ctx.t('copy')}</button>
</div>
${options.help ? html`<p class="help" id="${helpId}">${options.help}</p>` : ''}
</div>`;
}

/**
 * The banner that explains why nothing can be configured while the base URL is http://.
 * A page shows it and so does its link dialog: each copy needs an id of its own.
 */
export function httpsBanner(ctx: PageContext, baseUrl: string, id = 'https-banner'): Html {
  return html`<div class="banner banner-error" role="alert" id="${id}" data-testid="https-banner">
<p><strong><span aria-hidden="true">✕ </span>${ctx.t('https.title')}</strong></p>
<p>${ctx.t('https.body', { baseUrl })}</p>
<p>${ctx.t('https.remedy')}</p>
</div>`;
}

/** Page title with the actions that belong to it. */
export function pageHeader(title: Html | string, actions?: Html, intro?: Html | string): Html {
  return html`<div class="page-header">
<div><h1>${title}</h1>${intro ? html`<p class="intro">${intro}</p>` : ''}</div>
${actions ? html`<div class="page-actions">${actions}</div>` : ''}
</div>`;
}

/** A `<td>` that shows its column name on narrow screens, where rows become cards. */
export function cell(
  label: string,
  content: Html | string,
  extra: Record<string, string> = {},
): Html {
  return html`<td ${attrs({ 'data-label': label, ...extra })}>${content}</td>`;
}

/** The link to a page of the UI in the current language (the cookie remembers it). */
export function linkDetailHref(id: string): string {
  return `/admin/applinks/${encodeURIComponent(id)}`;
}
