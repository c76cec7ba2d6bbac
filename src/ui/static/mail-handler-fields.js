// The mail handler part of the mail server dialog (issue 10): whether the mailbox's mail
// becomes issues and comments, the key prefix, the default reporter, the size limit (MiB
// here, bytes in the API), the outgoing server that acknowledges new issues, the polling
// interval, what becomes of a handled message, and the error folder (IMAP). Fills the fields
// from a server as the API returns it and gives back what to send.
import { $ } from './common.js';

const MIB = 1024 * 1024;
/** What the API settles an empty field to (domain/mail-handler-settings.ts, mail-server.ts). */
const DEFAULTS = { issueKeyPrefix: 'MAIL', maxMessageBytes: 26_214_400, pollIntervalSeconds: 300 };
/** The text fields, as drafts keep them. */
const TEXT_FIELDS = [
  'issueKeyPrefix',
  'maxMessageMiB',
  'defaultReporter',
  'acknowledgeWith',
  'pollIntervalSeconds',
  'processedAction',
  'processedFolder',
  'errorFolder',
];

/** API field names → the form's slot for their errors. */
export const HANDLER_SLOTS = { maxMessageBytes: 'maxMessageMiB' };

/** Bytes as the size field shows them: MiB, with at most two decimals. */
function mibOf(bytes) {
  return String(Math.round((bytes / MIB) * 100) / 100);
}

/** A whole number when it is one; otherwise as typed, so that the API names the problem. */
function wholeOr(text) {
  return /^\d{1,15}$/.test(text) ? Number(text) : text;
}

/** Wires the handler fields of `form`; the dialog calls `sync`, `load`, `body` and the drafts. */
export function wireHandlerFields(form) {
  const control = (name) => form.elements.namedItem(name);
  const enabled = control('handlerEnabled');
  const action = control('processedAction');
  const moveOption = action.querySelector('option[value="move"]');
  /** The size limit as it was shown, so an unchanged field is not rounded into a change. */
  let shownMiB = '';

  /** What applies to the protocol: moving needs IMAP folders; its folder only with move. */
  function sync(protocol) {
    moveOption.disabled = protocol !== 'imap';
    if (moveOption.disabled && action.value === 'move') action.value = 'seen';
    $('#ms-processed-folder').hidden = protocol !== 'imap' || action.value !== 'move';
  }

  /** The fields as the server `s` has them (empty for a new server: the defaults apply). */
  function load(s) {
    const incoming = s && s.protocol !== 'smtp';
    enabled.checked = Boolean(incoming && s.handlerEnabled);
    control('issueKeyPrefix').value = incoming ? (s.issueKeyPrefix ?? '') : '';
    shownMiB = incoming && s.maxMessageBytes != null ? mibOf(s.maxMessageBytes) : '';
    control('maxMessageMiB').value = shownMiB;
    control('defaultReporter').value = (incoming && s.defaultReporter) || '';
    const ack = control('acknowledgeWith');
    const ackId = (incoming && s.acknowledgeWith) || '';
    if (ackId && ![...ack.options].some((o) => o.value === ackId)) {
      // Not among the servers the page listed (added meanwhile): offered all the same.
      const option = document.createElement('option');
      option.value = ackId;
      option.textContent = s.acknowledgeWithName ?? ackId;
      ack.append(option);
    }
    ack.value = ackId;
    control('pollIntervalSeconds').value = incoming ? String(s.pollIntervalSeconds ?? '') : '';
    action.value = (incoming && s.processedAction) || 'seen';
    control('processedFolder').value = (incoming && s.processedFolder) || '';
    control('errorFolder').value = (incoming && s.errorFolder) || '';
  }

  /**
   * What to send for `protocol`: everything that is set when creating; when editing `stored`,
   * only what changed, an emptied field as its default (or null where null means none).
   */
  function body(protocol, stored) {
    if (protocol === 'smtp') return {};
    const text = (name) => control(name).value.trim();
    const out = {
      handlerEnabled: enabled.checked,
      issueKeyPrefix: text('issueKeyPrefix').toUpperCase() || DEFAULTS.issueKeyPrefix,
      defaultReporter: text('defaultReporter') || null,
      acknowledgeWith: control('acknowledgeWith').value || null,
      pollIntervalSeconds: text('pollIntervalSeconds')
        ? wholeOr(text('pollIntervalSeconds'))
        : DEFAULTS.pollIntervalSeconds,
      processedAction: action.value,
    };
    const mib = text('maxMessageMiB');
    if (!stored || mib !== shownMiB) {
      out.maxMessageBytes = !mib
        ? DEFAULTS.maxMessageBytes
        : /^\d+(\.\d+)?$/.test(mib)
          ? Math.round(Number(mib) * MIB)
          : mib;
    }
    if (action.value === 'move') out.processedFolder = text('processedFolder') || null;
    if (protocol === 'imap') out.errorFolder = text('errorFolder') || null;
    if (!stored) {
      // A new server: what is empty is left to the API's defaults.
      for (const [key, value] of Object.entries(out)) if (value === null) delete out[key];
      return out;
    }
    const changed = {};
    for (const [key, value] of Object.entries(out)) {
      if (String(value ?? '') !== String(stored[key] ?? '')) changed[key] = value;
    }
    // The folder goes with its action, which the API checks together.
    if ('processedAction' in changed && action.value === 'move') {
      changed.processedFolder = out.processedFolder;
    }
    return changed;
  }

  function draft() {
    const out = { handlerEnabled: enabled.checked };
    for (const name of TEXT_FIELDS) out[name] = control(name).value;
    return out;
  }

  function restore(d) {
    enabled.checked = Boolean(d.handlerEnabled);
    for (const name of TEXT_FIELDS) if (name in d) control(name).value = d[name];
  }

  return { sync, load, body, draft, restore };
}
