/**
 * The mail handler's test corpus: a deterministic mailbox of mixed, realistic messages, each
 * with exactly what the handler must make of it. The end-to-end test appends the messages to
 * a real Dovecot mailbox in index order, runs the handler, and asserts every expectation.
 *
 * The mix: new issues in English, Japanese, German, French and Russian in every charset the
 * handler must read (UTF-8, ISO-2022-JP, Shift_JIS with CP932 characters, EUC-JP, ISO-8859-1/15,
 * windows-1252, windows-1251, KOI8-R), HTML-only, multipart/alternative, attachments, forwards,
 * prefixed and broken subjects and broken MIME; replies by In-Reply-To, References and the key
 * in the subject, quoted the way Gmail, Outlook, Thunderbird, Apple Mail and Becky! quote; and
 * what must create nothing: auto-replies, bulk mail, bounces, mail from the handler itself,
 * a flooder past the throttle, second deliveries, messages too large or no message at all.
 */

import { attachmentIssue, forwardedIssue } from './corpus-attachments.js';
import { brokenIssue } from './corpus-broken.js';
import { messageIdFor } from './corpus-ids.js';
import { alternativeIssue, htmlOnlyIssue, lc, plainIssue } from './corpus-issues.js';
import {
  duplicate,
  FLOOD_SIZE,
  FLOODER,
  floodMessage,
  tooLarge,
  unparseable,
} from './corpus-limits.js';
import type { CorpusMessage, CorpusOptions, Ctx, IssueState, Recipe } from './corpus-model.js';
import {
  harmlessHeadersIssue,
  headerLikeProseIssue,
  htmlPayloadIssue,
  longSubjectIssue,
  prefixedIssue,
  raw8bitIssue,
  splitWordIssue,
} from './corpus-oddities.js';
import { createPeople } from './corpus-people.js';
import { createRandom } from './corpus-random.js';
import { replyRecipe } from './corpus-replies.js';
import {
  autoReply,
  bulkMail,
  deliveryReport,
  ownAddress,
  plainBounce,
  readReceipt,
} from './corpus-skips.js';
import { CHARSET_LINES } from './corpus-text.js';

export { FLOOD_ALLOWED, FLOOD_SIZE } from './corpus-limits.js';
export type { CorpusExpectation, CorpusMessage, CorpusOptions } from './corpus-model.js';

/** The flooder's address: its first FLOOD_ALLOWED messages are issues, the rest throttled. */
export const FLOODER_ADDRESS = FLOODER.address;

/** The display name the corpus gives the handler's mailbox in To fields. */
export const MAILBOX_NAME = 'Support Desk';

const plainEn = plainIssue({ lang: 'en', label: (c) => `issue plain ${lc(c)}` });

const pickPlain =
  (make: (random: Ctx['random']) => Parameters<typeof plainIssue>[0]): Recipe =>
  (ctx) =>
    plainIssue(make(ctx.random))(ctx);

/** Every recipe with its share of the mailbox, per thousand messages. */
const RECIPES: readonly (readonly [name: string, perMille: number, recipe: Recipe])[] = [
  // new issues
  ['plain-en', 40, plainEn],
  [
    'plain-ja-utf-8',
    35,
    plainIssue({ lang: 'ja', charset: 'UTF-8', label: (c) => `issue plain ${lc(c)}` }),
  ],
  [
    'plain-iso-2022-jp',
    45,
    plainIssue({ lang: 'ja', charset: 'ISO-2022-JP', label: (c) => `issue plain ${lc(c)}` }),
  ],
  [
    'plain-shift_jis',
    25,
    plainIssue({ lang: 'ja', charset: 'Shift_JIS', label: (c) => `issue plain ${lc(c)}` }),
  ],
  [
    'plain-euc-jp',
    20,
    plainIssue({ lang: 'ja', charset: 'EUC-JP', label: (c) => `issue plain ${lc(c)}` }),
  ],
  [
    'cp932-chars',
    25,
    pickPlain((random) => ({
      lang: 'ja',
      cp932: true,
      charset: random.weighted([
        ['Shift_JIS', 6],
        ['ISO-2022-JP', 2],
        ['EUC-JP', 1],
        ['UTF-8', 1],
      ]),
      extra: CHARSET_LINES.cp932!,
      label: (c) => `issue plain ${lc(c)} cp932-chars`,
    })),
  ],
  [
    'cp932-label',
    10,
    pickPlain((random) => ({
      lang: 'ja',
      cp932: true,
      charset: 'Shift_JIS',
      labelCharset: random.pick(['windows-31j', 'CP932', 'MS932', 'x-sjis']),
      extra: CHARSET_LINES.cp932!,
      label: (c) => `issue plain ${c.toLowerCase()} cp932-chars`,
    })),
  ],
  [
    'plain-latin',
    30,
    pickPlain((random) => {
      const charset = random.pick(['ISO-8859-1', 'ISO-8859-15', 'windows-1252']);
      return {
        lang: random.pick(['de', 'fr'] as const),
        charset,
        extra: CHARSET_LINES[lc(charset)] ?? [],
        label: (c) => `issue plain ${lc(c)}`,
      };
    }),
  ],
  [
    'plain-windows-1252',
    15,
    plainIssue({
      lang: 'en',
      charset: 'windows-1252',
      extra: CHARSET_LINES['windows-1252']!,
      label: (c) => `issue plain ${lc(c)}`,
    }),
  ],
  [
    'plain-cyrillic',
    20,
    pickPlain((random) => {
      const charset = random.weighted([
        ['windows-1251', 3],
        ['KOI8-R', 1],
        ['UTF-8', 1],
      ]);
      return {
        lang: 'ru',
        charset,
        extra: CHARSET_LINES[lc(charset)] ?? [],
        label: (c) => `issue plain ${lc(c)}`,
      };
    }),
  ],
  [
    'flowed',
    15,
    pickPlain((random) => {
      const lang = random.pick(['en', 'de', 'ja'] as const);
      return {
        lang,
        charset: lang === 'ja' ? random.pick(['UTF-8', 'ISO-2022-JP']) : 'UTF-8',
        flowed: true,
        label: (c) => `issue format-flowed ${lc(c)}`,
      };
    }),
  ],
  [
    'no-message-id',
    15,
    pickPlain((random) => ({
      lang: random.pick(['en', 'ja', 'de'] as const),
      messageId: false,
      label: (c) => `issue no-message-id ${lc(c)}`,
    })),
  ],
  ['html-only', 35, htmlOnlyIssue],
  ['alternative', 45, alternativeIssue],
  ['attachments', 45, attachmentIssue],
  ['forwarded', 12, forwardedIssue],
  ['prefixed', 25, prefixedIssue(false)],
  ['prefixed-fullwidth', 5, prefixedIssue(true)],
  ['long-subject', 8, longSubjectIssue],
  ['split-encoded-word', 10, splitWordIssue],
  ['raw-8bit-header', 16, raw8bitIssue],
  ['header-like-prose', 5, headerLikeProseIssue],
  ['broken', 30, brokenIssue],
  ['html-payload', 5, htmlPayloadIssue],
  ['harmless-headers', 6, harmlessHeadersIssue],
  // comments
  ['reply-in-reply-to', 150, replyRecipe('in-reply-to')],
  ['reply-to-reply', 70, replyRecipe('reply-to-reply')],
  ['reply-references-only', 15, replyRecipe('references-only')],
  ['reply-subject-key', 35, replyRecipe('subject-key')],
  ['reply-html-only', 20, replyRecipe('html-only')],
  ['reply-no-message-id', 10, replyRecipe('no-message-id')],
  // nothing, or a recorded failure
  ['auto-submitted', 25, autoReply('auto-submitted')],
  ['x-autoreply', 12, autoReply('x-autoreply')],
  ['x-autorespond', 8, autoReply('x-autorespond')],
  ['bulk', 25, bulkMail],
  ['delivery-report', 18, deliveryReport],
  ['read-receipt', 4, readReceipt],
  ['plain-bounce', 5, plainBounce],
  ['own-address', 10, ownAddress],
  ['too-large', 5, tooLarge],
  ['unparseable', 3, unparseable],
  ['duplicate', 20, duplicate],
];

/** Where the flood starts (as a share of the mailbox) and how many slots it is spread over. */
const FLOOD_AT = 0.45;
const FLOOD_WINDOW = 40;

/**
 * Builds the corpus. The same options give the same bytes, in the same order, every time.
 * Every sender but the flooder writes at most 15 messages; every reply names only earlier
 * messages; every message but the too-large ones stays within `maxMessageBytes`.
 *
 * What the handler under test needs for the expectations to hold: `mailbox` among its own
 * addresses, `prefix` as its key prefix, `maxMessageBytes` as its size limit, the default
 * throttle (more than 20 messages in 10 minutes), and attachment caps of at least 8 KB a file
 * and 24 KB a message (no corpus attachment is larger). Messages go into the mailbox in
 * index order; a `duplicate` is the same bytes delivered again (a new UID). No message holds
 * a NUL byte, so each can be appended over IMAP.
 */
export function buildCorpus(options: CorpusOptions): CorpusMessage[] {
  if (!Number.isInteger(options.count) || options.count < 100) {
    throw new Error('"count" must be an integer of at least 100');
  }
  if (options.maxMessageBytes < 100_000)
    throw new Error('"maxMessageBytes" must be at least 100000');
  const random = createRandom(options.seed);
  const people = createPeople(random);
  const plan = planSlots(random, options.count);
  const messages: CorpusMessage[] = [];
  const senders: string[] = [];
  const issues: IssueState[] = [];
  const ids = new Set<string>();
  const markers = new Set<string>();
  const byName = new Map(RECIPES.map(([name, , recipe]) => [name, recipe]));
  let time = Date.UTC(2026, 11, 1, 0, 0, 0);
  const floodStart = Math.floor(options.count * FLOOD_AT);

  for (const [index, slot] of plan.entries()) {
    // the flood's window is a few minutes long, well inside the throttle's ten
    const inFlood = index >= floodStart && index < floodStart + FLOOD_WINDOW;
    time += (inFlood ? random.int(5, 12) : random.int(30, 900)) * 1000;
    const ctx: Ctx = {
      random,
      options,
      people,
      mailboxName: MAILBOX_NAME,
      index,
      date: new Date(time),
      issues,
      messages,
      senders,
      nextIssueNumber: issues.length + 1,
      messageId: (person) => messageIdFor(random, person, new Date(time), ids),
      marker: () => {
        for (;;) {
          const marker = String(random.int(100000, 999999));
          if (!markers.has(marker)) {
            markers.add(marker);
            return marker;
          }
        }
      },
    };
    const recipe = slot === 'flood' ? floodMessage : byName.get(slot)!;
    const produced = recipe(ctx) ?? plainEn(ctx)!;
    people.use(produced.sender.toLowerCase(), produced.senderCap);
    if (produced.expect.kind !== 'failed' && produced.raw.length > options.maxMessageBytes) {
      throw new Error(
        `message ${index} (${produced.label}) is ${produced.raw.length} bytes, over maxMessageBytes`,
      );
    }
    messages.push({
      index,
      messageId: produced.messageId,
      raw: produced.raw,
      expect: produced.expect,
      label: produced.label,
    });
    senders.push(produced.sender.toLowerCase());
    if (produced.expect.kind === 'issue') {
      issues.push({
        number: produced.expect.number,
        summary: produced.expect.summary,
        root: produced.record!,
        comments: [],
        flood: produced.label.includes('flood'),
      });
    }
    if (produced.expect.kind === 'comment' && produced.record) {
      issues[produced.expect.issueNumber - 1]!.comments.push(produced.record);
    }
  }
  return messages;
}

/**
 * The recipe of every slot: shares of count - FLOOD_SIZE by largest remainder (each at least
 * one), shuffled, new issues first so replies have something to answer, and the flood spread
 * over a window in the middle.
 */
function planSlots(random: ReturnType<typeof createRandom>, count: number): string[] {
  const regular = count - FLOOD_SIZE;
  const total = RECIPES.reduce((sum, [, share]) => sum + share, 0);
  const exact = RECIPES.map(([name, share]) => ({ name, exact: (share * regular) / total }));
  const quotas = exact.map(({ name, exact: e }) => ({
    name,
    n: Math.max(1, Math.floor(e)),
    rest: e - Math.floor(e),
  }));
  let left = regular - quotas.reduce((sum, q) => sum + q.n, 0);
  for (const q of [...quotas].sort((a, b) => b.rest - a.rest)) {
    if (left <= 0) break;
    q.n += 1;
    left -= 1;
  }
  while (left < 0) {
    const largest = quotas.reduce((a, b) => (b.n > a.n ? b : a));
    largest.n -= 1;
    left += 1;
  }
  const slots = random.shuffle(
    quotas.flatMap(({ name, n }) => Array.from({ length: n }, () => name)),
  );
  // the first ten are plain new issues, so that the first replies have issues to answer
  for (let i = 0; i < 10; i++) {
    const j = slots.findIndex((name, k) => k >= i && name.startsWith('plain-'));
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }
  const start = Math.floor(count * FLOOD_AT);
  const window = random.shuffle(Array.from({ length: FLOOD_WINDOW }, (_, i) => i < FLOOD_SIZE));
  const out: string[] = slots.slice(0, start);
  let next = start;
  for (const flood of window) out.push(flood ? 'flood' : slots[next++]!);
  out.push(...slots.slice(next));
  return out;
}
