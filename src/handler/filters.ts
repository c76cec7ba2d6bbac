/**
 * Which messages create nothing (DESIGN §8, "Mail handler rules"), and which may be
 * answered with an acknowledgement. Mail loops are the risk both guard against: an
 * auto-reply to an auto-reply, an issue per bounce, an acknowledgement to a mailing list.
 * Pure functions over a parsed message.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3834 RFC 3834 (automatic responses to e-mail)
 * @see https://www.rfc-editor.org/rfc/rfc3464 RFC 3464 (delivery status notifications)
 * @see https://www.rfc-editor.org/rfc/rfc2369 RFC 2369 (List-* header fields)
 */

import type { ParsedMessage } from './parse.js';

/** Why a message creates no issue and no comment. */
export type SkipReason =
  | 'auto_submitted'
  | 'auto_reply'
  | 'bulk'
  | 'bounce'
  | 'own_address'
  | 'no_sender';

/**
 * Why a message creates nothing, or null when it should become an issue or a comment.
 * Checked in this order, the first that applies wins:
 * 1. `no_sender`: no usable From address (none, or one without `@`);
 * 2. `own_address`: From is one of `ownAddresses` (case-insensitive) — Outlink's own mail
 *    coming back;
 * 3. `bounce`: a delivery report (`multipart/report`, RFC 6522), mail from `MAILER-DAEMON`
 *    (any case), Exim's `X-Failed-Recipients`, or a null `Return-Path: <>` with a subject
 *    that reads as a delivery failure. `postmaster@` alone is not a bounce: people write
 *    from it; its bounces are `multipart/report` anyway;
 * 4. `auto_submitted`: `Auto-Submitted` present with any value but `no` (RFC 3834 §5,
 *    parameters ignored);
 * 5. `auto_reply`: `X-Autoreply` or `X-Autorespond` present, whatever the value;
 * 6. `bulk`: `Precedence: bulk`, `junk` or `list`.
 *
 * `X-Auto-Response-Suppress` is not a reason to skip: Outlook sets it on mail people write
 * too. It is a request not to auto-respond, so {@link mayAcknowledge} honours it.
 */
export function screen(message: ParsedMessage, ownAddresses: readonly string[]): SkipReason | null {
  const from = message.from?.address.trim().toLowerCase() ?? '';
  if (!/^[^@\s]+@[^@\s]+$/.test(from)) return 'no_sender';
  if (ownAddresses.some((own) => own.trim().toLowerCase() === from)) return 'own_address';
  if (isBounce(message, from)) return 'bounce';
  const autoSubmitted = message.header('auto-submitted');
  if (autoSubmitted !== undefined && firstToken(autoSubmitted) !== 'no') return 'auto_submitted';
  if (
    message.header('x-autoreply') !== undefined ||
    message.header('x-autorespond') !== undefined
  ) {
    return 'auto_reply';
  }
  if (BULK_PRECEDENCE.has(firstToken(message.header('precedence') ?? ''))) return 'bulk';
  return null;
}

/**
 * Whether an acknowledgement may be sent for this message: never for anything
 * {@link screen} skips, nor for mailing-list mail (any `List-*` field of RFC 2369/2919),
 * nor when the message asks for no automatic answer (`X-Auto-Response-Suppress` other than
 * `None`) or has a null `Return-Path: <>` (RFC 3834 §2), nor when the sender (From) or the
 * Reply-To is a robot's address (`noreply@`, `no-reply@`, `donotreply@`, `mailer-daemon@`,
 * `postmaster@`, `bounce@` and the like) or one of our own: whichever of the two the
 * acknowledgement goes to, it must not go to a robot or back to us.
 */
export function mayAcknowledge(message: ParsedMessage, ownAddresses: readonly string[]): boolean {
  if (screen(message, ownAddresses) !== null) return false;
  if (LIST_FIELDS.some((name) => message.header(name) !== undefined)) return false;
  const suppress = message.header('x-auto-response-suppress');
  if (suppress !== undefined && suppress.trim().toLowerCase() !== 'none') return false;
  if (isNullReturnPath(message)) return false;
  const addresses = [message.from?.address, message.replyTo?.address].filter(
    (address): address is string => address !== undefined,
  );
  return !addresses.some(
    (address) =>
      ROBOT_LOCAL_PART.test(address.slice(0, address.lastIndexOf('@'))) ||
      ownAddresses.some((own) => own.trim().toLowerCase() === address.toLowerCase()),
  );
}

/** The sender throttle's rule: more than `max` messages within `windowMinutes` minutes. */
export interface ThrottleRule {
  readonly max: number;
  readonly windowMinutes: number;
}

/** 20 messages in 10 minutes from one sender: more than a person writes, less than a loop. */
export const DEFAULT_THROTTLE: ThrottleRule = Object.freeze({ max: 20, windowMinutes: 10 });

const BULK_PRECEDENCE = new Set(['bulk', 'junk', 'list']);

const LIST_FIELDS = [
  'list-id',
  'list-unsubscribe',
  'list-post',
  'list-help',
  'list-subscribe',
  'list-owner',
  'list-archive',
];

const ROBOT_LOCAL_PART =
  /^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?)(?:[-+_.].*)?$/i;

// Subjects MTAs give the bounces they send with a null reverse-path (Postfix, Exim,
// sendmail, qmail, Exchange, Gmail, Japanese ISPs)
const FAILURE_SUBJECT =
  /^(?:Undeliver(?:ed|able)|Delivery Status Notification|Delivery (?:has )?failed|Delivery failure|Mail delivery failed|Returned mail|failure notice|Mail System Error|Nondeliverable|配信不能|配送失敗|配信エラー|送信エラー)/i;

function isBounce(message: ParsedMessage, from: string): boolean {
  if (message.contentType === 'multipart/report') return true;
  if (/^mailer-daemon$/i.test(from.slice(0, from.lastIndexOf('@')))) return true;
  if (message.header('x-failed-recipients') !== undefined) return true;
  return isNullReturnPath(message) && FAILURE_SUBJECT.test(message.subject.trim());
}

function isNullReturnPath(message: ParsedMessage): boolean {
  return message.header('return-path')?.replace(/\s+/g, '') === '<>';
}

/** The value before any `;` parameter, lower-case: `auto-replied; owner-email=…` → `auto-replied`. */
function firstToken(value: string): string {
  return (value.split(';')[0] ?? '').trim().toLowerCase();
}
