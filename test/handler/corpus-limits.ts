/**
 * Recipes at the handler's limits: a message over the size limit, bytes that are no message,
 * a second delivery of a message, and the flooder the sender throttle must stop.
 */
import { Buffer } from 'node:buffer';
import { fileContent } from './corpus-attachments.js';
import { boundaryFor, envelope, plainPart } from './corpus-envelope.js';
import { basics, issueProduced } from './corpus-issues.js';
import type { Recipe } from './corpus-model.js';
import { SENDER_CAP } from './corpus-people.js';
import { robot } from './corpus-skips.js';
import { attachmentPart, buildMessage, multipart, textPart } from './mime.js';

/** A message over the size limit: a normal issue padded with a large attachment. */
export const tooLarge: Recipe = (ctx) => {
  const { random } = ctx;
  const b = basics(ctx, random.pick(['en', 'ja'] as const));
  const size = Math.ceil(ctx.options.maxMessageBytes * 0.75) + random.int(1024, 65536);
  const filename = random.pick(['scan.pdf', 'video.mp4', 'backup.zip']);
  const entity = multipart(
    'mixed',
    [
      plainPart(random, b.person, b.text, b.charset, b.transfer),
      attachmentPart({
        filename,
        contentType: 'application/octet-stream',
        content: fileContent(random, 'x.bin', size),
        style: 'plain',
      }),
    ],
    { boundary: boundaryFor(random, b.person.client) },
  );
  const messageId = ctx.messageId(b.person);
  const raw = buildMessage(
    envelope(ctx, {
      person: b.person,
      subject: b.written.subject,
      messageId,
      bodyCharset: b.charset,
    }),
    entity,
  );
  if (raw.length <= ctx.options.maxMessageBytes)
    throw new Error('too-large message is not too large');
  return {
    raw,
    messageId,
    sender: b.person.address,
    label: 'failed too-large',
    expect: { kind: 'failed', reason: 'too_large' },
  };
};

/** Bytes that are no message: no header field at all, no header/body separator. */
export const unparseable: Recipe = (ctx) => {
  const { random } = ctx;
  const variant = random.pick(['binary', 'text'] as const);
  const raw =
    variant === 'binary'
      ? Buffer.from(
          Array.from({ length: random.int(200, 800) }, () =>
            random.pick([1, 2, 0xff, 0xfe, 0x80, 0x90, 0x1b, 0x7f]),
          ),
        )
      : Buffer.from(
          `${'this is not a mail message, the transfer was cut '.repeat(random.int(2, 6))}`,
          'latin1',
        );
  return {
    raw,
    messageId: null,
    sender: `unparseable-${ctx.index}`,
    label: `failed unparseable ${variant}`,
    expect: { kind: 'failed', reason: 'unparseable' },
  };
};

/** The same message delivered a second time: same bytes, same Message-ID. */
export const duplicate: Recipe = (ctx) => {
  const candidates = ctx.messages.filter(
    (m) =>
      m.messageId !== null &&
      (m.expect.kind === 'issue' || m.expect.kind === 'comment') &&
      !m.label.includes('flood') &&
      ctx.people.uses(ctx.senders[m.index]!) < SENDER_CAP,
  );
  if (candidates.length === 0) return null;
  const first = ctx.random.pick(candidates.slice(-100));
  return {
    raw: first.raw,
    messageId: first.messageId,
    sender: ctx.senders[first.index]!,
    label: `duplicate of-${first.expect.kind}`,
    expect: { kind: 'duplicate', of: first.index },
  };
};

/** The flooder: an auto-responder gone wrong that sends no auto headers at all. */
export const FLOODER = robot('Order Confirmation', 'orders-noreply@shop.example.net');

/** The number of messages the flooder sends and the number the handler lets through. */
export const FLOOD_SIZE = 30;
export const FLOOD_ALLOWED = 20;

/** One of the flooder's messages: an issue while under the limit, throttled after. */
export const floodMessage: Recipe = (ctx) => {
  const sent = ctx.people.uses(FLOODER.address);
  const marker = ctx.marker();
  const subject = `We have received your order ${marker}`;
  const line = `Thank you, your order ${marker} is being processed.`;
  const messageId = `${marker}.${ctx.index}@shop.example.net`;
  const raw = buildMessage(
    envelope(ctx, { person: FLOODER, subject, messageId, bodyCharset: 'us-ascii' }),
    textPart({
      text: `${line}\nThis is an automatic message, please do not reply.\n`,
      charset: 'us-ascii',
      transferEncoding: '7bit',
    }),
  );
  if (sent >= FLOOD_ALLOWED) {
    return {
      raw,
      messageId,
      sender: FLOODER.address,
      label: 'skipped throttled flood',
      expect: { kind: 'skipped', reason: 'throttled' },
      senderCap: FLOOD_SIZE,
    };
  }
  return {
    ...issueProduced(ctx, {
      person: FLOODER,
      subject,
      summary: subject,
      raw,
      messageId,
      label: 'issue flood',
      lines: [line],
      includes: [line],
      excludes: [],
    }),
    senderCap: FLOOD_SIZE,
  };
};
