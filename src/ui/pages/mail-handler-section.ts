import { ProcessedActions } from '../../domain/mail-server.js';
import type { PageContext } from '../context.js';
import { errorSlot, field } from '../form.js';
import { attrs, type Html, html } from '../html.js';

/** An outgoing (SMTP) mail server the dialog offers for acknowledging new issues. */
export interface OutgoingServerChoice {
  readonly id: string;
  readonly name: string;
}

/**
 * The "Mail handler" part of the mail server dialog (issue 10 item 1), shown for incoming
 * servers only: whether the mailbox's mail becomes issues and comments, their key prefix,
 * the default reporter, the size limit (MiB here, bytes in the API), the outgoing server
 * that acknowledges new issues, how often to look, what becomes of a handled message, and
 * where messages that cannot be handled go (IMAP). The script fills it in and posts it
 * (`static/mail-handler-fields.js`).
 */
export function mailHandlerSection(
  ctx: PageContext,
  outgoing: readonly OutgoingServerChoice[],
): Html {
  const { t } = ctx;
  const k = (key: string) => t(`mailServers.handler.${key}`);
  return html`<fieldset class="plain handler-section" id="ms-handler" data-protocols="imap pop3" aria-describedby="ms-handler-intro" data-testid="ms-handler">
<legend>${k('title')}</legend>
<p class="help" id="ms-handler-intro">${k('intro')}</p>
<div class="field">
<label class="choice choice-check" for="handlerEnabled"><input ${attrs({
    type: 'checkbox',
    id: 'handlerEnabled',
    name: 'handlerEnabled',
    'aria-describedby': 'handlerEnabled-help handlerEnabled-error',
    'data-testid': 'field-handlerEnabled',
  })}><span class="choice-text"><span class="choice-title">${k('enabled')}</span></span></label>
<p class="help" id="handlerEnabled-help">${k('enabledHelp')}</p>
${errorSlot('handlerEnabled')}
</div>
<div class="field-row field-row-even">
${field({ name: 'issueKeyPrefix', label: k('issueKeyPrefix'), help: k('issueKeyPrefixHelp'), placeholder: 'MAIL', autocomplete: 'off', extra: { spellcheck: 'false', maxlength: '10', class: 'upper' } })}
${field({ name: 'maxMessageMiB', label: k('maxMessageMiB'), help: k('maxMessageMiBHelp'), placeholder: '25', autocomplete: 'off', extra: { inputmode: 'decimal' } })}
</div>
${field({ name: 'defaultReporter', label: k('defaultReporter'), help: k('defaultReporterHelp'), type: 'email', autocomplete: 'off', placeholder: 'support@example.com', extra: { spellcheck: 'false' } })}
${acknowledgement(ctx, outgoing)}
<div class="field-row field-row-even">
${field({ name: 'pollIntervalSeconds', label: k('pollInterval'), help: k('pollIntervalHelp'), placeholder: '300', autocomplete: 'off', extra: { inputmode: 'numeric' } })}
<div class="field">
<label for="processedAction">${k('processedAction')}</label>
<select id="processedAction" name="processedAction" aria-describedby="processedAction-help processedAction-error" data-testid="field-processedAction">
${ProcessedActions.map((a) => html`<option value="${a}">${k(`processedActions.${a}`)}</option>`)}
</select>
<p class="help" id="processedAction-help">${k('processedActionHelp')}</p>
${errorSlot('processedAction')}
</div>
</div>
<div id="ms-processed-folder" hidden>
${field({ name: 'processedFolder', label: k('processedFolder'), help: k('processedFolderHelp'), autocomplete: 'off' })}
</div>
<div data-protocols="imap">
${field({ name: 'errorFolder', label: k('errorFolder'), help: k('errorFolderHelp'), autocomplete: 'off' })}
</div>
</fieldset>`;
}

function acknowledgement(ctx: PageContext, outgoing: readonly OutgoingServerChoice[]): Html {
  const { t } = ctx;
  const k = (key: string) => t(`mailServers.handler.${key}`);
  const help = ['acknowledgeWith-help', outgoing.length === 0 ? 'acknowledgeWith-none' : '']
    .filter(Boolean)
    .join(' ');
  return html`<div class="field">
<label for="acknowledgeWith">${k('acknowledgeWith')}</label>
<select id="acknowledgeWith" name="acknowledgeWith" aria-describedby="${help} acknowledgeWith-error" data-testid="field-acknowledgeWith">
<option value="">${k('acknowledgeNone')}</option>
${outgoing.map((s) => html`<option value="${s.id}">${s.name}</option>`)}
</select>
<p class="help" id="acknowledgeWith-help">${k('acknowledgeWithHelp')}</p>
${outgoing.length === 0 ? html`<p class="help" id="acknowledgeWith-none" data-testid="ms-no-outgoing">${k('noOutgoing')}</p>` : ''}
${errorSlot('acknowledgeWith')}
</div>`;
}
