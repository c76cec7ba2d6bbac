import type { HandlerStatusJson } from '../../schemas/mail-handler.js';
import type { MailServerView } from '../../schemas/mail-servers.js';
import { cell, linkDetailHref, pageHeader } from '../components.js';
import type { PageContext } from '../context.js';
import { type Html, html } from '../html.js';
import { layout } from '../layout.js';
import type { OutgoingServerChoice } from './mail-handler-section.js';
import { HANDLER_STATUS_ICONS, mailHandlerStatusCell } from './mail-handler-status.js';
import { type MailServerLinkChoice, mailServerDialog } from './mail-server-dialog.js';
import { mailServerTestDialog } from './mail-server-test.js';

/**
 * What the mail servers page shows: one page of servers, and what the dialog offers: the
 * links, and every outgoing server (for acknowledging new issues).
 */
export interface MailServersPageData {
  readonly servers: readonly MailServerView[];
  readonly nextCursor?: string;
  readonly links: readonly MailServerLinkChoice[];
  readonly outgoing: readonly OutgoingServerChoice[];
  /** Where the mail handler of each incoming server of the page stands, by server id. */
  readonly handlers: ReadonlyMap<string, HandlerStatusJson>;
}

/** The element id of a mail server's row: the link detail page's "Used by" links to it. */
export const mailServerAnchor = (id: string) => `mail-server-${id}`;

/**
 * The mail servers page: the list with each incoming server's mail handler, Edit, Test,
 * Check mail now and Delete, and the two dialogs.
 */
export function mailServersPage(ctx: PageContext, data: MailServersPageData): Html {
  const { t } = ctx;
  const create = html`<button type="button" class="button-primary" id="create-mail-server" data-testid="create-mail-server">${t(
    'mailServers.create',
  )}</button>`;
  const body = html`${pageHeader(t('mailServers.title'), create, t('mailServers.intro'))}
${data.servers.length === 0 ? emptyState(ctx) : serversTable(ctx, data.servers, data.handlers)}
${
  data.nextCursor
    ? html`<nav class="pager" aria-label="${t('pager.label')}"><a href="/admin/mail-servers?cursor=${encodeURIComponent(
        data.nextCursor,
      )}" data-testid="mail-servers-next">${t('pager.next')}</a></nav>`
    : ''
}
${mailServerDialog(ctx, data.links, data.outgoing)}
${mailServerTestDialog(ctx)}
${clientStrings(ctx)}`;
  return layout(ctx, {
    title: t('mailServers.title'),
    active: 'mail-servers',
    page: 'mail-servers',
    body,
  });
}

function emptyState(ctx: PageContext): Html {
  return html`<div class="empty" data-testid="mail-servers-empty"><p><strong>${ctx.t(
    'mailServers.emptyTitle',
  )}</strong></p><p>${ctx.t('mailServers.emptyBody')}</p></div>`;
}

function serversTable(
  ctx: PageContext,
  servers: readonly MailServerView[],
  handlers: ReadonlyMap<string, HandlerStatusJson>,
): Html {
  const { t } = ctx;
  const col = (k: string) => t(`mailServers.columns.${k}`);
  return html`<table class="table" id="mail-servers-table" data-testid="mail-servers-table">
<caption class="visually-hidden">${t('mailServers.title')}</caption>
<thead><tr>${['name', 'protocol', 'server', 'security', 'authentication', 'handler'].map(
    (k) => html`<th scope="col">${col(k)}</th>`,
  )}<th scope="col"><span class="visually-hidden">${col('actions')}</span></th></tr></thead>
<tbody>${servers.map(
    (
      s,
    ) => html`<tr id="${mailServerAnchor(s.id)}" data-mail-server-id="${s.id}" data-name="${s.name}" data-protocol="${s.protocol}" data-security="${s.security}" data-username="${s.username}" data-testid="mail-server-row">
${cell(col('name'), html`<span class="strong" data-testid="mail-server-name">${s.name}</span>`)}
${cell(col('protocol'), protocolText(ctx, s.protocol), { 'data-testid': 'mail-server-protocol' })}
${cell(col('server'), html`<code data-testid="mail-server-endpoint">${s.host}:${s.port}</code>`)}
${cell(col('security'), securityBadge(ctx, s.security), { 'data-testid': 'mail-server-security' })}
${cell(col('authentication'), authenticationText(ctx, s), { 'data-testid': 'mail-server-auth' })}
${cell(col('handler'), handlerCell(ctx, handlers.get(s.id)), { 'data-testid': 'mail-server-handler' })}
${cell(col('actions'), rowActions(ctx, s))}
</tr>`,
  )}</tbody>
</table>`;
}

/** "IMAP · Incoming". */
export function protocolText(ctx: PageContext, protocol: string): Html {
  const direction = protocol === 'smtp' ? 'outgoing' : 'incoming';
  return html`<span class="strong">${ctx.t(`protocols.${protocol}`)}</span> <span class="muted small">· ${ctx.t(
    `mailServers.direction.${direction}`,
  )}</span>`;
}

/** TLS / STARTTLS with a lock, or "None (plain)" with a warning in words and icon. */
export function securityBadge(ctx: PageContext, security: string): Html {
  const label = ctx.t(`mailServers.security.${security}`);
  if (security === 'none') {
    return html`<span class="badge badge-plain" data-security="none"><span class="badge-icon" aria-hidden="true">!</span> ${label}</span>
<div class="plain-note small" data-testid="plain-warning">${ctx.t('mailServers.notEncrypted')}</div>`;
  }
  return html`<span class="badge badge-secure" data-security="${security}"><span class="badge-icon" aria-hidden="true">✓</span> ${label}</span>`;
}

/** The link and the account whose token logs in (a delegate's said so), or "Password". */
function authenticationText(ctx: PageContext, s: MailServerView): Html {
  const { t } = ctx;
  const auth = s.authentication;
  if (auth.method === 'password') {
    return html`<span>${auth.passwordSet ? t('mailServers.auth.password') : t('mailServers.auth.passwordNotSet')}</span>`;
  }
  const account = html`<a href="${linkDetailHref(auth.linkId)}" data-testid="mail-server-link">${auth.linkName}</a> <span aria-hidden="true" class="sep">·</span> <span data-testid="mail-server-account">${auth.account}</span>`;
  if (!auth.delegated) return account;
  return html`${account}
<div><span class="badge badge-delegate" data-testid="mail-server-delegated"><span class="badge-icon" aria-hidden="true">⇄</span> ${t(
    'mailServers.auth.delegate',
  )}</span></div>
<div class="small muted">${t('mailServers.auth.delegateOf', { account: auth.account, username: s.username })}</div>`;
}

/** An outgoing server has no handler: a dash, and words for a screen reader. */
function handlerCell(ctx: PageContext, status: HandlerStatusJson | undefined): Html {
  if (status) return mailHandlerStatusCell(ctx, status);
  return html`<span class="muted" aria-hidden="true">${ctx.t('none')}</span><span class="visually-hidden">${ctx.t(
    'mailServers.handlerStatus.outgoing',
  )}</span>`;
}

function rowActions(ctx: PageContext, s: MailServerView): Html {
  const { t } = ctx;
  const named = (key: string) => html`${t(key)}<span class="visually-hidden"> ${s.name}</span>`;
  return html`<div class="row-actions">
<button type="button" class="button-secondary button-small" data-action="edit-mail-server" data-mail-server-id="${s.id}" data-testid="edit-mail-server">${named(
    'mailServers.edit',
  )}</button>
<button type="button" class="button-secondary button-small" data-action="test-mail-server" data-mail-server-id="${s.id}" data-testid="test-mail-server">${named(
    'mailServers.test',
  )}</button>
${
  s.protocol === 'smtp'
    ? ''
    : html`<button type="button" class="button-secondary button-small" data-action="check-mail-server" data-mail-server-id="${s.id}" data-testid="check-mail-server">${named(
        'mailServers.handlerStatus.checkNow',
      )}</button>`
}
<button type="button" class="button-danger-quiet button-small" data-action="delete-mail-server" data-mail-server-id="${s.id}" data-confirm-title="${t(
    'mailServers.deleteTitle',
  )}" data-confirm-message="${t('mailServers.deleteMessage', { name: s.name })}" data-confirm-label="${t(
    'mailServers.delete',
  )}" data-testid="delete-mail-server">${named('mailServers.delete')}</button>
</div>`;
}

/**
 * Texts the mail server scripts show, in the page's language. Templates keep their values
 * as `%name%` (filled in by the script), so no raw `{name}` placeholder reaches the page.
 */
function clientStrings(ctx: PageContext): Html {
  const { t } = ctx;
  const template = (key: string, names: readonly string[]) =>
    t(key, Object.fromEntries(names.map((n) => [n, `%${n}%`])));
  const strings: Record<string, string> = {
    created: t('mailServers.client.created'),
    saved: t('mailServers.client.saved'),
    deleted: t('mailServers.client.deleted'),
    connectionChoose: t('mailServers.form.connectionChoose'),
    connectionOption: template('mailServers.form.connectionOption', ['account', 'status']),
    noConnections: t('mailServers.form.noConnections'),
    delegateNote: template('mailServers.form.delegateNote', ['account', 'username']),
    noMatch: template('mailServers.form.noMatch', ['username']),
    presetApplied: template('mailServers.form.presetApplied', ['host', 'port', 'security']),
    authorizeWaiting: t('mailServers.form.authorizeWaiting'),
    authorizeSucceeded: template('mailServers.form.authorizeSucceeded', ['account']),
    authorizeFailed: t('mailServers.form.authorizeFailed'),
    authorizeStopped: t('mailServers.form.authorizeStopped'),
    running: t('mailServers.testDialog.running'),
    passed: t('mailServers.testDialog.passed'),
    failed: t('mailServers.testDialog.failed'),
    notRun: t('mailServers.testDialog.notRun'),
    allPassed: t('mailServers.testDialog.allPassed'),
    brokeAt: template('mailServers.testDialog.brokeAt', ['step']),
    notEncrypted: t('mailServers.notEncrypted'),
    checking: t('mailServers.handlerStatus.checking'),
    checked: template('mailServers.handlerStatus.checked', ['counts']),
    noNewMail: t('mailServers.handlerStatus.noNewMail'),
    counts: template('mailServers.handlerStatus.counts', [
      'created',
      'commented',
      'skipped',
      'failed',
    ]),
    handlerOn: t('mailServers.handlerStatus.on'),
    handlerOff: t('mailServers.handlerStatus.off'),
    remedy: t('detail.remedy'),
    serverSaid: t('mailServers.testDialog.serverSaid'),
  };
  for (const [status, icon] of Object.entries(HANDLER_STATUS_ICONS)) {
    strings[`handlerIcon.${status}`] = icon;
  }
  for (const status of ['valid', 'refresh_failing', 'reauthorization_required', 'unknown']) {
    strings[`status.${status}`] = t(`status.${status}`);
  }
  for (const security of ['tls', 'starttls', 'none']) {
    strings[`security.${security}`] = t(`mailServers.security.${security}`);
  }
  return html`<div id="mail-server-strings" hidden data-strings="${JSON.stringify(strings)}"></div>`;
}
