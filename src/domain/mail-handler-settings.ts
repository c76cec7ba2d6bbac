/**
 * The mail handler's settings on an incoming mail server (issue 10 item 1): whether it turns
 * the mailbox's mail into issues, the key prefix of those issues, the reporter of a message
 * without a usable sender, the size limit, the outgoing server that acknowledges new issues,
 * and where messages that cannot be handled go. What they default to and the rules that
 * settle a request into them; the fields themselves are `MailServerFields`'s.
 */
import { OutlinkError } from './errors.js';
import type { MailProtocol } from './mail-server.js';

/** What an incoming server's handler settings are until an administrator changes them. */
export const HANDLER_DEFAULTS = Object.freeze({
  /** Off: adding a mailbox never starts marking its mail read by surprise. */
  handlerEnabled: false,
  issueKeyPrefix: 'MAIL',
  /** 25 MiB: what Gmail and Exchange Online accept as one message. */
  maxMessageBytes: 26_214_400,
});

/** An issue key prefix as stored: `MAIL`, `SUPPORT_JP` (keys read `MAIL-12`). */
export const ISSUE_KEY_PREFIX = /^[A-Z][A-Z0-9_]{0,9}$/;

/** The size limit the API accepts, in bytes: 1 KiB to 100 MiB. */
export const MAX_MESSAGE_BYTES = Object.freeze({ minimum: 1024, maximum: 104_857_600 });

/** The handler's fields, in the order the API, the CLI and the dialog show them. */
export const HandlerFieldNames = [
  'handlerEnabled',
  'issueKeyPrefix',
  'defaultReporter',
  'maxMessageBytes',
  'acknowledgeWith',
  'errorFolder',
] as const;
export type HandlerFieldName = (typeof HandlerFieldNames)[number];

/** The handler's settled fields: all null on an outgoing (SMTP) server. */
export interface HandlerSettings {
  readonly handlerEnabled: boolean | null;
  readonly issueKeyPrefix: string | null;
  readonly defaultReporter: string | null;
  readonly maxMessageBytes: number | null;
  /** The id of the SMTP mail server that acknowledges new issues; null: none. */
  readonly acknowledgeWith: string | null;
  /** IMAP: where messages that cannot be handled are moved; null: left unread in place. */
  readonly errorFolder: string | null;
}

/** What a request may say about them; null clears what may be cleared. */
export type HandlerPatch = { readonly [K in HandlerFieldName]?: HandlerSettings[K] | undefined };

/** Where the rules find the mail server that would send the acknowledgements. */
export interface OutgoingServerDirectory {
  mailServer(
    id: string,
  ): Promise<{ readonly id: string; readonly protocol: MailProtocol } | undefined>;
}

/**
 * Settles the handler fields of a create (`stored` undefined) or an update (merged onto
 * `stored`): defaults for an incoming server, the prefix upper-cased, the acknowledging
 * server checked to be an outgoing one. `folder` is the folder the server reads (IMAP), which
 * the error folder must not be. `notApplicable` makes the catalog error of a field that does
 * not apply to the protocol (its words name the authentication method too).
 */
export async function settleHandler(
  input: HandlerPatch,
  stored: HandlerSettings | undefined,
  protocol: MailProtocol,
  folder: string | null,
  directory: OutgoingServerDirectory,
  notApplicable: (field: string) => OutlinkError,
): Promise<HandlerSettings> {
  if (protocol === 'smtp') {
    for (const field of HandlerFieldNames) if (input[field] != null) throw notApplicable(field);
    return {
      handlerEnabled: null,
      issueKeyPrefix: null,
      defaultReporter: null,
      maxMessageBytes: null,
      acknowledgeWith: null,
      errorFolder: null,
    };
  }
  // POP3 has one mailbox and no folders to move a message to (RFC 1939 §1).
  if (protocol === 'pop3' && input.errorFolder != null) throw notApplicable('errorFolder');

  const kept = <K extends HandlerFieldName>(field: K): HandlerSettings[K] | null => {
    const given = input[field];
    return given !== undefined ? given : (stored?.[field] ?? null);
  };
  const issueKeyPrefix = (kept('issueKeyPrefix') ?? HANDLER_DEFAULTS.issueKeyPrefix).toUpperCase();
  if (!ISSUE_KEY_PREFIX.test(issueKeyPrefix)) {
    throw fieldInvalid(
      'issueKeyPrefix',
      'a letter, then up to 9 letters, digits or underscores (A-Z, 0-9, _)',
    );
  }
  const maxMessageBytes = kept('maxMessageBytes') ?? HANDLER_DEFAULTS.maxMessageBytes;
  if (
    !Number.isInteger(maxMessageBytes) ||
    maxMessageBytes < MAX_MESSAGE_BYTES.minimum ||
    maxMessageBytes > MAX_MESSAGE_BYTES.maximum
  ) {
    throw fieldInvalid(
      'maxMessageBytes',
      `between ${MAX_MESSAGE_BYTES.minimum} and ${MAX_MESSAGE_BYTES.maximum} bytes`,
    );
  }
  if (input.acknowledgeWith != null) {
    const server = await directory.mailServer(input.acknowledgeWith);
    if (!server) throw fieldInvalid('acknowledgeWith', 'there is no mail server with this id');
    if (server.protocol !== 'smtp') {
      throw fieldInvalid(
        'acknowledgeWith',
        'acknowledgements are sent through an outgoing (SMTP) mail server',
      );
    }
  }
  const errorFolder = protocol === 'imap' ? kept('errorFolder') : null;
  // A message moved into the folder being read would be read again, and fail again, forever.
  if (errorFolder !== null && folder !== null && sameFolder(errorFolder, folder)) {
    throw fieldInvalid('errorFolder', 'it must differ from the folder the handler reads');
  }
  return {
    handlerEnabled: kept('handlerEnabled') ?? HANDLER_DEFAULTS.handlerEnabled,
    issueKeyPrefix,
    defaultReporter: kept('defaultReporter'),
    maxMessageBytes,
    acknowledgeWith: kept('acknowledgeWith'),
    errorFolder,
  };
}

/** IMAP folder names compare exactly, except INBOX, which is case-insensitive (RFC 3501 §5.1). */
function sameFolder(a: string, b: string): boolean {
  return a === b || (a.toUpperCase() === 'INBOX' && b.toUpperCase() === 'INBOX');
}

function fieldInvalid(field: string, problem: string): OutlinkError {
  return new OutlinkError('field_invalid', { field, problem }, { details: { field } });
}
