import type { PresentedConnection } from '../../presenters/connections.js';
import { presetFor } from '../../providers/registry.js';
import type { EventView } from '../../schemas/events.js';
import type { LinkView } from '../../schemas/links.js';
import { copyField, httpsBanner, pageHeader, timeTag } from '../components.js';
import type { PageContext } from '../context.js';
import { field } from '../form.js';
import { type Html, html } from '../html.js';
import { layout } from '../layout.js';
import { connectionsTable } from './connections-table.js';
import { eventsTable } from './events-table.js';
import { type LinkDialogSettings, linkDialog } from './link-dialog.js';

/** A link: its connections with their actions, its configuration, its recent events. */
export function linkDetailPage(
  ctx: PageContext,
  data: {
    link: LinkView;
    connections: readonly PresentedConnection[];
    events: readonly EventView[];
    settings: LinkDialogSettings;
    /** The mail servers that log in with each connection (by connection id). */
    consumers?: ReadonlyMap<string, readonly { id: string; name: string }[]>;
    /** The outgoing (SMTP) mail servers, which can email a re-authorization link. */
    outgoing?: readonly { id: string; name: string }[];
  },
): Html {
  const { t } = ctx;
  const { link, settings } = data;
  const secure = settings.baseUrlIsHttps;
  const authorizeLabel =
    data.connections.length === 0 ? t('detail.authorize') : t('detail.authorizeAnother');
  const actions = html`<button type="button" class="button-primary" data-action="authorize" id="authorize" data-testid="authorize"${
    link.provider === 'custom' ? html` data-ask-label="true"` : ''
  }${secure ? '' : html` disabled`}>${authorizeLabel}</button>
<button type="button" class="button-secondary" data-action="diagnose" id="diagnose" data-testid="diagnose">${t('detail.diagnose')}</button>
<button type="button" class="button-secondary" data-action="edit-link" id="edit-link" data-testid="edit-link">${t('detail.edit')}</button>
<button type="button" class="button-danger-quiet" data-action="delete-link" data-testid="delete-link" data-confirm-title="${t(
    'detail.deleteTitle',
  )}" data-confirm-message="${t('detail.deleteMessage', { name: link.name })}" data-confirm-label="${t(
    'detail.delete',
  )}">${t('detail.delete')}</button>`;
  const body = html`<nav class="breadcrumb" aria-label="${t('breadcrumb')}"><a href="/admin/applinks">${t(
    'links.title',
  )}</a> <span aria-hidden="true">›</span> <span aria-current="page">${link.name}</span></nav>
<div id="link-detail" data-link-id="${link.id}" data-testid="link-detail">
${pageHeader(
  html`<span data-testid="link-title">${link.name}</span>`,
  actions,
  link.description || t(`providers.${link.provider}.name`),
)}
${secure ? '' : httpsBanner(ctx, settings.baseUrl)}
${diagnosisSection(ctx)}
<section aria-labelledby="connections-title" class="section">
<h2 id="connections-title">${t('detail.connections')}</h2>
<p class="help">${t('detail.connectionsHelp')}</p>
<p class="help" data-testid="revocation-note">${
    (link.revocationEndpoint ?? presetFor(link.provider).revocationEndpoint)
      ? t('detail.revokesOnRemove')
      : t('detail.noRevocation')
  }</p>
${linkFault(ctx, data.connections)}
${connectionsTable(ctx, data.connections, {
  requestedScopes: link.scopes,
  actionsEnabled: secure,
  consumers: data.consumers ?? new Map(),
})}
</section>
<section aria-labelledby="config-title" class="section">
<h2 id="config-title">${t('detail.configuration')}</h2>
${configuration(ctx, link)}
</section>
<section aria-labelledby="events-title" class="section">
<h2 id="events-title">${t('detail.recentEvents')}</h2>
${
  data.events.length === 0
    ? html`<p class="muted">${t('events.empty')}</p>`
    : eventsTable(ctx, data.events, new Map([[link.id, link.name]]), { showLink: false })
}
<p><a href="/admin/events?linkId=${encodeURIComponent(link.id)}" data-testid="all-events">${t('detail.allEvents')}</a></p>
</section>
</div>
${authorizeDialog(ctx)}
${reauthorizationDialog(ctx, data.outgoing ?? [])}
${linkDialog(ctx, { mode: 'edit', settings, link })}`;
  return layout(ctx, { title: link.name, active: 'applinks', page: 'link-detail', body });
}

/**
 * Diagnose's answer (issue 13 item 1), filled in by the script when the Diagnose button is
 * pressed: one row per check with its status, message and remedy. The status words and the
 * summary's template ride along in data attributes, in the page's language.
 */
function diagnosisSection(ctx: PageContext): Html {
  const { t } = ctx;
  return html`<section aria-labelledby="diagnosis-title" class="section" id="diagnosis" data-testid="diagnosis" hidden data-status-pass="${t(
    'diagnose.status.pass',
  )}" data-status-warn="${t('diagnose.status.warn')}" data-status-fail="${t(
    'diagnose.status.fail',
  )}" data-summary="${t('diagnose.summary')}">
<h2 id="diagnosis-title">${t('detail.diagnosisTitle')}</h2>
<p class="help">${t('detail.diagnosisHelp')}</p>
<p id="diagnosis-summary" role="status" aria-live="polite" data-testid="diagnosis-summary"></p>
<ol class="diagnosis-checks plain-list" id="diagnosis-checks" data-testid="diagnosis-checks"></ol>
</section>`;
}

/**
 * When the provider rejects the link itself (`invalid_client`, an expired secret), every
 * connection fails alike: say once, above them, that fixing the link is the remedy (DESIGN §7).
 */
function linkFault(ctx: PageContext, connections: readonly PresentedConnection[]): Html {
  const fault = connections.find((c) => c.lastError?.scope === 'link')?.lastError;
  if (!fault) return html``;
  return html`<div class="banner banner-error" data-testid="link-fault">
<p class="strong">${ctx.t('detail.linkFaultTitle')}</p>
<p>${fault.message}</p>
<p>${fault.remedy}</p>
</div>`;
}

function configuration(ctx: PageContext, link: LinkView): Html {
  const { t } = ctx;
  const row = (label: string, value: Html | string, testid?: string) =>
    html`<div class="dl-row"><dt>${label}</dt><dd${testid ? html` data-testid="${testid}"` : ''}>${value}</dd></div>`;
  const code = (v: string | null) =>
    v ? html`<code>${v}</code>` : html`<span class="muted">${t('none')}</span>`;
  return html`<dl class="config" data-testid="link-config">
${row(t('fields.provider'), t(`providers.${link.provider}.name`), 'config-provider')}
${row(t('fields.direction'), `${t('linkForm.external')} · ${t('linkForm.outgoing')}`)}
${row(t('fields.clientId'), code(link.clientId), 'config-client-id')}
${row(
  t('fields.clientSecret'),
  link.clientSecretSet
    ? html`<span class="masked" aria-hidden="true">••••••••</span> <span>${t('secretSetMasked')}</span>`
    : html`<span class="muted">${t('secretNotSet')}</span>`,
  'config-client-secret',
)}
${row(t('fields.clientSecretExpiresAt'), timeTag(ctx, link.clientSecretExpiresAt, 'date'))}
${row(t('fields.scopes'), html`<ul class="plain-list">${link.scopes.map((s) => html`<li><code>${s}</code></li>`)}</ul>`, 'config-scopes')}
${link.provider === 'microsoft' ? row(t('fields.accountType'), t(`linkForm.cloud.${link.cloud ?? 'global'}`)) : ''}
${link.provider === 'microsoft' ? row(t('fields.tenant'), code(link.tenant)) : ''}
${row(t('fields.authorizationEndpoint'), code(link.authorizationEndpoint), 'config-authorization-endpoint')}
${row(t('fields.tokenEndpoint'), code(link.tokenEndpoint), 'config-token-endpoint')}
${row(t('fields.issuer'), code(link.issuer))}
${link.provider === 'custom' ? row(t('fields.clientAuthMethod'), code(link.clientAuthMethod)) : ''}
${row(t('fields.createdAt'), timeTag(ctx, link.createdAt))}
${row(t('fields.updatedAt'), timeTag(ctx, link.updatedAt))}
</dl>
${copyField(ctx, {
  id: 'detail-redirect-url',
  label: t('fields.redirectUrl'),
  value: link.redirectUrl,
  help: t('help.redirectUrl'),
  testid: 'detail-redirect-url',
})}`;
}

/** Asked before authorizing a custom link: the account's name, when the provider won't say. */
function authorizeDialog(ctx: PageContext): Html {
  const { t } = ctx;
  return html`<dialog id="authorize-dialog" class="dialog dialog-small" aria-labelledby="authorize-title" data-testid="authorize-dialog">
<form id="authorize-form" class="form" method="post" novalidate>
<h2 id="authorize-title">${t('detail.authorizeTitle')}</h2>
${field({ name: 'accountLabel', label: t('fields.accountLabel'), help: t('help.accountLabel'), autocomplete: 'off' })}
<div class="actions">
<button type="button" class="button-quiet" data-close>${t('cancel')}</button>
<button type="submit" class="button-primary" data-testid="authorize-continue">${t('detail.continueToProvider')}</button>
</div>
</form>
</dialog>`;
}

/**
 * Issue 13: a one-time re-authorization link for a connection's owner, who has no Outlink
 * account. The dialog makes it (and emails it through an outgoing mail server if one is
 * chosen), then shows it once to copy; the script fills in the account and the link.
 */
function reauthorizationDialog(
  ctx: PageContext,
  outgoing: readonly { id: string; name: string }[],
): Html {
  const { t } = ctx;
  return html`<dialog id="invite-dialog" class="dialog dialog-small" aria-labelledby="invite-title" data-testid="invite-dialog">
<form id="invite-form" class="form" method="post" novalidate>
<h2 id="invite-title">${t('reauthorization.title')}</h2>
<p class="help">${t('reauthorization.help')} <span class="strong" id="invite-account" data-testid="invite-account"></span></p>
<div class="field">
<label for="invite-mail-server">${t('reauthorization.mailServer')}</label>
<select id="invite-mail-server" name="mailServer" data-testid="invite-mail-server" aria-describedby="invite-mail-server-help">
<option value="">${t('reauthorization.noEmail')}</option>
${outgoing.map((s) => html`<option value="${s.id}">${s.name}</option>`)}
</select>
<p class="help" id="invite-mail-server-help">${t('reauthorization.mailServerHelp')}</p>
</div>
<div class="field">
<label for="invite-hours">${t('reauthorization.hours')}</label>
<input id="invite-hours" name="expiresInHours" type="number" min="1" max="168" step="1" value="24" data-testid="invite-hours">
</div>
<div id="invite-result" hidden data-testid="invite-result">
${copyField(ctx, {
  id: 'invite-url',
  label: t('reauthorization.link'),
  value: '',
  help: t('reauthorization.shownOnce'),
  testid: 'invite-url',
})}
<p class="small" id="invite-emailed" data-testid="invite-emailed" hidden data-template="${t(
    'reauthorization.emailed',
  )}"></p>
</div>
<div class="actions">
<button type="button" class="button-danger-quiet" id="invite-revoke" data-testid="invite-revoke" data-done="${t(
    'reauthorization.revoked',
  )}">${t('reauthorization.revoke')}</button>
<button type="button" class="button-quiet" data-close>${t('close')}</button>
<button type="submit" class="button-primary" id="invite-create" data-testid="invite-create">${t(
    'reauthorization.create',
  )}</button>
</div>
</form>
</dialog>`;
}
