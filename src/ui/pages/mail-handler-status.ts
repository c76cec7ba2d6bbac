import type { HandlerStatusJson } from '../../schemas/mail-handler.js';
import type { PageContext } from '../context.js';
import { attrs, type Html, html } from '../html.js';

/**
 * The "Mail handler" column of the mail servers list (issue 10 item 9): on or off, where the
 * handler stands, when it last ran, what that run did, and why it failed — plus the live
 * region where "Check mail now" reports. Every part carries `data-handler` so the page script
 * can bring it up to date from `GET /api/v1/mail-servers/:id/handler` after a check.
 */
export function mailHandlerStatusCell(ctx: PageContext, status: HandlerStatusJson): Html {
  const { t } = ctx;
  const counts = status.lastCounts;
  const error = showsError(status) ? status.lastError : null;
  return html`<div class="handler-status" data-testid="mail-handler-status">
<div class="handler-head"><span class="badge badge-handler-${status.status}" data-handler="status" data-status="${status.status}" data-testid="mail-handler-state"><span class="badge-icon" aria-hidden="true">${
    HANDLER_STATUS_ICONS[status.status]
  }</span> <span data-handler="statusText">${status.statusText}</span></span>
<span class="small" data-handler="enabled" data-enabled="${String(status.enabled)}" data-testid="mail-handler-enabled">${t(
    status.enabled ? 'mailServers.handlerStatus.on' : 'mailServers.handlerStatus.off',
  )}</span></div>
<div class="small muted" data-handler="lastRun" data-testid="mail-handler-last-run" ${attrs({
    hidden: status.lastRunAt === null,
  })}>${t('mailServers.handlerStatus.lastRun')} ${lastRunTime(ctx, status.lastRunAt)}</div>
<div class="small" data-handler="counts" data-testid="mail-handler-counts" ${attrs({
    hidden: counts === null,
  })}>${counts ? countsText(ctx, counts) : ''}</div>
<div class="small handler-error" data-handler="error" data-testid="mail-handler-error" ${attrs({
    hidden: error === null,
  })}>${error?.message ?? ''}</div>
<div class="small" data-handler="errorServer" data-testid="mail-handler-error-server" ${attrs({
    hidden: !error?.serverResponse,
  })}>${t('mailServers.testDialog.serverSaid')} <code>${serverWords(error)}</code> <span data-handler="errorCause">${
    error?.cause ?? ''
  }</span></div>
<div class="small" data-handler="errorRemedy" data-testid="mail-handler-error-remedy" ${attrs({
    hidden: !error?.remedy,
  })}><span class="strong">${t('detail.remedy')}</span> <span data-handler="errorRemedyText">${
    error?.remedy ?? ''
  }</span></div>
<div class="small handler-check" role="status" aria-live="polite" data-handler="check" data-testid="mail-handler-check"></div>
</div>`;
}

/** The mail server's own answer, its response code first (shown as data, escaped). */
function serverWords(error: HandlerStatusJson['lastError'] | null): string {
  return [error?.serverCode, error?.serverResponse].filter(Boolean).join(' ');
}

/** Each status's icon: a shape as well as a colour and words. */
export const HANDLER_STATUS_ICONS: Readonly<Record<HandlerStatusJson['status'], string>> = {
  never_run: '○',
  idle: '✓',
  running: '…',
  failed: '✕',
  waiting_reauthorization: '!',
  paused: '‖',
};

/** "3 created, 1 commented, 0 skipped, 0 failed". */
export function countsText(
  ctx: PageContext,
  counts: NonNullable<HandlerStatusJson['lastCounts']>,
): string {
  return ctx.t('mailServers.handlerStatus.counts', {
    created: counts.created,
    commented: counts.commented,
    skipped: counts.skipped,
    failed: counts.failed,
  });
}

/** The last error is news while the handler is failed or waiting; after a good run, history. */
function showsError(status: HandlerStatusJson): boolean {
  return status.status === 'failed' || status.status === 'waiting_reauthorization';
}

/** An always-present `<time>`, so the script can fill in a first run. */
function lastRunTime(ctx: PageContext, iso: string | null): Html {
  return html`<time ${attrs({ datetime: iso ?? '', 'data-format': 'dateTime' })}>${
    iso ? ctx.dates.dateTime(iso) : ''
  }</time>`;
}
