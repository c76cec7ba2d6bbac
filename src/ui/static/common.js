// Shared helpers of the admin UI's client modules: DOM lookups, the JSON API with the
// session's CSRF token, messages, form errors and the confirmation dialog.
export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
export const lang = document.documentElement.lang || 'en';
export const csrf = $('meta[name="csrf-token"]')?.content;
export const strings = JSON.parse($('#client-strings')?.dataset.strings ?? '{}');
export const FLASH_KEY = 'outlink.flash';
export const FLOW_KEY = 'outlink.flow';

/** Calls the JSON API; resolves to {ok, status, data} or {ok: false, status, error}. */
export async function api(method, path, body) {
  const headers = { accept: 'application/json', 'accept-language': lang };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return {
      ok: false,
      status: 0,
      error: { code: 'network_error', message: strings.networkError },
    };
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.ok) return { ok: true, status: res.status, data };
  if (res.status === 401 && csrf) {
    // The session ended (expired, or signed out elsewhere): sign in and come back.
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  const error = data?.error ?? { code: String(res.status), message: strings.networkError };
  return { ok: false, status: res.status, error };
}

/** Disables the button while `work` runs, so a double click sends one request. */
export async function busy(button, work) {
  if (!button) return work();
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Shows a message in the page's live region; `items` become a list (warnings, remedies). */
export function flash(kind, text, items = []) {
  const region = $('#flash');
  if (!region) return;
  const box = element('div', `banner banner-${kind}`);
  box.dataset.kind = kind;
  box.append(element('p', 'strong', text));
  if (items.length) {
    const list = element('ul');
    for (const item of items) list.append(element('li', '', item));
    box.append(list);
  }
  region.replaceChildren(box);
}

/** A message for the next page (after a save or reload), shown once. */
export function flashNext(kind, text, items = []) {
  sessionStorage.setItem(FLASH_KEY, JSON.stringify({ kind, text, items }));
}

export function showStoredFlash() {
  const stored = sessionStorage.getItem(FLASH_KEY);
  if (!stored) return;
  sessionStorage.removeItem(FLASH_KEY);
  const { kind, text, items } = JSON.parse(stored);
  flash(kind, text, items);
}

export function errorText(error) {
  return [error.message, error.remedy].filter(Boolean).join(' ');
}

export function clearErrors(form) {
  for (const slot of $$('.field-error', form)) {
    slot.hidden = true;
    slot.textContent = '';
  }
  for (const input of $$('[aria-invalid]', form)) input.removeAttribute('aria-invalid');
  for (const box of $$('.form-error', form)) box.hidden = true;
}

/** The API's error next to its field (`error.field`), else in the form's error box. */
export function showError(form, error, fallbackField) {
  const field = (error.field ?? fallbackField ?? '').replace(/[[.].*$/, '');
  const slot = field ? form.querySelector(`[data-error-for="${CSS.escape(field)}"]`) : null;
  const target = slot && !slot.parentElement?.closest('[hidden]') ? slot : $('.form-error', form);
  if (!target) return flash('error', errorText(error));
  target.replaceChildren(
    document.createTextNode(`${errorText(error)} `),
    element('code', 'error-code', error.code),
  );
  target.hidden = false;
  const input = target === slot ? form.querySelector(`[name="${CSS.escape(field)}"]`) : null;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  } else {
    target.setAttribute('tabindex', '-1');
    target.focus();
  }
}

/** Resolves true when the administrator confirms in the page's confirmation dialog. */
export function confirmAction(button) {
  const dialog = $('#confirm-dialog');
  $('#confirm-title').textContent = button.dataset.confirmTitle ?? '';
  $('#confirm-message').textContent = button.dataset.confirmMessage ?? '';
  $('#confirm-ok').textContent = button.dataset.confirmLabel ?? strings.confirm;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), {
      once: true,
    });
    dialog.showModal();
  });
}

export async function copy(button) {
  const input = document.getElementById(button.dataset.copy);
  if (!input?.value) return;
  let done = false;
  try {
    await navigator.clipboard.writeText(input.value);
    done = true;
  } catch {
    input.select();
    done = document.execCommand('copy');
  }
  const label = button.dataset.label ?? button.textContent;
  button.dataset.label = label;
  button.textContent = done ? strings.copied : strings.copyFailed;
  const live = $('#live');
  if (live) live.textContent = button.textContent;
  setTimeout(() => {
    button.textContent = label;
  }, 2000);
}

/** Absolute times in the browser's own time zone (the server renders them in UTC). */
export function localiseTimes() {
  const format = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
  for (const time of $$('time[data-format="dateTime"]')) {
    const date = new Date(time.dateTime);
    if (!Number.isNaN(date.getTime())) time.textContent = format.format(date);
  }
}
