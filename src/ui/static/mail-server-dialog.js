// The create / edit mail server dialog: protocol, presets of the chosen link's provider,
// security (warning for a plain connection), the mailbox, and its authentication — a link's
// connection (the mailbox's own by default, a delegate's when chosen, or a new one authorized
// right here) or a write-only password, and for an incoming server the mail handler's
// settings (mail-handler-fields.js). Saves through the JSON API, errors next to fields.
import { $, $$, api, busy, clearErrors, element, flashNext, showError } from './common.js';
import { HANDLER_SLOTS, wireHandlerFields } from './mail-handler-fields.js';

const DRAFT_KEY = 'outlink.mailServerDraft';
/** An authorization flow lives 10 minutes (DESIGN §6); a draft older than that is stale. */
const DRAFT_TTL_MS = 10 * 60_000;
const POLL_MS = 1000;
/** The standard ports (RFC 8314 §3.3, RFC 6409), as the API derives them. */
const DEFAULT_PORTS = {
  imap: { tls: 993, starttls: 143, none: 143 },
  pop3: { tls: 995, starttls: 110, none: 110 },
  smtp: { tls: 465, starttls: 587, none: 587 },
};
/** API field names (`authentication.password`) → the form's slot for their errors. */
const FIELD_SLOTS = {
  'authentication.method': 'authMethod',
  'authentication.password': 'password',
  'authentication.linkId': 'linkId',
  'authentication.connectionId': 'connectionId',
  authentication: 'connectionId',
  ...HANDLER_SLOTS,
};

/** The page's texts for the mail server scripts; `%name%` marks a value to fill in. */
export const msStrings = JSON.parse($('#mail-server-strings')?.dataset.strings ?? '{}');

export function fill(template, values) {
  return (template ?? '').replace(/%(\w+)%/g, (whole, name) =>
    name in values ? String(values[name]) : whole,
  );
}

/** A draft left when the browser itself went to the provider (a blocked popup). */
export function pendingDraft() {
  const stored = JSON.parse(sessionStorage.getItem(DRAFT_KEY) ?? 'null');
  if (!stored || Date.now() - stored.at > DRAFT_TTL_MS) {
    sessionStorage.removeItem(DRAFT_KEY);
    return undefined;
  }
  return stored;
}

/** Wires the dialog; returns `open(server?)` for the page's Add and Edit buttons. */
export function wireMailServerDialog() {
  const dialog = $('#mail-server-dialog');
  const form = $('#mail-server-form');
  const control = (name) => form.elements.namedItem(name);
  const radio = (name) => form.querySelector(`input[name="${name}"]:checked`)?.value;
  const linkSelect = control('linkId');
  const connectionSelect = control('connectionId');
  const authorizeButton = $('#ms-authorize');
  const stopButton = $('#ms-authorize-stop');
  const status = $('#ms-authorize-status');
  const note = $('#ms-connection-note');
  const handler = wireHandlerFields(form);
  /** The server being edited (as the API returned it), or undefined when creating. */
  let editing;
  /** The administrator chose the connection: the username no longer picks it. */
  let connectionChosen = false;
  let polling;

  const protocol = () => radio('protocol') ?? 'imap';
  const security = () => radio('security') ?? 'tls';
  const authMethod = () => radio('authMethod') ?? 'oauth2';
  const linkOption = () => linkSelect.selectedOptions[0];
  const linkProvider = () => (linkSelect.value ? linkOption()?.dataset.provider : undefined);
  const username = () => control('username').value.trim();

  function setMode(mode) {
    form.dataset.mode = mode;
    for (const node of $$('[data-mode-only]', dialog)) node.hidden = node.dataset.modeOnly !== mode;
    for (const input of $$('input[name="protocol"]', form)) input.disabled = mode === 'edit';
  }

  /** Shows what applies to the protocol and authentication; presets of the link's provider. */
  function sync() {
    const p = protocol();
    for (const node of $$('[data-protocols]', form)) {
      node.hidden = !node.dataset.protocols.split(' ').includes(p);
    }
    for (const node of $$('[data-auth]', form)) node.hidden = node.dataset.auth !== authMethod();
    $('#ms-plain-warning').hidden = security() !== 'none';
    const provider = authMethod() === 'oauth2' ? linkProvider() : undefined;
    let shown = 0;
    for (const button of $$('button.preset', form)) {
      const show =
        button.dataset.protocol === p && (!provider || button.dataset.presetProvider === provider);
      button.hidden = !show;
      if (show) shown += 1;
    }
    $('#ms-presets-none').hidden = shown > 0;
    $('#ms-presets-help').hidden = shown === 0;
    authorizeButton.disabled = !linkSelect.value || polling !== undefined;
    connectionSelect.disabled = !linkSelect.value;
    showConnectionNote();
    handler.sync(p);
  }

  function connectionsOfLink() {
    return JSON.parse(linkOption()?.dataset.connections || '[]');
  }

  /** Fills the connection picker from the chosen link; keeps `keep` selected if it is there. */
  function fillConnections(keep) {
    const connections = linkSelect.value ? connectionsOfLink() : [];
    const options = [element('option', '', msStrings.connectionChoose)];
    options[0].value = '';
    for (const c of connections) {
      const option = element(
        'option',
        '',
        fill(msStrings.connectionOption, {
          account: c.account,
          status: msStrings[`status.${c.status}`] ?? msStrings['status.unknown'],
        }),
      );
      option.value = c.id;
      option.dataset.account = c.account;
      options.push(option);
    }
    connectionSelect.replaceChildren(...options);
    if (keep && connections.some((c) => c.id === keep)) connectionSelect.value = keep;
    else if (!connectionChosen) selectByUsername();
  }

  /** The default connection: the one whose account is the mailbox's username. */
  function selectByUsername() {
    const wanted = username().toLowerCase();
    const match = $$('option', connectionSelect).find(
      (o) => o.value && o.dataset.account?.toLowerCase() === wanted,
    );
    connectionSelect.value = match ? match.value : '';
  }

  /** Says when the account is not the mailbox (a delegate) or no account matches it. */
  function showConnectionNote() {
    const chosen = connectionSelect.selectedOptions[0];
    const user = username();
    let text = '';
    if (authMethod() === 'oauth2' && linkSelect.value) {
      if (connectionSelect.options.length <= 1) text = msStrings.noConnections;
      else if (chosen?.value && user && chosen.dataset.account.toLowerCase() !== user.toLowerCase())
        text = fill(msStrings.delegateNote, { account: chosen.dataset.account, username: user });
      else if (!chosen?.value && user) text = fill(msStrings.noMatch, { username: user });
    }
    note.textContent = text;
    note.hidden = !text;
    note.dataset.kind = chosen?.value ? 'delegate' : 'missing';
  }

  function applyPreset(button) {
    control('host').value = button.dataset.host;
    control('port').value = button.dataset.port;
    const target = form.querySelector(
      `input[name="security"][value="${CSS.escape(button.dataset.security)}"]`,
    );
    if (target) target.checked = true;
    sync();
    const text = fill(msStrings.presetApplied, {
      host: button.dataset.host,
      port: button.dataset.port,
      security: msStrings[`security.${button.dataset.security}`],
    });
    const live = $('#live');
    if (live) live.textContent = text;
  }

  // ---- Authorize right here -------------------------------------------------------------

  function stopPolling(message) {
    clearTimeout(polling);
    polling = undefined;
    stopButton.hidden = true;
    if (message !== undefined) {
      status.replaceChildren(...(message ? [element('p', '', message)] : []));
    }
    sync();
  }

  /** Reads the link's connections again (a new one appeared) and selects `connectionId`. */
  async function reloadConnections(linkId, connectionId) {
    const res = await api('GET', `/api/v1/links/${linkId}/connections`);
    if (!res.ok) return undefined;
    const option = $$('option', linkSelect).find((o) => o.value === linkId);
    if (option) {
      option.dataset.connections = JSON.stringify(
        res.data.items.map((c) => ({ id: c.id, account: c.account, status: c.status })),
      );
    }
    if (linkSelect.value !== linkId) return undefined;
    connectionChosen = true;
    fillConnections(connectionId);
    sync();
    return res.data.items.find((c) => c.id === connectionId);
  }

  /** Polls the flow until the provider sent the browser back (in the other window). */
  function watchFlow(flowId, linkId) {
    stopButton.hidden = false;
    status.replaceChildren(element('p', 'waiting', msStrings.authorizeWaiting));
    const started = Date.now();
    const tick = async () => {
      const res = await api('GET', `/api/v1/authorizations/${flowId}`);
      if (polling === undefined) return;
      if (res.ok && res.data.status === 'succeeded') {
        stopPolling('');
        const connection = await reloadConnections(linkId, res.data.connectionId);
        status.replaceChildren(
          element(
            'p',
            'ok',
            fill(msStrings.authorizeSucceeded, { account: connection?.account ?? '' }),
          ),
        );
        connectionSelect.focus();
        return;
      }
      if (res.ok && res.data.status === 'failed') {
        stopPolling('');
        const error = res.data.error;
        const box = element('div', 'failed');
        box.append(element('p', 'strong', msStrings.authorizeFailed));
        if (error) {
          box.append(element('p', '', error.message), element('p', '', error.remedy));
          box.append(element('code', 'error-code', error.code));
        }
        status.replaceChildren(box);
        return;
      }
      if (Date.now() - started > DRAFT_TTL_MS) return stopPolling(msStrings.authorizeStopped);
      polling = setTimeout(tick, POLL_MS);
    };
    polling = setTimeout(tick, POLL_MS);
    sync();
  }

  async function authorize() {
    const linkId = linkSelect.value;
    if (!linkId) return;
    clearErrors(form);
    // Opened before the request, while the click still counts as the user's: popup blockers
    // allow it. The provider's page must not reach back into this one.
    const popup = window.open('about:blank', 'outlink-authorize', 'popup,width=560,height=720');
    if (popup) popup.opener = null;
    const body = {};
    // Only a custom provider may not say who signed in: the mailbox is the best label then.
    if (linkProvider() === 'custom' && username()) body.accountLabel = username();
    const res = await busy(authorizeButton, () =>
      api('POST', `/api/v1/links/${linkId}/authorizations`, body),
    );
    if (!res.ok) {
      popup?.close();
      return showError(form, res.error, 'connectionId');
    }
    if (popup && !popup.closed) {
      popup.location.href = res.data.authorizationUrl;
      watchFlow(res.data.flowId, linkId);
      return;
    }
    // No popup: the browser goes to the provider itself and the page resumes on return.
    sessionStorage.setItem(
      DRAFT_KEY,
      JSON.stringify({ at: Date.now(), flowId: res.data.flowId, linkId, draft: draftOf() }),
    );
    location.assign(res.data.authorizationUrl);
  }

  // ---- Filling in and saving ---------------------------------------------------------------

  function draftOf() {
    const out = {
      editingId: editing?.id,
      protocol: protocol(),
      security: security(),
      authMethod: authMethod(),
    };
    for (const name of ['name', 'host', 'port', 'username', 'folder', 'linkId', 'saslMechanism'])
      out[name] = control(name).value;
    out.handler = handler.draft();
    return out;
  }

  function check(name, value) {
    const input = form.querySelector(`input[name="${name}"][value="${CSS.escape(value)}"]`);
    if (input) input.checked = true;
  }

  /** The form as the server `s` is (or empty for a new one). */
  function load(s) {
    form.reset();
    clearErrors(form);
    stopPolling('');
    editing = s;
    setMode(s ? 'edit' : 'create');
    $('#ms-dialog-name').textContent = s?.name ?? '';
    check('protocol', s?.protocol ?? 'imap');
    check('security', s?.security ?? 'tls');
    check('authMethod', s?.authentication.method ?? 'oauth2');
    for (const name of ['name', 'host', 'username']) control(name).value = s?.[name] ?? '';
    control('port').value = s ? String(s.port) : '';
    control('folder').value = s?.folder ?? '';
    control('saslMechanism').value = s?.saslMechanism ?? '';
    const auth = s?.authentication;
    linkSelect.value = auth?.method === 'oauth2' ? auth.linkId : '';
    connectionChosen = Boolean(auth?.method === 'oauth2');
    fillConnections(auth?.method === 'oauth2' ? auth.connectionId : undefined);
    $('#ms-password-set').hidden = !(auth?.method === 'password' && auth.passwordSet);
    handler.load(s);
    if (!s && linkSelect.options.length === 2) {
      // One link only: nothing to choose.
      linkSelect.selectedIndex = 1;
      fillConnections();
    }
    sync();
  }

  function authenticationBody() {
    if (authMethod() === 'password') {
      const password = control('password').value;
      if (editing?.authentication.method === 'password' && !password) return undefined;
      return { method: 'password', password };
    }
    const connectionId = connectionSelect.value;
    const stored = editing?.authentication;
    if (stored?.method === 'oauth2' && connectionId === stored.connectionId) return undefined;
    if (connectionId) return { method: 'oauth2', connectionId };
    if (linkSelect.value) return { method: 'oauth2', linkId: linkSelect.value };
    return { method: 'oauth2' };
  }

  function bodyOf() {
    const text = (name) => control(name).value.trim();
    const p = protocol();
    const body = {
      name: text('name'),
      host: text('host'),
      security: security(),
      username: text('username'),
    };
    const port = text('port');
    // A number when it is one; otherwise as typed, so the API names the problem.
    if (port) body.port = /^\d+$/.test(port) ? Number(port) : port;
    if (p === 'imap' && text('folder')) body.folder = text('folder');
    const auth = authenticationBody();
    if (auth) body.authentication = auth;
    const mechanism = control('saslMechanism').value || null;
    if (authMethod() === 'oauth2' && (mechanism || editing)) body.saslMechanism = mechanism;
    if (!editing) return { protocol: p, ...body, ...handler.body(p) };
    // Editing: only what changed (authentication is replaced whole when sent).
    const changed = {};
    for (const [key, value] of Object.entries(body)) {
      const before = key === 'folder' ? (editing.folder ?? '') : editing[key];
      if (key === 'authentication' || String(value ?? '') !== String(before ?? ''))
        changed[key] = value;
    }
    if (p === 'imap' && !text('folder') && editing.folder && editing.folder !== 'INBOX')
      changed.folder = 'INBOX';
    if (authMethod() !== 'oauth2' && editing.saslMechanism) changed.saslMechanism = null;
    return { ...changed, ...handler.body(p, editing) };
  }

  function showApiError(error) {
    let field = FIELD_SLOTS[error.field] ?? error.field;
    if (field === 'connectionId' && !linkSelect.value && authMethod() === 'oauth2')
      field = 'linkId';
    showError(form, { ...error, field });
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = bodyOf();
    if (editing && Object.keys(body).length === 0) return dialog.close();
    const url = editing ? `/api/v1/mail-servers/${editing.id}` : '/api/v1/mail-servers';
    const res = await busy($('#mail-server-save'), () =>
      api(editing ? 'PATCH' : 'POST', url, body),
    );
    if (!res.ok) return showApiError(res.error);
    const warnings = (res.data.warnings ?? []).map((w) => w.message);
    flashNext(
      warnings.length ? 'warning' : 'success',
      editing ? msStrings.saved : msStrings.created,
      warnings,
    );
    location.assign('/admin/mail-servers');
  });

  form.addEventListener('click', (event) => {
    const preset = event.target instanceof Element ? event.target.closest('button.preset') : null;
    if (preset) applyPreset(preset);
  });
  form.addEventListener('change', (event) => {
    const { name } = event.target;
    if (name === 'security') {
      // A port that followed the old security's standard follows the new one.
      const port = control('port');
      const previous = Object.values(DEFAULT_PORTS[protocol()]).map(String);
      if (!port.value || previous.includes(port.value))
        port.value = String(DEFAULT_PORTS[protocol()][security()]);
    }
    if (name === 'protocol') control('port').value = '';
    if (name === 'linkId') {
      connectionChosen = false;
      fillConnections();
    }
    if (name === 'connectionId') connectionChosen = Boolean(connectionSelect.value);
    sync();
  });
  control('username').addEventListener('input', () => {
    if (!connectionChosen) selectByUsername();
    showConnectionNote();
  });
  authorizeButton.addEventListener('click', authorize);
  stopButton.addEventListener('click', () => stopPolling(msStrings.authorizeStopped));
  dialog.addEventListener('close', () => stopPolling());

  function open(server) {
    load(server);
    dialog.showModal();
    (server ? control('name') : form.querySelector('input[name="protocol"]:checked')).focus();
  }

  /** Back from the provider in this window: the dialog as it was, the new connection chosen. */
  async function resume(stored, server) {
    sessionStorage.removeItem(DRAFT_KEY);
    open(server);
    const d = stored.draft;
    if (!server) check('protocol', d.protocol);
    check('security', d.security);
    check('authMethod', d.authMethod);
    for (const name of ['name', 'host', 'port', 'username', 'folder', 'saslMechanism'])
      control(name).value = d[name] ?? '';
    if (d.handler) handler.restore(d.handler);
    linkSelect.value = d.linkId;
    fillConnections();
    sync();
    watchFlow(stored.flowId, stored.linkId);
  }

  return { open, resume };
}
