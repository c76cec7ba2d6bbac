import { MicrosoftClouds } from '../../providers/types.js';
import type { LinkView } from '../../schemas/links.js';
import { copyField, httpsBanner } from '../components.js';
import type { PageContext } from '../context.js';
import { errorSlot, field, formError } from '../form.js';
import { attrs, type Html, html } from '../html.js';

/** What the dialog needs to know about the server: the base URL and what it implies. */
export interface LinkDialogSettings {
  readonly baseUrl: string;
  readonly baseUrlIsHttps: boolean;
  /** The base URL's host is an IP literal: Google will refuse the redirect URL. */
  readonly baseUrlIsIpLiteral: boolean;
}

const PROVIDERS = ['google', 'microsoft', 'custom'] as const;
const PROTOCOLS = ['imap', 'pop3', 'smtp'] as const;

/**
 * The create / edit link dialog (native `<dialog>`, opened with `showModal`, so focus stays
 * inside). Creating walks three steps: application type and direction, service provider,
 * configuration; editing opens at the configuration with the provider fixed.
 */
export function linkDialog(
  ctx: PageContext,
  options: {
    mode: 'create' | 'edit';
    settings: LinkDialogSettings;
    link?: LinkView;
    open?: boolean;
  },
): Html {
  const { t } = ctx;
  const { mode, settings, link } = options;
  const editing = mode === 'edit' && link !== undefined;
  const blocked = !settings.baseUrlIsHttps;
  return html`<dialog ${attrs({
    id: 'link-dialog',
    class: 'dialog dialog-large',
    'aria-labelledby': 'link-dialog-title',
    'data-testid': 'link-dialog',
    'data-open': options.open ? 'true' : undefined,
  })}>
<form ${attrs({
    id: 'link-form',
    class: 'form',
    method: 'post',
    novalidate: true,
    'data-mode': mode,
    'data-link-id': link?.id,
    'data-provider': link?.provider,
    'data-ip-literal': settings.baseUrlIsIpLiteral ? 'true' : undefined,
  })}>
<div class="dialog-header">
<h2 id="link-dialog-title">${editing ? t('linkForm.editTitle', { name: link.name }) : t('linkForm.createTitle')}</h2>
<button type="button" class="dialog-close" data-close aria-label="${t('close')}" data-testid="link-dialog-close">×</button>
</div>
<div class="dialog-body">
${blocked ? httpsBanner(ctx, settings.baseUrl, 'link-dialog-https-banner') : ''}
${editing ? '' : steps(ctx)}
${formError('link-form-error')}
<fieldset class="plain" id="link-fieldset"${blocked ? html` disabled` : ''}>
<legend class="visually-hidden">${editing ? t('linkForm.editTitle', { name: link.name }) : t('linkForm.createTitle')}</legend>
${editing ? '' : stepApplication(ctx)}
${editing ? '' : stepProvider(ctx)}
${stepConfiguration(ctx, settings, editing ? link : undefined)}
</fieldset>
</div>
<div class="dialog-footer">
<button type="button" class="button-quiet" data-close data-testid="link-cancel">${t('cancel')}</button>
<span class="spacer"></span>
${editing ? '' : html`<button type="button" class="button-secondary" id="link-back" data-testid="link-back" hidden>${t('linkForm.back')}</button>`}
${editing ? '' : html`<button type="button" class="button-primary" id="link-next" data-testid="link-next"${blocked ? html` disabled` : ''}>${t('linkForm.next')}</button>`}
<button type="submit" class="button-primary" id="link-save" data-testid="link-save"${editing ? '' : html` hidden`}${blocked ? html` disabled` : ''}>${t('linkForm.save')}</button>
</div>
</form>
</dialog>`;
}

function steps(ctx: PageContext): Html {
  const names = [
    'linkForm.steps.application',
    'linkForm.steps.provider',
    'linkForm.steps.configuration',
  ];
  return html`<ol class="steps" aria-label="${ctx.t('linkForm.steps.label')}">${names.map(
    (key, i) =>
      html`<li data-step-marker="${i + 1}"${i === 0 ? html` aria-current="step"` : ''}><span class="step-number" aria-hidden="true">${i + 1}</span> ${ctx.t(key)}</li>`,
  )}</ol>`;
}

function stepApplication(ctx: PageContext): Html {
  const { t } = ctx;
  return html`<section class="step" data-step="1" aria-labelledby="step-1-title">
<h3 id="step-1-title" class="visually-hidden" tabindex="-1">${t('linkForm.steps.application')}</h3>
<fieldset class="choices">
<legend>${t('linkForm.applicationType')}</legend>
${choice('applicationType', 'external', t('linkForm.external'), t('linkForm.externalHelp'), true)}
</fieldset>
<fieldset class="choices">
<legend>${t('linkForm.direction')}</legend>
${choice('direction', 'outgoing', t('linkForm.outgoing'), t('linkForm.outgoingHelp'), true)}
</fieldset>
</section>`;
}

function stepProvider(ctx: PageContext): Html {
  const { t } = ctx;
  return html`<section class="step" data-step="2" aria-labelledby="step-2-title" hidden>
<h3 id="step-2-title" class="visually-hidden" tabindex="-1">${t('linkForm.steps.provider')}</h3>
<fieldset class="choices choices-cards">
<legend>${t('linkForm.providerLegend')}</legend>
${PROVIDERS.map((p) =>
  choice('provider', p, t(`providers.${p}.name`), t(`providers.${p}.description`), p === 'google'),
)}
</fieldset>
${errorSlot('provider')}
<p class="help">${t('linkForm.providerHelp')}</p>
</section>`;
}

function choice(name: string, value: string, title: string, help: string, checked: boolean): Html {
  return html`<label class="choice"><input ${attrs({
    type: 'radio',
    name,
    value,
    checked,
    'data-testid': `${name}-${value}`,
  })}><span class="choice-text"><span class="choice-title">${title}</span><span class="choice-help">${help}</span></span></label>`;
}

function stepConfiguration(ctx: PageContext, settings: LinkDialogSettings, link?: LinkView): Html {
  const { t } = ctx;
  const provider = link?.provider;
  const expires = link?.clientSecretExpiresAt?.slice(0, 10) ?? '';
  return html`<section class="step" data-step="3" aria-labelledby="step-3-title"${link ? '' : html` hidden`}>
<h3 id="step-3-title" tabindex="-1">${t('linkForm.steps.configuration')} <span class="muted">·</span> ${PROVIDERS.map(
    (p) =>
      html`<span class="muted" data-providers="${p}"${provider === p ? '' : html` hidden`}>${t(`providers.${p}.name`)}</span>`,
  )}</h3>
<p class="banner banner-warning" id="ip-literal-warning" data-testid="ip-literal-warning" data-providers="google" hidden><span aria-hidden="true">! </span>${t(
    'linkForm.ipLiteralWarning',
    { host: hostOf(settings.baseUrl) },
  )}</p>
${field({ name: 'name', label: t('fields.name'), help: t('help.name'), value: link?.name, required: true, autocomplete: 'off' })}
${field({ name: 'description', label: t('fields.description'), help: t('help.description'), value: link?.description, autocomplete: 'off' })}
<fieldset class="choices choices-inline" data-providers="microsoft">
<legend>${t('fields.accountType')}</legend>
${MicrosoftClouds.map((cloud) =>
  choice(
    'cloud',
    cloud,
    t(`linkForm.cloud.${cloud}`),
    t(`linkForm.cloud.${cloud}Help`),
    (link?.cloud ?? 'global') === cloud,
  ),
)}
${errorSlot('cloud')}
</fieldset>
${field({ name: 'tenant', label: t('fields.tenant'), help: t('help.tenant'), value: link?.tenant ?? 'common', providers: 'microsoft', autocomplete: 'off' })}
${field({ name: 'issuer', label: t('fields.issuer'), help: t('help.issuer'), value: link?.issuer ?? '', type: 'url', providers: 'custom', placeholder: 'https://' })}
${field({ name: 'authorizationEndpoint', label: t('fields.authorizationEndpoint'), help: t('help.authorizationEndpoint'), value: link?.authorizationEndpoint, type: 'url', placeholder: 'https://' })}
${field({ name: 'tokenEndpoint', label: t('fields.tokenEndpoint'), help: t('help.tokenEndpoint'), value: link?.tokenEndpoint, type: 'url', placeholder: 'https://' })}
<div class="field" data-providers="custom">
<label for="clientAuthMethod">${t('fields.clientAuthMethod')}</label>
<select id="clientAuthMethod" name="clientAuthMethod" aria-describedby="clientAuthMethod-help clientAuthMethod-error" data-testid="field-clientAuthMethod">
${(['client_secret_post', 'client_secret_basic'] as const).map(
  (m) =>
    html`<option ${attrs({ value: m, selected: (link?.clientAuthMethod ?? 'client_secret_post') === m })}>${m}</option>`,
)}
</select>
<p class="help" id="clientAuthMethod-help">${t('help.clientAuthMethod')}</p>
${errorSlot('clientAuthMethod')}
</div>
${copyField(ctx, {
  id: 'redirectUrl',
  label: t('fields.redirectUrl'),
  value: link?.redirectUrl ?? '',
  help: html`<span id="redirect-pending" class="muted" data-testid="redirect-pending"></span> ${t('help.redirectUrl')}`,
})}
${field({ name: 'clientId', label: t('fields.clientId'), help: t('help.clientId'), value: link?.clientId, required: true, autocomplete: 'off', extra: { spellcheck: 'false' } })}
${field({
  name: 'clientSecret',
  label: t('fields.clientSecret'),
  help: link ? t('help.clientSecretEdit') : t('help.clientSecret'),
  type: 'password',
  required: !link,
  autocomplete: 'new-password',
  badge: link?.clientSecretSet
    ? html`<span class="badge badge-valid" data-testid="secret-set"><span class="badge-icon" aria-hidden="true">✓</span> ${t('secretSet')}</span>`
    : undefined,
})}
${scopesField(ctx, link)}
${field({ name: 'clientSecretExpiresAt', label: t('fields.clientSecretExpiresAt'), help: t('help.clientSecretExpiresAt'), value: expires, type: 'date' })}
</section>`;
}

function scopesField(ctx: PageContext, link?: LinkView): Html {
  const { t } = ctx;
  return html`<fieldset class="choices choices-inline" id="protocols" data-providers="google microsoft">
<legend>${t('fields.protocols')}</legend>
${PROTOCOLS.map(
  (p) =>
    html`<label class="choice choice-check"><input ${attrs({
      type: 'checkbox',
      name: 'protocol',
      value: p,
      'data-testid': `protocol-${p}`,
    })}><span class="choice-text"><span class="choice-title">${t(`protocols.${p}`)}</span><code class="choice-help scope-list" data-scope-list="${p}"></code></span></label>`,
)}
<p class="help">${t('help.protocols')}</p>
</fieldset>
${field({
  name: 'scopes',
  label: t('fields.scopes'),
  help: html`${t('help.scopes')} <span data-providers="google">${t('help.scopesGoogle')}</span><span data-providers="microsoft">${t(
    'help.scopesMicrosoft',
  )}</span><span data-providers="custom">${t('help.scopesCustom')}</span>`,
  value: link?.scopes.join('\n'),
  multiline: true,
})}`;
}

function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).hostname;
  } catch {
    return baseUrl;
  }
}
