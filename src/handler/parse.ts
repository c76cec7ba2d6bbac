/**
 * Parsing of one raw message into what the handler needs: ids for threading, the sender,
 * the subject, readable text and the attachments within the limits. mailparser reads the
 * MIME structure, transfer encodings and charsets (ISO-2022-JP, Shift_JIS/CP932, EUC-JP,
 * ISO-8859-x, Windows-125x, RFC 2047 and RFC 2231); this module only repairs what
 * mailparser cannot (raw 8-bit header bytes, see `charset.ts`), converts HTML-only bodies
 * to text and applies the attachment caps.
 *
 * Decisions:
 * - A `message/rfc822` part (a message forwarded as an attachment, or a bounce's returned
 *   message) stays whole as an `.eml` attachment and its text is not merged into `text`:
 *   the forwarder's note is the new text, and the `.eml` keeps the original with its own
 *   headers and attachments intact for whoever opens it.
 * - Attachments are kept in message order until the per-message budget would be exceeded;
 *   that one and every later one are dropped (`message_attachments_too_large`), so what is
 *   kept is a prefix of the message, not a cherry-picked subset. A file larger than
 *   `maxAttachmentBytes` is always `file_too_large`, whatever the budget.
 * - A filename keeps only its last path segment (`C:\fakepath\a.pdf` → `a.pdf`), without
 *   control characters; a part without one is named `attachment-<n>.<ext>` after its
 *   content type, `n` its position among the attachments.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322 RFC 5322 (message format)
 * @see https://www.rfc-editor.org/rfc/rfc2047 RFC 2047 (encoded words)
 * @see https://www.rfc-editor.org/rfc/rfc2231 RFC 2231 (parameter values)
 */

import libmime from 'libmime';
import { type AddressObject, type Attachment, type ParsedMail, simpleParser } from 'mailparser';
import { declaredCharsets, repairRawHeaders } from './charset.js';
import { htmlToReadableText } from './html-text.js';

/** A mailbox: the address lower-cased, the display name decoded ('' when none). */
export interface MailAddress {
  readonly address: string;
  readonly name: string;
}

/** An attachment kept within the limits, content decoded from its transfer encoding. */
export interface ParsedAttachment {
  readonly filename: string;
  /** Lower-case media type, e.g. `application/pdf`. */
  readonly contentType: string;
  /** Bytes of the decoded content. */
  readonly size: number;
  readonly content: Buffer;
}

/** An attachment left out because of a limit, recorded so the issue can say so. */
export interface DroppedAttachment {
  readonly filename: string;
  readonly size: number;
  readonly reason: 'file_too_large' | 'message_attachments_too_large';
}

/** The attachment caps, in bytes of decoded content. */
export interface ParseLimits {
  /** The largest single file kept. */
  readonly maxAttachmentBytes: number;
  /** The most bytes of attachments kept from one message, together. */
  readonly maxAttachmentBytesPerMessage: number;
}

/** One message as the handler sees it. */
export interface ParsedMessage {
  /** The `Message-ID` without angle brackets, trimmed; null when absent or empty. */
  readonly messageId: string | null;
  /** The `In-Reply-To` ids, without angle brackets. */
  readonly inReplyTo: readonly string[];
  /** The `References` ids, without angle brackets, in header order. */
  readonly references: readonly string[];
  /** The decoded subject; '' when absent. */
  readonly subject: string;
  readonly from: MailAddress | null;
  readonly replyTo: MailAddress | null;
  /** The `To` and `Cc` addresses, lower-cased, first occurrence first. */
  readonly to: readonly string[];
  /** The `Date` header; null when absent or unreadable. */
  readonly date: Date | null;
  /**
   * The readable plain-text body: the text/plain part, else the HTML part converted to text;
   * '' when there is neither. Line ends are LF.
   */
  readonly text: string;
  /** The attachments kept within the limits, in message order (inline `cid:` images too). */
  readonly attachments: readonly ParsedAttachment[];
  readonly droppedAttachments: readonly DroppedAttachment[];
  /** The top-level media type, lower-case, e.g. `multipart/report`. */
  readonly contentType: string;
  /**
   * The first value of a top-level header field (name case-insensitive), unfolded, trimmed
   * and decoded from RFC 2047; undefined when the message has no such field.
   */
  header(name: string): string | undefined;
}

/**
 * A parsed message as plain data (what a parse worker hands back across threads): the
 * {@link ParsedMessage} without its `header` lookup, and the decoded top-level header fields
 * by lower-case name, from which {@link parsedFromData} rebuilds it.
 */
export type ParsedMessageData = Omit<ParsedMessage, 'header'> & {
  readonly headers: ReadonlyMap<string, readonly string[]>;
};

/** Thrown when the bytes cannot be read as a message at all; the handler records a failure. */
export class UnparseableMessage extends Error {
  readonly code = 'unparseable';

  constructor(reason: string, options?: ErrorOptions) {
    super(`unparseable message: ${reason}`, options);
    this.name = 'UnparseableMessage';
  }
}

/**
 * mailparser's options as the handler uses them (also what bench/mail-handler.ts parses with,
 * to show mailparser's share of the handler's time). cid: links stay as they are (the images
 * are attachments, not data: URLs inside the text); text bodies are not turned into HTML
 * (unused); HTML is converted here, for every layout (mailparser converts only a root HTML
 * part or one beside a text part); checksums unused.
 */
export const PARSER_OPTIONS = {
  keepCidLinks: true,
  skipImageLinks: true,
  skipTextToHtml: true,
  skipHtmlToText: true,
  ignoreEmbedded: true,
  checksumAlgo: false,
} as const;

/**
 * Parses one raw message (RFC 5322 bytes, as IMAP `BODY[]` or POP3 `RETR` deliver them).
 * Odd messages are read as well as they can be; only bytes that are no message at all
 * (empty, no header section, binary garbage) throw {@link UnparseableMessage}.
 */
export async function parseMessage(raw: Buffer, limits: ParseLimits): Promise<ParsedMessage> {
  return parsedFromData(await parseMessageData(raw, limits));
}

/** {@link parseMessage} as plain data, which can cross a thread (`parse-pool.ts`). */
export async function parseMessageData(
  raw: Buffer,
  limits: ParseLimits,
): Promise<ParsedMessageData> {
  const bytes = withoutMboxSeparator(raw);
  assertHeaderSection(bytes);
  const repaired = repairRawHeaders(bytes, declaredCharsets(bytes));
  let mail: ParsedMail;
  try {
    mail = await simpleParser(repaired, PARSER_OPTIONS);
  } catch (cause) {
    throw new UnparseableMessage('the MIME structure cannot be read', { cause });
  }
  const fields = headerFields(mail);
  if (fields.size === 0) throw new UnparseableMessage('no header fields');
  const header = (name: string): string | undefined => fields.get(name)?.[0];
  const { attachments, droppedAttachments } = applyLimits(mail.attachments, limits);
  return {
    messageId: firstId(header('message-id')),
    inReplyTo: idsOf(header('in-reply-to')),
    references: idsOf(fields.get('references')?.join(' ')),
    subject: mail.subject ?? '',
    from: firstMailbox(mail.from),
    replyTo: firstMailbox(mail.replyTo),
    to: recipients(mail),
    date: dateOf(header('date')),
    text: bodyText(mail),
    attachments,
    droppedAttachments,
    contentType: topLevelContentType(header('content-type')),
    headers: fields,
  };
}

/** The {@link ParsedMessage} of plain data, with its `header` lookup. */
export function parsedFromData(data: ParsedMessageData): ParsedMessage {
  const { headers, ...message } = data;
  return { ...message, header: (name) => headers.get(name.toLowerCase())?.[0] };
}

/**
 * The message without a leading mbox `From ` separator line, which a message saved from an
 * mbox file (rather than fetched over IMAP or POP3) still carries; it is no header field.
 */
function withoutMboxSeparator(raw: Buffer): Buffer {
  if (!raw.subarray(0, 5).equals(MBOX_SEPARATOR)) return raw;
  const lineEnd = raw.indexOf(0x0a);
  return lineEnd === -1 ? Buffer.alloc(0) : raw.subarray(lineEnd + 1);
}

const MBOX_SEPARATOR = Buffer.from('From ', 'ascii');

/**
 * Refuses bytes that have no header section: RFC 5322 §2.1 starts a message with header
 * fields, so the first line must be `name: value` (field names are printable ASCII without
 * a colon, §3.6.8). A NUL byte among the header lines is binary data, not a message.
 */
function assertHeaderSection(raw: Buffer): void {
  if (raw.length === 0) throw new UnparseableMessage('empty input');
  const lineEnd = raw.indexOf(0x0a);
  const firstLine = raw.subarray(0, lineEnd === -1 ? raw.length : lineEnd).toString('latin1');
  if (!/^[\x21-\x39\x3b-\x7e]+[ \t]*:/.test(firstLine)) {
    throw new UnparseableMessage('no header section');
  }
  // the header section ends at the first empty line, whether lines end in LF or CRLF
  const emptyLine = raw.indexOf('\n\n');
  const crlfEmptyLine = raw.indexOf('\n\r\n');
  const ends = [emptyLine, crlfEmptyLine].filter((at) => at !== -1);
  const end = ends.length > 0 ? Math.min(...ends) : raw.length;
  if (raw.subarray(0, end).includes(0)) throw new UnparseableMessage('binary data in the header');
}

/** Every top-level header field's values by lower-case name, in order, decoded. */
function headerFields(mail: ParsedMail): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const line of mail.headerLines ?? []) {
    if (!line.key) continue;
    // mailsplit hands the bytes over as a binary string; after the repair they are UTF-8
    const text = Buffer.from(line.line, 'latin1').toString('utf8');
    const colon = text.indexOf(':');
    const value = decodeWords(text.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '')).trim();
    const values = fields.get(line.key);
    if (values) values.push(value);
    else fields.set(line.key, [value]);
  }
  return fields;
}

function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** The ids of a `Message-ID`, `In-Reply-To` or `References` value (RFC 5322 §3.6.4). */
function idsOf(value: string | undefined): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>]*)>/g)].map((m) => (m[1] ?? '').trim());
  // some clients write ids without brackets; then every word is taken for one
  const ids = bracketed.length > 0 ? bracketed : value.split(/[\s,]+/);
  return [...new Set(ids.filter((id) => id.length > 0))];
}

function firstId(value: string | undefined): string | null {
  return idsOf(value)[0] ?? null;
}

type AddressValue = AddressObject['value'][number];

/** The mailboxes of an address header, group members included (RFC 5322 §3.4). */
function mailboxes(header: AddressObject | AddressObject[] | undefined): AddressValue[] {
  const objects = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return objects.flatMap((object) =>
    object.value.flatMap((entry) => (entry.group ? entry.group : [entry])),
  );
}

function firstMailbox(header: AddressObject | undefined): MailAddress | null {
  const mailbox = mailboxes(header).find((entry) => entry.address?.includes('@'));
  if (!mailbox?.address) return null;
  return { address: mailbox.address.trim().toLowerCase(), name: (mailbox.name ?? '').trim() };
}

function recipients(mail: ParsedMail): string[] {
  const addresses = [...mailboxes(mail.to), ...mailboxes(mail.cc)]
    .map((entry) => entry.address?.trim().toLowerCase() ?? '')
    .filter((address) => address.length > 0);
  return [...new Set(addresses)];
}

/** The `Date` value; null when unreadable (mailparser would substitute the current time). */
function dateOf(value: string | undefined): Date | null {
  if (!value) return null;
  // RFC 5322 §4.3 obsolete zone names are mostly US ones, which Date knows; Japanese mailers
  // write "JST", which it does not
  const date = new Date(value.replace(/\(.*?\)/g, ' ').replace(/\bJST\s*$/, '+0900'));
  return Number.isNaN(date.getTime()) ? null : date;
}

function topLevelContentType(value: string | undefined): string {
  // RFC 2045 §5.2: no Content-Type means text/plain
  const type = (value ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return /^[^\s/]+\/[^\s/]+$/.test(type) ? type : 'text/plain';
}

/** The text/plain body, else the HTML converted; LF line ends, without a byte order mark. */
function bodyText(mail: ParsedMail): string {
  const plain = mail.text ?? '';
  const text = plain.trim().length > 0 || !mail.html ? plain : htmlToReadableText(mail.html);
  return text.replace(/\r\n?/g, '\n').replace(/^\uFEFF/, '');
}

interface Limited {
  readonly attachments: ParsedAttachment[];
  readonly droppedAttachments: DroppedAttachment[];
}

function applyLimits(parts: readonly Attachment[], limits: ParseLimits): Limited {
  const attachments: ParsedAttachment[] = [];
  const droppedAttachments: DroppedAttachment[] = [];
  let total = 0;
  let budgetExceeded = false;
  parts.forEach((part, index) => {
    const contentType = (part.contentType || 'application/octet-stream').toLowerCase();
    const filename = filenameOf(part.filename, contentType, index + 1);
    const content = part.content;
    const size = content.length;
    if (size > limits.maxAttachmentBytes) {
      droppedAttachments.push({ filename, size, reason: 'file_too_large' });
      return;
    }
    if (budgetExceeded || total + size > limits.maxAttachmentBytesPerMessage) {
      budgetExceeded = true;
      droppedAttachments.push({ filename, size, reason: 'message_attachments_too_large' });
      return;
    }
    total += size;
    attachments.push({ filename, contentType, size, content });
  });
  return { attachments, droppedAttachments };
}

/** The last path segment of a sender's filename, or one made from the content type. */
export function filenameOf(given: string | undefined, contentType: string, n: number): string {
  const name = (given ?? '')
    .replace(/\p{Cc}/gu, '')
    .split(/[/\\]/)
    .pop()
    ?.trim();
  if (name && name !== '.' && name !== '..') return name;
  return `attachment-${n}.${extensionOf(contentType)}`;
}

function extensionOf(contentType: string): string {
  const known = libmime.detectExtension(contentType);
  if (known && known !== 'bin') return known;
  // a bounce's delivery report and returned headers are text to whoever opens them
  const textual = contentType.startsWith('text/') || contentType === 'message/delivery-status';
  return textual ? 'txt' : 'bin';
}
