import { MailProtocols, MailSecurities, SASL_MECHANISMS } from '../../domain/mail-server.js';
import { mailPresets } from '../../providers/mail-registry.js';
import type { ProviderId } from '../../providers/types.js';
import type { PageContext } from '../context.js';
import { errorSlot, field, formError } from '../form.js';
import { attrs, type Html, html } from '../html.js';
import { mailHandlerSection, type OutgoingServerChoice } from './mail-handler-section.js';

/** A link the dialog offers, with the connections (accounts) it can log in with. */
export interface MailServerLinkChoice {
  readonly id: string;
  readonly name: string;
  readonly provider: ProviderId;
  readonly connections: readonly { id: string; account: string; status: string }[];
}

/**
 * The create / edit mail server dialog (native `<dialog>` opened with `showModal`, so focus
 * stays inside): protocol, the provider's presets, server and security (a visible warning for
 * a plain connection), the mailbox, and how it logs in — a link's connection, authorized right
 * here when the mailbox has none yet, or a write-only password — then, for an incoming
 * server, the mail handler's settings (`outgoing` are the servers that may acknowledge new
 * issues). The script switches it between creating and editing and fills it in from the API.
 */
export function mailServerDialog(
  ctx: PageContext,
  links: readonly MailServerLinkChoice[],
  outgoing: readonly OutgoingServerChoice[],
): Html {
  const { t } = ctx;
  return html`<dialog id="mail-server-dialog" class="dialog dialog-large" aria-labelledby="ms-dialog-title" data-testid="mail-server-dialog">
<form id="mail-server-form" class="form" method="post" novalidate data-mode="create">
<div class="dialog-header">
<h2 id="ms-dialog-title"><span data-mode-only="create">${t('mailServers.form.createTitle')}</span><span data-mode-only="edit" hidden>${t(
    'mailServers.form.editTitle',
  )}<span class="muted">: </span><span id="ms-dialog-name"></span></span></h2>
<button type="button" class="dialog-close" data-close aria-label="${t('close')}" data-testid="mail-server-dialog-close">×</button>
</div>
<div class="dialog-body">
${formError('mail-server-form-error')}
${protocolChoice(ctx)}
${field({ name: 'name', label: t('mailServers.form.name'), help: t('mailServers.form.nameHelp'), required: true, autocomplete: 'off' })}
<fieldset class="plain">
<legend>${t('mailServers.form.server')}</legend>
${presetList(ctx)}
<div class="field-row">
${field({ name: 'host', label: t('mailServers.form.host'), help: t('mailServers.form.hostHelp'), required: true, autocomplete: 'off', extra: { spellcheck: 'false' } })}
${field({ name: 'port', label: t('mailServers.form.port'), help: t('mailServers.form.portHelp'), autocomplete: 'off', extra: { inputmode: 'numeric' } })}
</div>
${securityChoice(ctx)}
</fieldset>
${field({ name: 'username', label: t('mailServers.form.username'), help: t('mailServers.form.usernameHelp'), required: true, autocomplete: 'off', extra: { spellcheck: 'false' } })}
${authentication(ctx, links)}
<div data-protocols="imap">
${field({ name: 'folder', label: t('mailServers.form.folder'), help: t('mailServers.form.folderHelp'), placeholder: 'INBOX', autocomplete: 'off' })}
</div>
${mailHandlerSection(ctx, outgoing)}
<details class="advanced" data-auth="oauth2">
<summary>${t('mailServers.form.advanced')}</summary>
<div class="field">
<label for="saslMechanism">${t('mailServers.form.saslMechanism')}</label>
<select id="saslMechanism" name="saslMechanism" aria-describedby="saslMechanism-help saslMechanism-error" data-testid="field-saslMechanism">
<option value="">${t('mailServers.form.saslAutomatic')}</option>
${SASL_MECHANISMS.map((m) => html`<option value="${m}">${m}</option>`)}
</select>
<p class="help" id="saslMechanism-help">${t('mailServers.form.saslMechanismHelp')}</p>
${errorSlot('saslMechanism')}
</div>
</details>
</div>
<div class="dialog-footer">
<button type="button" class="button-quiet" data-close data-testid="mail-server-cancel">${t('cancel')}</button>
<span class="spacer"></span>
<button type="submit" class="button-primary" id="mail-server-save" data-testid="mail-server-save">${t('mailServers.form.save')}</button>
</div>
</form>
</dialog>`;
}

function protocolChoice(ctx: PageContext): Html {
  const { t } = ctx;
  return html`<fieldset class="choices choices-cards" id="ms-protocols">
<legend>${t('mailServers.form.protocol')}</legend>
${MailProtocols.map((p) =>
  choice({
    name: 'protocol',
    value: p,
    title: t(`mailServers.form.protocols.${p}.title`),
    help: t(`mailServers.form.protocols.${p}.help`),
    checked: p === 'imap',
  }),
)}
<p class="help" data-mode-only="edit" hidden>${t('mailServers.form.protocolFixed')}</p>
${errorSlot('protocol')}
</fieldset>`;
}

/** One button per server of each preset; the script shows those of the protocol and link. */
function presetList(ctx: PageContext): Html {
  const { t } = ctx;
  const buttons = Object.values(mailPresets).flatMap((preset) =>
    MailProtocols.flatMap((protocol) =>
      preset.servers[protocol].map(
        (server) =>
          html`<button ${attrs({
            type: 'button',
            class: 'button-secondary button-small preset',
            'data-preset-provider': preset.provider,
            'data-protocol': protocol,
            'data-host': server.host,
            'data-port': server.port,
            'data-security': server.security,
            'data-testid': `preset-${preset.id}-${protocol}-${server.port}`,
          })}>${t('mailServers.form.presetButton', {
            preset: preset.name,
            host: server.host,
            port: server.port,
            security: t(`mailServers.security.${server.security}`),
          })}</button>`,
      ),
    ),
  );
  return html`<div class="field" id="ms-presets">
<span class="field-label" id="ms-presets-label">${t('mailServers.form.presets')}</span>
<div class="preset-list" role="group" aria-labelledby="ms-presets-label" aria-describedby="ms-presets-help">${buttons}</div>
<p class="help" id="ms-presets-none" data-testid="presets-none" hidden>${t('mailServers.form.presetsNone')}</p>
<p class="help" id="ms-presets-help">${t('mailServers.form.presetsHelp')}</p>
</div>`;
}

function securityChoice(ctx: PageContext): Html {
  const { t } = ctx;
  return html`<fieldset class="choices choices-inline" id="ms-security">
<legend>${t('mailServers.form.security')}</legend>
${MailSecurities.map((s) =>
  choice({
    name: 'security',
    value: s,
    title: t(`mailServers.security.${s}`),
    help: t(`mailServers.securityHelp.${s}`),
    checked: s === 'tls',
  }),
)}
${errorSlot('security')}
</fieldset>
<div class="banner banner-warning" id="ms-plain-warning" role="alert" data-testid="ms-plain-warning" hidden>
<p class="strong">${t('mailServers.notEncrypted')}</p>
<p>${t('mailServers.plainWarning')}</p>
</div>`;
}

function authentication(ctx: PageContext, links: readonly MailServerLinkChoice[]): Html {
  const { t } = ctx;
  return html`<fieldset class="plain" id="ms-auth">
<legend>${t('mailServers.form.authentication')}</legend>
<div class="choices choices-inline">
${choice({ name: 'authMethod', value: 'oauth2', title: t('mailServers.form.oauth2'), help: t('mailServers.form.oauth2Help'), checked: true })}
${choice({ name: 'authMethod', value: 'password', title: t('mailServers.form.password'), help: t('mailServers.form.passwordHelp'), checked: false })}
</div>
${errorSlot('authMethod')}
<div class="auth-panel" data-auth="oauth2">
${links.length === 0 ? html`<p class="banner banner-warning" data-testid="ms-no-links">${t('mailServers.form.noLinks')} <a href="/admin/applinks">${t('nav.applinks')}</a></p>` : ''}
<div class="field">
<label for="linkId">${t('mailServers.form.link')}<span class="required" aria-hidden="true"> *</span></label>
<select id="linkId" name="linkId" aria-describedby="linkId-help linkId-error" data-testid="field-linkId">
<option value="">${t('mailServers.form.linkChoose')}</option>
${links.map(
  (l) =>
    html`<option ${attrs({
      value: l.id,
      'data-provider': l.provider,
      'data-connections': JSON.stringify(l.connections),
    })}>${l.name} (${t(`providers.${l.provider}.name`)})</option>`,
)}
</select>
<p class="help" id="linkId-help">${t('mailServers.form.linkHelp')}</p>
${errorSlot('linkId')}
</div>
<div class="field">
<label for="connectionId">${t('mailServers.form.connection')}<span class="required" aria-hidden="true"> *</span></label>
<div class="connection-row">
<select id="connectionId" name="connectionId" aria-describedby="connectionId-help ms-connection-note connectionId-error" data-testid="field-connectionId" disabled>
<option value="">${t('mailServers.form.connectionChoose')}</option>
</select>
<button type="button" class="button-secondary" id="ms-authorize" aria-describedby="ms-authorize-help" data-testid="ms-authorize" disabled>${t(
    'mailServers.form.authorize',
  )}</button>
</div>
<p class="help" id="connectionId-help">${t('mailServers.form.connectionHelp')}</p>
<p class="connection-note" id="ms-connection-note" data-testid="ms-connection-note" hidden></p>
${errorSlot('connectionId')}
<p class="help" id="ms-authorize-help">${t('mailServers.form.authorizeHelp')}</p>
<div class="authorize-status" id="ms-authorize-status" role="status" aria-live="polite" data-testid="ms-authorize-status"></div>
<div><button type="button" class="button-quiet button-small" id="ms-authorize-stop" data-testid="ms-authorize-stop" hidden>${t(
    'mailServers.form.authorizeStop',
  )}</button></div>
</div>
</div>
<div class="auth-panel" data-auth="password" hidden>
${field({
  name: 'password',
  label: t('mailServers.form.password'),
  help: html`<span data-mode-only="create">${t('mailServers.form.passwordHelp')}</span><span data-mode-only="edit" hidden>${t(
    'mailServers.form.passwordEditHelp',
  )}</span>`,
  type: 'password',
  autocomplete: 'new-password',
  badge: html`<span class="badge badge-valid" id="ms-password-set" data-testid="ms-password-set" hidden><span class="badge-icon" aria-hidden="true">✓</span> ${t(
    'secretSet',
  )}</span>`,
})}
</div>
</fieldset>`;
}

function choice(options: {
  name: string;
  value: string;
  title: string;
  help: string;
  checked: boolean;
}): Html {
  return html`<label class="choice"><input ${attrs({
    type: 'radio',
    name: options.name,
    value: options.value,
    checked: options.checked,
    'data-testid': `${options.name}-${options.value}`,
  })}><span class="choice-text"><span class="choice-title">${options.title}</span><span class="choice-help">${options.help}</span></span></label>`;
}
