// The mail servers page: Add / Edit (the dialog module), Delete with confirmation, the
// connection test with its step list — which steps passed, where it broke, what to do — and
// "Check mail now" (the handler status module).
import {
  $,
  $$,
  api,
  busy,
  clearErrors,
  confirmAction,
  errorText,
  flash,
  flashNext,
  showError,
} from './common.js';
import { checkMail } from './mail-handler-status.js';
import { fill, msStrings, pendingDraft, wireMailServerDialog } from './mail-server-dialog.js';

const ICONS = { passed: '✓', failed: '✕', plain: '!', idle: '○', running: '…' };

export function wireMailServers() {
  const dialog = wireMailServerDialog();
  const test = wireTestDialog();

  $('#create-mail-server').addEventListener('click', () => dialog.open());
  const actions = {
    'edit-mail-server': async (button) => {
      const res = await busy(button, () =>
        api('GET', `/api/v1/mail-servers/${button.dataset.mailServerId}`),
      );
      if (!res.ok) return flash('error', errorText(res.error));
      dialog.open(res.data);
    },
    'test-mail-server': (button) => test.open(button.closest('tr')),
    'check-mail-server': checkMail,
    'delete-mail-server': async (button) => {
      if (!(await confirmAction(button))) return;
      const res = await busy(button, () =>
        api('DELETE', `/api/v1/mail-servers/${button.dataset.mailServerId}`),
      );
      if (!res.ok) return flash('error', errorText(res.error));
      flashNext('success', msStrings.deleted);
      location.reload();
    },
  };
  for (const button of $$('#mail-servers-table [data-action]')) {
    const action = actions[button.dataset.action];
    if (action) button.addEventListener('click', () => action(button));
  }
  resumeDraft(dialog);
}

/** Back from the provider in this window (no popup): reopen the dialog where it was. */
async function resumeDraft(dialog) {
  const stored = pendingDraft();
  if (!stored) return;
  let server;
  if (stored.draft.editingId) {
    const res = await api('GET', `/api/v1/mail-servers/${stored.draft.editingId}`);
    if (!res.ok) return;
    server = res.data;
  }
  dialog.resume(stored, server);
}

/**
 * The callback page leads back to the link; when the authorization was started from the mail
 * server dialog, the administrator is sent on to it instead.
 */
export function returnToMailServerDraft(linkId) {
  const stored = pendingDraft();
  if (stored && stored.linkId === linkId) location.replace('/admin/mail-servers');
}

function wireTestDialog() {
  const dialog = $('#mail-server-test-dialog');
  const form = $('#mail-server-test-form');
  const summary = $('#ms-test-summary');
  const failure = $('#ms-test-failure');
  let server;

  function setStep(item, state, text, detail = '') {
    item.dataset.state = state;
    $('.step-icon', item).textContent = ICONS[state];
    $('.step-state', item).textContent = text;
    $('.step-detail', item).textContent = detail;
  }

  function reset(running) {
    clearErrors(form);
    for (const item of $$('#ms-test-steps li')) {
      setStep(item, running ? 'running' : 'idle', running ? '' : msStrings.notRun);
    }
    failure.hidden = true;
    summary.replaceChildren();
    summary.className = 'test-summary';
    if (running) summary.textContent = msStrings.running;
  }

  /** Each step's outcome; the failed step's detail is the error's message, the box its remedy. */
  function show(report) {
    for (const item of $$('#ms-test-steps li')) {
      const step = report.steps.find((s) => s.name === item.dataset.step);
      if (!step) setStep(item, 'idle', msStrings.notRun);
      else if (!step.ok) setStep(item, 'failed', msStrings.failed, step.detail);
      else if (step.name === 'tls' && server.security === 'none')
        setStep(item, 'plain', msStrings.notEncrypted, step.detail);
      else setStep(item, 'passed', msStrings.passed, step.detail);
    }
    if (report.ok) {
      summary.className = 'test-summary banner banner-success';
      summary.textContent = msStrings.allPassed;
      return;
    }
    const error = report.error;
    const broken = report.steps.find((s) => !s.ok);
    const label = broken?.label ?? error?.step ?? '';
    summary.className = 'test-summary banner banner-error';
    summary.textContent = fill(msStrings.brokeAt, { step: label });
    if (!error) return;
    $('#ms-test-remedy').textContent = error.remedy;
    $('#ms-test-server').textContent = error.serverResponse ?? '';
    $('#ms-test-server-row').hidden = !error.serverResponse;
    const challenge = error.challenge
      ? Object.entries(error.challenge)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')
      : '';
    $('#ms-test-challenge').textContent = challenge;
    $('#ms-test-challenge-row').hidden = !challenge;
    $('#ms-test-code').textContent = error.code;
    failure.hidden = false;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    reset(true);
    const to = form.elements.to.value.trim();
    const body = server.protocol === 'smtp' && to ? { to } : {};
    const res = await busy($('#ms-test-run'), () =>
      api('POST', `/api/v1/mail-servers/${server.id}/test`, body),
    );
    if (!res.ok) {
      reset(false);
      return showError(form, res.error);
    }
    show(res.data);
    summary.setAttribute('tabindex', '-1');
    summary.focus();
  });

  function open(row) {
    server = { ...row.dataset, id: row.dataset.mailServerId };
    $('#ms-test-name').textContent = server.name;
    for (const node of $$('[data-protocols]', form)) {
      node.hidden = !node.dataset.protocols.split(' ').includes(server.protocol);
    }
    form.elements.to.value = '';
    form.elements.to.placeholder = server.username;
    reset(false);
    dialog.showModal();
    $('#ms-test-run').focus();
  }

  return { open };
}
