import { MailSteps } from '../../domain/mail-server.js';
import { translate } from '../../i18n/i18n.js';
import type { PageContext } from '../context.js';
import { field, formError } from '../form.js';
import { attrs, type Html, html } from '../html.js';

/**
 * The connection test dialog (DESIGN §8 `POST /api/v1/mail-servers/:id/test`): every step of
 * the run listed up front, so the administrator sees which passed, which failed and which
 * were never reached. The script fills in each step's outcome and the failure's remedy.
 */
export function mailServerTestDialog(ctx: PageContext): Html {
  const { t } = ctx;
  return html`<dialog id="mail-server-test-dialog" class="dialog dialog-large" aria-labelledby="ms-test-title" data-testid="mail-server-test-dialog">
<form id="mail-server-test-form" class="form" method="post" novalidate>
<div class="dialog-header">
<h2 id="ms-test-title">${t('mailServers.testDialog.title')}<span class="muted">: </span><span id="ms-test-name" data-testid="ms-test-name"></span></h2>
<button type="button" class="dialog-close" data-close aria-label="${t('close')}" data-testid="ms-test-close-x">×</button>
</div>
<div class="dialog-body">
<p class="help">${t('mailServers.testDialog.intro')}</p>
<div data-protocols="smtp">
${field({
  name: 'to',
  label: t('mailServers.testDialog.to'),
  help: t('mailServers.testDialog.toHelp'),
  type: 'email',
  autocomplete: 'off',
  extra: { spellcheck: 'false' },
})}
</div>
${formError('mail-server-test-error')}
<div id="ms-test-summary" class="test-summary" role="status" aria-live="polite" data-testid="ms-test-summary"></div>
<h3 id="ms-test-steps-title">${t('mailServers.testDialog.steps')}</h3>
<ol class="test-steps" id="ms-test-steps" aria-labelledby="ms-test-steps-title" data-testid="ms-test-steps">
${MailSteps.map(
  (step) =>
    html`<li ${attrs({
      'data-step': step,
      'data-state': 'idle',
      'data-protocols': step === 'send' ? 'smtp' : step === 'folder' ? 'imap pop3' : undefined,
      'data-testid': `ms-test-step-${step}`,
    })}><span class="step-icon" aria-hidden="true">○</span><span class="step-body"><span class="step-head"><span class="step-label">${translate(
      ctx.locale,
      `mail.steps.${step}`,
    )}</span> <span class="step-state" data-testid="ms-test-state">${t(
      'mailServers.testDialog.notRun',
    )}</span></span><span class="step-detail small" data-testid="ms-test-detail"></span></span></li>`,
)}
</ol>
<div id="ms-test-failure" class="banner banner-error" data-testid="ms-test-failure" hidden>
<p><span class="strong">${t('detail.remedy')}</span> <span id="ms-test-remedy" data-testid="ms-test-remedy"></span></p>
<p class="small" id="ms-test-server-row" hidden>${t('mailServers.testDialog.serverSaid')} <code id="ms-test-server" data-testid="ms-test-server"></code></p>
<p class="small" id="ms-test-challenge-row" hidden>${t('mailServers.testDialog.challenge')} <code id="ms-test-challenge"></code></p>
<p class="small muted">${t('mailServers.testDialog.code')} <code id="ms-test-code" data-testid="ms-test-code"></code></p>
</div>
</div>
<div class="dialog-footer">
<button type="button" class="button-quiet" data-close data-testid="ms-test-close">${t('mailServers.testDialog.close')}</button>
<span class="spacer"></span>
<button type="submit" class="button-primary" id="ms-test-run" data-testid="ms-test-run">${t('mailServers.testDialog.run')}</button>
</div>
</form>
</dialog>`;
}
