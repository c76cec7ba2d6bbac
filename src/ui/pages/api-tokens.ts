import type { ApiTokenView } from '../../schemas/api-tokens.js';
import { cell, copyField, linkDetailHref, pageHeader, timeTag } from '../components.js';
import type { PageContext } from '../context.js';
import { errorSlot, field, formError } from '../form.js';
import { type Html, html } from '../html.js';
import { layout } from '../layout.js';

/** API tokens: create (the token is shown once), list, revoke. */
export function apiTokensPage(
  ctx: PageContext,
  data: { tokens: readonly ApiTokenView[]; links: readonly { id: string; name: string }[] },
): Html {
  const { t } = ctx;
  const names = new Map(data.links.map((l) => [l.id, l.name]));
  const body = html`${pageHeader(t('tokens.title'), undefined, t('tokens.intro'))}
<section class="section card" aria-labelledby="token-create-title">
<h2 id="token-create-title">${t('tokens.create')}</h2>
<form id="token-form" class="form" method="post" novalidate data-testid="token-form">
${formError('token-form-error')}
${field({ name: 'name', label: t('tokens.name'), help: t('tokens.nameHelp'), required: true, autocomplete: 'off' })}
<fieldset class="choices">
<legend>${t('tokens.scope')}</legend>
<label class="choice"><input type="radio" name="scope" value="admin" checked data-testid="token-scope-admin"><span class="choice-text"><span class="choice-title">admin</span><span class="choice-help">${t(
    'tokens.scopeAdmin',
  )}</span></span></label>
<label class="choice"><input type="radio" name="scope" value="token:read" data-testid="token-scope-read"><span class="choice-text"><span class="choice-title">token:read</span><span class="choice-help">${t(
    'tokens.scopeRead',
  )}</span></span></label>
<label class="choice"><input type="radio" name="scope" value="metrics:read" data-testid="token-scope-metrics"><span class="choice-text"><span class="choice-title">metrics:read</span><span class="choice-help">${t(
    'tokens.scopeMetrics',
  )}</span></span></label>
${errorSlot('scopes')}
</fieldset>
<fieldset class="choices" id="token-links" data-testid="token-links" hidden>
<legend>${t('tokens.links')}</legend>
${
  data.links.length === 0
    ? html`<p class="muted">${t('tokens.noLinks')}</p>`
    : data.links.map(
        (l) =>
          html`<label class="choice choice-check"><input type="checkbox" name="linkIds" value="${l.id}"><span class="choice-text"><span class="choice-title">${l.name}</span></span></label>`,
      )
}
<p class="help">${t('tokens.linksHelp')}</p>
${errorSlot('linkIds')}
</fieldset>
<div class="actions"><button type="submit" class="button-primary" data-testid="token-create">${t('tokens.createButton')}</button></div>
</form>
<div id="token-created" class="banner banner-success" data-testid="token-created" hidden>
<p><strong>${t('tokens.createdTitle')}</strong></p>
<p>${t('tokens.createdBody')}</p>
${copyField(ctx, { id: 'new-token', label: t('tokens.token'), value: '', testid: 'new-token' })}
<div class="actions"><button type="button" class="button-secondary" id="token-done" data-testid="token-done">${t('tokens.done')}</button></div>
</div>
</section>
<section class="section" aria-labelledby="token-list-title">
<h2 id="token-list-title">${t('tokens.existing')}</h2>
${data.tokens.length === 0 ? html`<p class="muted" data-testid="tokens-empty">${t('tokens.empty')}</p>` : tokensTable(ctx, data.tokens, names)}
</section>`;
  return layout(ctx, { title: t('tokens.title'), active: 'api-tokens', page: 'api-tokens', body });
}

function tokensTable(
  ctx: PageContext,
  tokens: readonly ApiTokenView[],
  names: ReadonlyMap<string, string>,
): Html {
  const { t } = ctx;
  const col = (k: string) => t(`tokens.columns.${k}`);
  return html`<table class="table" data-testid="tokens-table">
<caption class="visually-hidden">${t('tokens.existing')}</caption>
<thead><tr>${['name', 'scope', 'reach', 'createdBy', 'createdAt', 'lastUsed'].map(
    (k) => html`<th scope="col">${col(k)}</th>`,
  )}<th scope="col"><span class="visually-hidden">${col('actions')}</span></th></tr></thead>
<tbody>${tokens.map(
    (tok) => html`<tr data-token-id="${tok.id}" data-testid="token-row">
${cell(col('name'), html`<span class="strong">${tok.name}</span>`)}
${cell(col('scope'), html`<code>${tok.scopes.join(', ')}</code>`)}
${cell(col('reach'), reach(ctx, tok, names))}
${cell(col('createdBy'), tok.createdBy)}
${cell(col('createdAt'), timeTag(ctx, tok.createdAt))}
${cell(col('lastUsed'), tok.lastUsedAt ? timeTag(ctx, tok.lastUsedAt, 'relative') : html`<span class="muted">${t('tokens.neverUsed')}</span>`)}
${cell(
  col('actions'),
  html`<button type="button" class="button-danger-quiet button-small" data-action="revoke-token" data-token-id="${tok.id}" data-confirm-title="${t(
    'tokens.revokeTitle',
  )}" data-confirm-message="${t('tokens.revokeMessage', { name: tok.name })}" data-confirm-label="${t(
    'tokens.revoke',
  )}" data-testid="revoke-token">${t('tokens.revoke')}<span class="visually-hidden"> ${tok.name}</span></button>`,
)}
</tr>`,
  )}</tbody>
</table>`;
}

function reach(ctx: PageContext, tok: ApiTokenView, names: ReadonlyMap<string, string>): Html {
  if (tok.scopes.includes('admin')) return html`${ctx.t('tokens.reachAll')}`;
  const links = tok.linkIds.map((id) => {
    const name = names.get(id);
    return name
      ? html`<a href="${linkDetailHref(id)}">${name}</a>`
      : html`<code>${id.slice(0, 8)}</code>`;
  });
  const connections = tok.connectionIds.length
    ? html`<span>${ctx.tn('tokens.connectionCount', tok.connectionIds.length)}</span>`
    : '';
  return html`<span class="reach">${links.map((l, i) => html`${i ? ', ' : ''}${l}`)}${links.length && connections ? ', ' : ''}${connections}</span>`;
}
