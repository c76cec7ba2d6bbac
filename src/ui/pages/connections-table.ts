import type { PresentedConnection } from '../../presenters/connections.js';
import { cell, statusBadge, timeTag } from '../components.js';
import type { PageContext } from '../context.js';
import { type Html, html } from '../html.js';
import { mailServerAnchor } from './mail-servers.js';

/** Scopes the identity step adds to every authorization; not "extra" grants worth flagging. */
const IDENTITY_SCOPES = new Set(['openid', 'email', 'profile']);

/**
 * A link's connections: account, status, token expiry, last refresh, scopes granted against
 * requested, last error with its remedy, and the per-connection actions.
 */
export function connectionsTable(
  ctx: PageContext,
  connections: readonly PresentedConnection[],
  options: {
    requestedScopes: readonly string[];
    actionsEnabled: boolean;
    /** The mail servers that log in with each connection (by connection id). */
    consumers?: ReadonlyMap<string, readonly { id: string; name: string }[]>;
  },
): Html {
  const { t } = ctx;
  if (connections.length === 0) {
    return html`<div class="empty" data-testid="connections-empty"><p>${statusBadge(ctx, 'not_authorized')}</p><p>${t(
      'detail.noConnections',
    )}</p></div>`;
  }
  const col = (k: string) => t(`detail.columns.${k}`);
  return html`<table class="table" id="connections-table" data-testid="connections-table">
<caption class="visually-hidden">${t('detail.connections')}</caption>
<thead><tr>${['account', 'status', 'expires', 'lastRefresh', 'scopes', 'lastError'].map(
    (k) => html`<th scope="col">${col(k)}</th>`,
  )}<th scope="col"><span class="visually-hidden">${col('actions')}</span></th></tr></thead>
<tbody>${connections.map(
    (c) => html`<tr data-connection-id="${c.id}" data-testid="connection-row">
${cell(
  col('account'),
  html`<span class="strong" data-testid="connection-account">${c.account}</span>${usedBy(
    ctx,
    options.consumers?.get(c.id) ?? [],
  )}`,
)}
${cell(col('status'), statusBadge(ctx, c.status), { 'data-testid': 'connection-status' })}
${cell(col('expires'), timeTag(ctx, c.expiresAt, 'relative'))}
${cell(col('lastRefresh'), timeTag(ctx, c.lastRefreshedAt, 'relative'))}
${cell(col('scopes'), scopeComparison(ctx, c.scopes, options.requestedScopes))}
${cell(col('lastError'), lastError(ctx, c))}
${cell(col('actions'), actions(ctx, c, options.actionsEnabled))}
</tr>`,
  )}</tbody>
</table>`;
}

function scopeComparison(
  ctx: PageContext,
  granted: readonly string[],
  requested: readonly string[],
): Html {
  const missing = requested.filter((s) => !granted.includes(s));
  // Identity scopes are added to every authorization; shown only when the link asks for them.
  const shown = granted.filter((s) => requested.includes(s) || !IDENTITY_SCOPES.has(s));
  return html`<ul class="scope-compare">${shown.map(
    (s) =>
      html`<li><span aria-hidden="true" class="ok">✓ </span><code>${s}</code>${
        requested.includes(s)
          ? ''
          : html` <span class="muted small">(${ctx.t('detail.scopeExtra')})</span>`
      }</li>`,
  )}${missing.map(
    (s) =>
      html`<li class="missing" data-testid="scope-missing"><span aria-hidden="true">✕ </span><code>${s}</code> <span class="small">(${ctx.t(
        'detail.scopeMissing',
      )})</span></li>`,
  )}</ul>`;
}

function lastError(ctx: PageContext, c: PresentedConnection): Html {
  const e = c.lastError;
  if (!e) return html`<span class="muted">${ctx.t('none')}</span>`;
  return html`<div class="last-error" data-testid="connection-error">
<p><strong>${e.message}</strong></p>
<p><span class="label">${ctx.t('detail.remedy')}</span> ${e.remedy}</p>
${
  e.providerError
    ? html`<p class="small">${ctx.t('callback.providerSaid')} <code>${e.providerError}${
        e.providerDescription ? `: ${e.providerDescription}` : ''
      }</code></p>`
    : ''
}
<p class="small muted">${ctx.t(`detail.errorScope.${e.scope === 'link' ? 'link' : 'connection'}`)} · ${timeTag(
    ctx,
    e.at,
    'relative',
  )} · <code>${e.code}</code></p>
</div>`;
}

/**
 * The mail servers that log in with this connection (its consumers), each linking to its row:
 * removing the connection is refused while they use it.
 */
function usedBy(ctx: PageContext, servers: readonly { id: string; name: string }[]): Html {
  if (servers.length === 0) return html``;
  return html`<div class="used-by small" data-testid="connection-used-by"><span class="muted">${ctx.t(
    'mailServers.usedBy',
  )}</span> ${servers.map(
    (s, i) =>
      html`${i > 0 ? ', ' : ''}<a href="/admin/mail-servers#${mailServerAnchor(s.id)}" data-testid="used-by-mail-server">${s.name}</a>`,
  )}</div>`;
}

function actions(ctx: PageContext, c: PresentedConnection, enabled: boolean): Html {
  const { t } = ctx;
  const label = (key: string) =>
    html`${t(key)}<span class="visually-hidden"> (${c.account})</span>`;
  return html`<div class="row-actions">
<button type="button" class="button-secondary button-small" data-action="reauthorize" data-connection-id="${c.id}" data-testid="reauthorize"${
    enabled ? '' : html` disabled`
  }>${label('detail.reauthorize')}</button>
<button type="button" class="button-secondary button-small" data-action="invite" data-connection-id="${c.id}" data-account="${c.account}" data-testid="invite"${
    enabled ? '' : html` disabled`
  }>${label('reauthorization.button')}</button>
<button type="button" class="button-secondary button-small" data-action="refresh" data-connection-id="${c.id}" data-testid="refresh-now">${label(
    'detail.refreshNow',
  )}</button>
<button type="button" class="button-danger-quiet button-small" data-action="remove-connection" data-connection-id="${c.id}" data-confirm-title="${t(
    'detail.removeTitle',
  )}" data-confirm-message="${t('detail.removeMessage', { account: c.account })}" data-confirm-label="${t(
    'detail.remove',
  )}" data-testid="remove-connection">${label('detail.remove')}</button>
</div>`;
}
