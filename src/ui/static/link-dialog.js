// The create / edit link dialog: its steps, provider presets, the redirect URL, scopes per
// protocol, and saving through the JSON API with the errors shown next to their fields.
import {
  $,
  $$,
  api,
  busy,
  clearErrors,
  errorText,
  flashNext,
  showError,
  strings,
} from './common.js';

export function wireLinkDialog() {
  const dialog = $('#link-dialog');
  const form = $('#link-form');
  const editing = form.dataset.mode === 'edit';
  const field = (name) => form.elements.namedItem(name);
  // Fetched when first needed: most page views never open the dialog.
  let presetRequest;
  const presets = () => {
    presetRequest ??= api('GET', '/api/v1/providers').then((res) =>
      res.ok ? new Map(res.data.items.map((p) => [p.id, p])) : new Map(),
    );
    return presetRequest;
  };
  let step = editing ? 3 : 1;
  let prefilled = editing ? form.dataset.provider : undefined;
  let tenant = field('tenant').value.trim() || 'common';
  let redirectSeq = 0;
  let redirectTimer;

  const provider = () =>
    editing ? form.dataset.provider : form.querySelector('input[name="provider"]:checked')?.value;
  const cloud = () => form.querySelector('input[name="cloud"]:checked')?.value ?? 'global';
  const parseScopes = (text) => [...new Set(text.split(/\s+/).filter(Boolean))];
  // The cloud the endpoints and scopes in the form follow (Microsoft: one host per cloud).
  let shownCloud = cloud();
  const msEndpoint = (preset, kind, t, c = cloud()) =>
    (preset.endpointsByCloud?.[c] ?? preset.endpoints)[kind].replace(
      '/common/',
      `/${encodeURIComponent(t || 'common')}/`,
    );

  function scopesFor(preset, protocol) {
    if (!preset?.scopes) return [];
    return (preset.scopesByCloud?.[cloud()] ?? preset.scopes)[protocol] ?? [];
  }

  function showStep(n) {
    step = n;
    for (const section of $$('[data-step]', form))
      section.hidden = Number(section.dataset.step) !== n;
    for (const marker of $$('[data-step-marker]', dialog)) {
      if (Number(marker.dataset.stepMarker) === n) marker.setAttribute('aria-current', 'step');
      else marker.removeAttribute('aria-current');
    }
    if ($('#link-back')) $('#link-back').hidden = n === 1;
    if ($('#link-next')) $('#link-next').hidden = n === 3;
    $('#link-save').hidden = n !== 3;
    $(`#step-${n}-title`)?.focus();
  }

  async function applyProvider() {
    const p = provider();
    const preset = (await presets()).get(p);
    for (const node of $$('[data-providers]', form)) {
      node.hidden = !node.dataset.providers.split(' ').includes(p);
    }
    $('#ip-literal-warning').hidden = !(p === 'google' && form.dataset.ipLiteral);
    if (prefilled !== p) {
      prefilled = p;
      const endpoints = preset?.endpoints;
      field('authorizationEndpoint').value = endpoints
        ? msOrPreset(preset, 'authorizationEndpoint')
        : '';
      field('tokenEndpoint').value = endpoints ? msOrPreset(preset, 'tokenEndpoint') : '';
      for (const box of $$('input[name="protocol"]', form)) box.checked = Boolean(preset?.scopes);
      const all = ['imap', 'pop3', 'smtp'].flatMap((protocol) => scopesFor(preset, protocol));
      field('scopes').value = [...new Set([...all, ...(preset?.requiredScopes ?? [])])].join('\n');
    }
    for (const list of $$('[data-scope-list]', form)) {
      list.textContent = scopesFor(preset, list.dataset.scopeList).join(' ');
    }
    syncProtocols(preset);
    updateRedirect();
  }

  function msOrPreset(preset, kind) {
    return preset.id === 'microsoft' ? msEndpoint(preset, kind, tenant) : preset.endpoints[kind];
  }

  function syncProtocols(preset) {
    const current = parseScopes(field('scopes').value);
    for (const box of $$('input[name="protocol"]', form)) {
      const wanted = scopesFor(preset, box.value);
      box.checked = wanted.length > 0 && wanted.every((s) => current.includes(s));
    }
  }

  async function protocolsChanged() {
    const preset = (await presets()).get(provider());
    const protocols = ['imap', 'pop3', 'smtp'];
    const all = protocols.flatMap((p) => scopesFor(preset, p));
    const chosen = $$('input[name="protocol"]:checked', form).flatMap((b) =>
      scopesFor(preset, b.value),
    );
    const extras = parseScopes(field('scopes').value).filter((s) => !all.includes(s));
    field('scopes').value = [...new Set([...chosen, ...extras])].join('\n');
  }

  async function cloudChanged() {
    const preset = (await presets()).get(provider());
    if (!preset?.scopesByCloud) return;
    const to = preset.scopesByCloud[cloud()];
    const from = preset.scopesByCloud[shownCloud] ?? preset.scopesByCloud.global;
    for (const kind of ['authorizationEndpoint', 'tokenEndpoint']) {
      // Endpoints that followed the cloud keep following; typed ones stay as typed.
      if (field(kind).value === msEndpoint(preset, kind, tenant, shownCloud)) {
        field(kind).value = msEndpoint(preset, kind, tenant);
      }
    }
    shownCloud = cloud();
    const swap = new Map(
      ['imap', 'pop3', 'smtp'].flatMap((p) => from[p].map((s, i) => [s, to[p][i]])),
    );
    field('scopes').value = parseScopes(field('scopes').value)
      .map((s) => swap.get(s) ?? s)
      .join('\n');
    for (const list of $$('[data-scope-list]', form)) {
      list.textContent = scopesFor(preset, list.dataset.scopeList).join(' ');
    }
  }

  async function tenantChanged() {
    const preset = (await presets()).get('microsoft');
    const next = field('tenant').value.trim() || 'common';
    if (!preset?.endpoints) return;
    for (const kind of ['authorizationEndpoint', 'tokenEndpoint']) {
      // Endpoints typed by hand stay as typed; those that followed the tenant keep following.
      if (field(kind).value === msEndpoint(preset, kind, tenant)) {
        field(kind).value = msEndpoint(preset, kind, next);
      }
    }
    tenant = next;
    scheduleRedirect();
  }

  function scheduleRedirect() {
    clearTimeout(redirectTimer);
    redirectTimer = setTimeout(updateRedirect, 300);
  }

  /** The redirect URL for the endpoint typed so far (DESIGN §4), from the API. */
  async function updateRedirect() {
    const seq = ++redirectSeq;
    const output = $('#redirectUrl');
    const pending = $('#redirect-pending');
    const copyButton = $('[data-copy="redirectUrl"]', form);
    const endpoint = field('authorizationEndpoint').value.trim();
    const show = (url, note) => {
      output.value = url;
      pending.textContent = note;
      copyButton.disabled = !url;
    };
    if (!/^https:\/\/[^/]+/i.test(endpoint)) {
      return show(
        '',
        provider() === 'custom' ? strings.redirectPendingCustom : strings.redirectPendingTenant,
      );
    }
    const query = new URLSearchParams({ provider: provider(), authorizationEndpoint: endpoint });
    const res = await api('GET', `/api/v1/redirect-url?${query}`);
    if (seq !== redirectSeq) return;
    show(res.ok ? res.data.redirectUrl : '', res.ok ? '' : errorText(res.error));
  }

  function changedOnly(body) {
    const out = {};
    for (const [key, value] of Object.entries(body)) {
      const input = field(key);
      if (key === 'clientSecret') {
        if (value) out[key] = value;
      } else if (key === 'scopes') {
        if (value.join(' ') !== parseScopes(input.defaultValue).join(' ')) out[key] = value;
      } else if (key === 'cloud') {
        if (!form.querySelector('input[name="cloud"]:checked')?.defaultChecked) out[key] = value;
      } else if (key === 'clientAuthMethod') {
        if (!input.selectedOptions[0]?.defaultSelected) out[key] = value;
      } else if (input && input.value !== input.defaultValue) {
        out[key] = value;
      }
    }
    return out;
  }

  function bodyOf() {
    const p = provider();
    const text = (name) => field(name).value.trim();
    const body = {
      name: text('name'),
      description: text('description'),
      clientId: text('clientId'),
    };
    body.clientSecret = field('clientSecret').value;
    body.scopes = parseScopes(field('scopes').value);
    if (text('authorizationEndpoint')) body.authorizationEndpoint = text('authorizationEndpoint');
    if (text('tokenEndpoint')) body.tokenEndpoint = text('tokenEndpoint');
    if (p === 'microsoft') {
      body.tenant = text('tenant') || 'common';
      body.cloud = cloud();
    }
    if (p === 'custom') {
      if (text('issuer')) body.issuer = text('issuer');
      body.clientAuthMethod = field('clientAuthMethod').value;
    }
    const expires = text('clientSecretExpiresAt');
    if (expires || editing) body.clientSecretExpiresAt = expires ? `${expires}T00:00:00Z` : null;
    if (editing) return changedOnly(body);
    body.provider = p;
    if (!body.description) delete body.description;
    if (!body.clientSecretExpiresAt) delete body.clientSecretExpiresAt;
    return body;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (step !== 3) return;
    clearErrors(form);
    const body = bodyOf();
    if (editing && Object.keys(body).length === 0) return dialog.close();
    const url = editing ? `/api/v1/links/${form.dataset.linkId}` : '/api/v1/links';
    const res = await busy($('#link-save'), () => api(editing ? 'PATCH' : 'POST', url, body));
    if (!res.ok) return showError(form, res.error);
    const warnings = (res.data.warnings ?? []).map((w) => w.message);
    flashNext(
      warnings.length ? 'warning' : 'success',
      editing ? strings.saved : strings.created,
      warnings,
    );
    location.assign(`/admin/applinks/${res.data.id}`);
  });

  $('#link-next')?.addEventListener('click', async () => {
    if (step === 2) await applyProvider();
    showStep(step + 1);
  });
  $('#link-back')?.addEventListener('click', () => showStep(step - 1));
  form.addEventListener('change', (event) => {
    const name = event.target.name;
    if (name === 'protocol') protocolsChanged();
    if (name === 'cloud') cloudChanged().then(applyProvider);
  });
  form.addEventListener('input', async (event) => {
    const name = event.target.name;
    if (name === 'tenant') tenantChanged();
    if (name === 'authorizationEndpoint') scheduleRedirect();
    if (name === 'scopes') syncProtocols((await presets()).get(provider()));
  });

  const isNewPath = () => location.pathname === '/admin/applinks/new';
  function open() {
    if (dialog.open) return;
    dialog.showModal();
    if (editing) applyProvider();
    showStep(step);
  }
  dialog.addEventListener('close', () => {
    if (isNewPath()) history.replaceState(null, '', '/admin/applinks');
  });
  $('#create-link')?.addEventListener('click', (event) => {
    event.preventDefault();
    history.pushState(null, '', '/admin/applinks/new');
    open();
  });
  $('#edit-link')?.addEventListener('click', open);
  window.addEventListener('popstate', () => {
    if (isNewPath()) open();
    else if (dialog.open) dialog.close();
  });
  if (dialog.dataset.open) open();
}
