import { ConnectionStatuses } from '../../domain/connection.js';
import type { LinkView } from '../../schemas/links.js';
import { cell, httpsBanner, linkDetailHref, pageHeader, STATUS_ICONS } from '../components.js';
import type { PageContext } from '../context.js';
import { type Html, html } from '../html.js';
import { layout } from '../layout.js';
import { type LinkDialogSettings, linkDialog } from './link-dialog.js';

/** Statuses in the order the summary names them: good news first (the catalog's order). */
const SUMMARY_ORDER = ConnectionStatuses;

/** The Application links page; `openCreate` opens the create dialog (`/admin/applinks/new`). */
export function linksListPage(
  ctx: PageContext,
  data: {
    links: readonly LinkView[];
    nextCursor?: string;
    settings: LinkDialogSettings;
    openCreate: boolean;
  },
): Html {
  const { t } = ctx;
  const { settings } = data;
  // Stays usable with an http:// base URL: the dialog then shows why the form is blocked.
  const create = html`<a href="/admin/applinks/new" class="button button-primary" id="create-link" data-testid="create-link">${t(
    'links.create',
  )}</a>`;
  const body = html`${pageHeader(t('links.title'), create, t('links.intro'))}
${settings.baseUrlIsHttps ? '' : httpsBanner(ctx, settings.baseUrl)}
${data.links.length === 0 ? emptyState(ctx) : linksTable(ctx, data.links)}
${
  data.nextCursor
    ? html`<nav class="pager" aria-label="${t('pager.label')}"><a href="/admin/applinks?cursor=${encodeURIComponent(
        data.nextCursor,
      )}" data-testid="links-next">${t('pager.next')}</a></nav>`
    : ''
}
${linkDialog(ctx, { mode: 'create', settings, open: data.openCreate })}`;
  return layout(ctx, { title: t('links.title'), active: 'applinks', page: 'links', body });
}

function emptyState(ctx: PageContext): Html {
  return html`<div class="empty" data-testid="links-empty"><p><strong>${ctx.t('links.emptyTitle')}</strong></p><p>${ctx.t(
    'links.emptyBody',
  )}</p></div>`;
}

function linksTable(ctx: PageContext, links: readonly LinkView[]): Html {
  const { t } = ctx;
  return html`<table class="table" id="links-table" data-testid="links-table">
<caption class="visually-hidden">${t('links.title')}</caption>
<thead><tr><th scope="col">${t('links.columns.name')}</th><th scope="col">${t(
    'links.columns.provider',
  )}</th><th scope="col">${t('links.columns.connections')}</th><th scope="col"><span class="visually-hidden">${t(
    'links.columns.actions',
  )}</span></th></tr></thead>
<tbody>${links.map(
    (link) => html`<tr data-link-id="${link.id}">
${cell(
  t('links.columns.name'),
  html`<a href="${linkDetailHref(link.id)}" class="strong" data-testid="link-name">${link.name}</a>${
    link.description ? html`<div class="muted small">${link.description}</div>` : ''
  }`,
)}
${cell(t('links.columns.provider'), t(`providers.${link.provider}.name`))}
${cell(t('links.columns.connections'), connectionSummary(ctx, link.connections), { 'data-testid': 'link-summary' })}
${cell(
  t('links.columns.actions'),
  html`<a href="${linkDetailHref(link.id)}" class="button button-secondary button-small">${t('links.open')}<span class="visually-hidden"> ${link.name}</span></a>`,
)}
</tr>`,
  )}</tbody>
</table>`;
}

/** "✓ 2 connected · ✕ 1 needs re-authorization", or "○ Not authorized" with no connection. */
export function connectionSummary(
  ctx: PageContext,
  connections: readonly { status: string }[],
): Html {
  if (connections.length === 0) {
    return html`<span class="summary-part badge-not_authorized" data-status="not_authorized"><span aria-hidden="true" class="badge-icon">${STATUS_ICONS.not_authorized}</span> ${ctx.t(
      'status.not_authorized',
    )}</span>`;
  }
  const parts = SUMMARY_ORDER.map((status) => ({
    status,
    count: connections.filter((c) => c.status === status).length,
  })).filter((p) => p.count > 0);
  return html`${parts.map(
    (p, i) =>
      html`${i > 0 ? html`<span aria-hidden="true" class="sep"> · </span><span class="visually-hidden">, </span>` : ''}<span class="summary-part badge-${p.status}" data-status="${p.status}"><span aria-hidden="true" class="badge-icon">${STATUS_ICONS[p.status]}</span> ${ctx.tn(
        `summary.${p.status}`,
        p.count,
      )}</span>`,
  )}`;
}
