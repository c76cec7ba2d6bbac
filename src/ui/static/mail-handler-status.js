// "Check mail now" on the mail servers list: runs a mailbox's handler now, says what it did
// (or why it could not, and what to do), then brings the row's "Mail handler" column up to
// date from the handler's status.
import { $, api, busy, element, lang } from './common.js';
import { fill, msStrings } from './mail-server-dialog.js';

/** Runs the handler of the button's mail server and reports in its row. */
export async function checkMail(button) {
  const id = button.dataset.mailServerId;
  const cell = button.closest('tr').querySelector('.handler-status');
  const report = $('[data-handler="check"]', cell);
  report.className = 'small handler-check';
  report.textContent = msStrings.checking;
  const res = await busy(button, () => api('POST', `/api/v1/mail-servers/${id}/poll`));
  if (res.ok) {
    const counts = res.data;
    report.classList.add('handler-check-done');
    report.textContent =
      counts.fetched === 0
        ? msStrings.noNewMail
        : fill(msStrings.checked, { counts: fill(msStrings.counts, counts) });
  } else {
    report.classList.add('handler-check-failed');
    const parts = [element('span', 'strong', res.error.message)];
    if (res.error.remedy) {
      parts.push(' ', element('span', 'strong', msStrings.remedy), ' ', res.error.remedy);
    }
    parts.push(' ', element('code', 'error-code', res.error.code));
    report.replaceChildren(...parts);
  }
  const status = await api('GET', `/api/v1/mail-servers/${id}/handler`);
  if (status.ok) showStatus(cell, status.data);
}

/** The column's parts as the server renders them, from `GET …/handler`. */
function showStatus(cell, status) {
  const badge = $('[data-handler="status"]', cell);
  badge.className = `badge badge-handler-${status.status}`;
  badge.dataset.status = status.status;
  $('.badge-icon', badge).textContent = msStrings[`handlerIcon.${status.status}`] ?? '?';
  $('[data-handler="statusText"]', cell).textContent = status.statusText;

  const enabled = $('[data-handler="enabled"]', cell);
  enabled.dataset.enabled = String(status.enabled);
  enabled.textContent = status.enabled ? msStrings.handlerOn : msStrings.handlerOff;

  const lastRun = $('[data-handler="lastRun"]', cell);
  const time = $('time', lastRun);
  time.dateTime = status.lastRunAt ?? '';
  time.textContent = status.lastRunAt ? formatTime(status.lastRunAt) : '';
  lastRun.hidden = !status.lastRunAt;

  const counts = $('[data-handler="counts"]', cell);
  counts.textContent = status.lastCounts ? fill(msStrings.counts, status.lastCounts) : '';
  counts.hidden = !status.lastCounts;

  const error = $('[data-handler="error"]', cell);
  const failing = status.status === 'failed' || status.status === 'waiting_reauthorization';
  error.textContent = failing && status.lastError ? status.lastError.message : '';
  error.hidden = !error.textContent;
}

function formatTime(iso) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(
    new Date(iso),
  );
}
