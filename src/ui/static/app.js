// Outlink admin UI: small behaviours over the server-rendered pages (copy buttons, dialog
// steps, calls to the JSON API with the session's CSRF token). No framework and no inline
// code: the Content-Security-Policy allows scripts from this origin only.
import {
  $,
  $$,
  api,
  busy,
  clearErrors,
  confirmAction,
  copy,
  element,
  errorText,
  FLOW_KEY,
  flash,
  flashNext,
  localiseTimes,
  showError,
  showStoredFlash,
  strings,
} from './common.js';
import { wireLinkDialog } from './link-dialog.js';
import { returnToMailServerDraft, wireMailServers } from './mail-servers.js';

function wireCommon() {
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const copyButton = target?.closest('[data-copy]');
    if (copyButton) copy(copyButton);
    const close = target?.closest('dialog [data-close]');
    if (close) close.closest('dialog').close();
  });
  $('#sign-out')?.addEventListener('click', async (event) => {
    await busy(event.currentTarget, () => api('DELETE', '/api/v1/session'));
    location.assign('/login?notice=signedOut');
  });
}

function wireLogin() {
  const form = $('#login-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const box = $('#login-error');
    box.hidden = true;
    const body = { username: form.elements.username.value, password: form.elements.password.value };
    const res = await busy(event.submitter, () => api('POST', '/api/v1/session', body));
    if (res.ok) return location.assign(form.dataset.next || '/admin/applinks');
    box.replaceChildren(document.createTextNode(`${errorText(res.error)} `));
    box.append(element('code', 'error-code', res.error.code));
    box.hidden = false;
    form.elements.password.select();
  });
}

function wireAccount() {
  const form = $('#password-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const { currentPassword, newPassword, confirmPassword } = form.elements;
    if (newPassword.value !== confirmPassword.value) {
      return showError(
        form,
        { code: 'passwords_differ', message: strings.passwordsDiffer },
        'confirmPassword',
      );
    }
    const body = { currentPassword: currentPassword.value, newPassword: newPassword.value };
    const res = await busy(event.submitter, () => api('POST', '/api/v1/session/password', body));
    if (res.ok) return location.assign('/login?notice=passwordChanged');
    showError(
      form,
      res.error,
      res.error.code === 'password_incorrect' ? 'currentPassword' : undefined,
    );
  });
}

function wireApiTokens() {
  const form = $('#token-form');
  const links = $('#token-links');
  const scope = () => form.querySelector('input[name="scope"]:checked')?.value ?? 'admin';
  form.addEventListener('change', () => {
    links.hidden = scope() !== 'token:read';
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const linkIds = $$('input[name="linkIds"]:checked', form).map((i) => i.value);
    const body = { name: form.elements.name.value, scopes: [scope()] };
    if (scope() === 'token:read') body.linkIds = linkIds;
    const res = await busy(event.submitter, () => api('POST', '/api/v1/api-tokens', body));
    if (!res.ok) return showError(form, res.error);
    form.reset();
    links.hidden = true;
    const created = $('#token-created');
    created.hidden = false;
    const input = $('#new-token');
    input.value = res.data.token;
    input.focus();
    input.select();
  });
  $('#token-done').addEventListener('click', () => location.reload());
  for (const button of $$('[data-action="revoke-token"]')) {
    button.addEventListener('click', async () => {
      if (!(await confirmAction(button))) return;
      const res = await busy(button, () =>
        api('DELETE', `/api/v1/api-tokens/${button.dataset.tokenId}`),
      );
      if (!res.ok) return flash('error', errorText(res.error));
      flashNext('success', strings.revoked);
      location.reload();
    });
  }
}

/** After the provider sent the browser back: what became of the authorization started here. */
async function showFlowOutcome(linkId) {
  const stored = JSON.parse(sessionStorage.getItem(FLOW_KEY) ?? 'null');
  if (!stored || stored.linkId !== linkId) return;
  sessionStorage.removeItem(FLOW_KEY);
  const res = await api('GET', `/api/v1/authorizations/${stored.flowId}`);
  if (!res.ok) return;
  const { status, error } = res.data;
  if (status === 'succeeded') return flash('success', strings.flowSucceeded);
  if (status === 'pending') return flash('warning', strings.flowPending);
  flash('error', strings.flowFailed, error ? [error.message, error.remedy] : []);
}

function wireLinkDetail() {
  const linkId = $('#link-detail').dataset.linkId;
  const authorize = async (button, body) => {
    const res = await busy(button, () =>
      api('POST', `/api/v1/links/${linkId}/authorizations`, body),
    );
    if (!res.ok) return flash('error', errorText(res.error));
    sessionStorage.setItem(FLOW_KEY, JSON.stringify({ flowId: res.data.flowId, linkId }));
    location.assign(res.data.authorizationUrl);
  };
  const start = $('#authorize');
  const labelDialog = $('#authorize-dialog');
  start?.addEventListener('click', () => {
    if (start.dataset.askLabel) return labelDialog.showModal();
    authorize(start, {});
  });
  $('#authorize-form')?.addEventListener('submit', (event) => {
    event.preventDefault();
    const label = event.target.elements.accountLabel.value.trim();
    labelDialog.close();
    authorize(start, label ? { accountLabel: label } : {});
  });
  const actions = {
    diagnose: (b) => diagnose(b, linkId),
    reauthorize: (b) => authorize(b, { connectionId: b.dataset.connectionId }),
    invite: (b) => openInvite(b),
    refresh: async (b) => {
      const res = await busy(b, () =>
        api('POST', `/api/v1/connections/${b.dataset.connectionId}/refresh`),
      );
      if (res.ok) flashNext('success', strings.refreshed);
      else flashNext('error', res.error.message, [res.error.remedy].filter(Boolean));
      location.reload();
    },
    'remove-connection': async (b) => {
      if (!(await confirmAction(b))) return;
      const res = await busy(b, () =>
        api('DELETE', `/api/v1/connections/${b.dataset.connectionId}`),
      );
      if (!res.ok) return flash('error', errorText(res.error));
      flashNext('success', strings.removed);
      location.reload();
    },
    'delete-link': async (b) => {
      if (!(await confirmAction(b))) return;
      const res = await busy(b, () => api('DELETE', `/api/v1/links/${linkId}`));
      if (!res.ok) return flash('error', errorText(res.error));
      // Issue 11: say whether the grants were revoked at the provider, or stay alive there.
      const revocation = res.data?.revocation;
      if (
        revocation &&
        revocation.status !== 'revoked' &&
        revocation.status !== 'nothing_to_revoke'
      ) {
        flashNext('warning', revocation.message);
      } else flashNext('success', revocation?.message ?? strings.removed);
      location.assign('/admin/applinks');
    },
  };
  for (const button of $$('#link-detail [data-action]')) {
    const action = actions[button.dataset.action];
    if (action) button.addEventListener('click', () => action(button));
  }
  showFlowOutcome(linkId);
}

/**
 * Issue 13 item 4: the re-authorization link dialog of one connection. The link comes back
 * from the API once; it is shown to copy and never fetched again.
 */
function openInvite(button) {
  const dialog = $('#invite-dialog');
  const form = $('#invite-form');
  const connectionId = button.dataset.connectionId;
  $('#invite-account').textContent = button.dataset.account;
  $('#invite-result').hidden = true;
  $('#invite-url').value = '';
  $('#invite-create').hidden = false;
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = {};
    const hours = Number(form.elements.expiresInHours.value);
    if (hours) body.expiresInHours = hours;
    if (form.elements.mailServer.value) body.mailServer = form.elements.mailServer.value;
    const res = await busy($('#invite-create'), () =>
      api('POST', `/api/v1/connections/${connectionId}/reauthorization`, body),
    );
    if (!res.ok) {
      dialog.close();
      return flash('error', errorText(res.error));
    }
    $('#invite-url').value = res.data.url;
    const emailed = $('#invite-emailed');
    emailed.hidden = !res.data.emailedTo;
    emailed.textContent = emailed.dataset.template.replace('{to}', res.data.emailedTo ?? '');
    $('#invite-result').hidden = false;
    $('#invite-create').hidden = true;
  };
  const revoke = $('#invite-revoke');
  revoke.onclick = async () => {
    const res = await busy(revoke, () =>
      api('DELETE', `/api/v1/connections/${connectionId}/reauthorization`),
    );
    dialog.close();
    if (!res.ok) return flash('error', errorText(res.error));
    flash('success', revoke.dataset.done);
  };
  dialog.showModal();
}

/**
 * Issue 13 item 1: runs diagnose and lists every check, failures and warnings with their
 * remedy. Text only (textContent): a provider's words never become markup.
 */
async function diagnose(button, linkId) {
  const section = $('#diagnosis');
  const res = await busy(button, () => api('POST', `/api/v1/links/${linkId}/diagnose`));
  if (!res.ok) return flash('error', errorText(res.error));
  const list = $('#diagnosis-checks');
  list.replaceChildren();
  const counts = { pass: 0, warn: 0, fail: 0 };
  for (const check of res.data.checks) {
    counts[check.status] += 1;
    const item = element('li', `diagnosis-check diagnosis-${check.status}`);
    item.dataset.status = check.status;
    item.dataset.check = check.id;
    item.dataset.testid = 'diagnosis-check';
    const head = element('p');
    const label = section.dataset[`status${check.status[0].toUpperCase()}${check.status.slice(1)}`];
    head.append(element('span', `badge badge-${check.status}`, label), ' ');
    head.append(element('span', 'strong', check.message));
    item.append(head);
    if (check.remedy && check.status !== 'pass') {
      item.append(element('p', 'small diagnosis-remedy', check.remedy));
    }
    list.append(item);
  }
  $('#diagnosis-summary').textContent = section.dataset.summary.replace(
    /\{(pass|warn|fail)\}/g,
    (_, status) => String(counts[status]),
  );
  section.hidden = false;
  section.scrollIntoView({ block: 'nearest' });
}

function start() {
  showStoredFlash();
  localiseTimes();
  wireCommon();
  const page = document.body.dataset.page;
  if (page === 'login') wireLogin();
  if (page === 'account') wireAccount();
  if (page === 'api-tokens') wireApiTokens();
  if (page === 'link-detail') {
    returnToMailServerDraft($('#link-detail').dataset.linkId);
    wireLinkDetail();
  }
  if (page === 'mail-servers') wireMailServers();
  if ($('#link-dialog')) wireLinkDialog();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
