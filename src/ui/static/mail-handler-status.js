// "Check mail now" on the mail servers list: runs a mailbox's handler now, says what it did
// (or why it could not, and what to do), then brings the row's "Mail handler" column up to
// date from the handler's status.
import { $, api, busy, element, lang } from './common.js';
import { fill, msStrings } from './mail-server-dialog.js';

/**
 * Runs the handler of the button's mail server and reports in its row. The button stays
 * busy until the row's status is up to date, so a second click waits for the whole check.
 */
export function checkMail(button) {
  const id = button.dataset.mailServerId;
  const cell = button.closest('tr').querySelector('.handler-status');
  const report = $('[data-handler="check"]', cell);
  return busy(button, async () => {
    report.className = 'small handler-check';
    report.textContent = msStrings.checking;
    const res = await api('POST', `/api/v1/mail-servers/${id}/poll`);
    if (res.ok) showCounts(report, res.data);
    else showFailure(report, res.error);
    const status = await api('GET', `/api/v1/mail-servers/${id}/handler`);
    if (status.ok) showStatus(cell, status.data);
  });
}

function showCounts(report, counts) {
  report.classList.add('handler-check-done');
  report.textContent =
    counts.fetched === 0
      ? msStrings.noNewMail
      : fill(msStrings.checked, { counts: fill(msStrings.counts, counts) });
}

/** The API's message, what to do, and the code to look up. */
function showFailure(report, error) {
  report.classList.add('handler-check-failed');
  const lines = [element('span', 'check-line strong', error.message)];
  if (error.remedy) {
    const remedy = element('span', 'check-line');
    remedy.append(element('span', 'strong', msStrings.remedy), ' ', error.remedy);
    lines.push(remedy);
  }
  lines.push(element('code', 'check-line error-code', error.code));
  report.replaceChildren(...lines);
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
  const last = failing ? status.lastError : null;
  error.textContent = last ? last.message : '';
  error.hidden = !error.textContent;
  // The mail server's own words and the error catalog's cause and remedy (issue 13).
  const server = $('[data-handler="errorServer"]', cell);
  $('code', server).textContent = last
    ? [last.serverCode, last.serverResponse].filter(Boolean).join(' ')
    : '';
  $('[data-handler="errorCause"]', server).textContent = last?.cause ?? '';
  server.hidden = !last?.serverResponse;
  const remedy = $('[data-handler="errorRemedy"]', cell);
  $('[data-handler="errorRemedyText"]', remedy).textContent = last?.remedy ?? '';
  remedy.hidden = !last?.remedy;
}

function formatTime(iso) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(
    new Date(iso),
  );
}
