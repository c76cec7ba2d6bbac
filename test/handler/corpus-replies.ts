/**
 * Recipes for replies that become comments: answering an issue's message by In-Reply-To,
 * answering a comment (References carrying the chain), References alone, the key alone in the
 * subject, HTML-only replies, and replies without a Message-ID of their own.
 */

import { charsetFor, envelope, plainPart } from './corpus-envelope.js';
import { alternative, lc, mobileFooter } from './corpus-issues.js';
import type { Ctx, IssueState, Produced, Recipe, Recorded } from './corpus-model.js';
import { type Person, SENDER_CAP } from './corpus-people.js';
import { composeReply, type Original, renderHtml, renderText, styleFor } from './corpus-quotes.js';
import type { Random } from './corpus-random.js';
import { replyText } from './corpus-text.js';
import { buildMessage, type Entity, textPart } from './mime.js';

/** How a reply finds its issue. */
export type Threading =
  | 'in-reply-to'
  | 'reply-to-reply'
  | 'references-only'
  | 'subject-key'
  | 'html-only'
  | 'no-message-id';

/** A reply threaded the given way, or null while there is nothing to reply to. */
export function replyRecipe(threading: Threading): Recipe {
  return (ctx) => {
    const target = pickTarget(ctx, threading);
    if (target === null) return null;
    return reply(ctx, threading, target.issue, target.message);
  };
}

/** The issue and the message of it to answer. */
function pickTarget(
  ctx: Ctx,
  threading: Threading,
): { issue: IssueState; message: Recorded | null } | null {
  const { random } = ctx;
  const open = ctx.issues.filter((issue) => !issue.flood);
  if (open.length === 0) return null;
  // most replies come soon after the message they answer
  const recent = <T>(items: readonly T[]): T =>
    random.pick(random.chance(0.7) ? items.slice(-40) : items);
  if (threading === 'subject-key') return { issue: recent(open), message: null };
  if (threading === 'reply-to-reply') {
    const comments = open.flatMap((issue) => issue.comments.map((comment) => ({ issue, comment })));
    if (comments.length === 0) return null;
    const { issue, comment } = recent(comments);
    return { issue, message: comment };
  }
  const withId = open.filter((issue) => issue.root.messageId !== null);
  if (withId.length === 0) return null;
  const issue = recent(withId);
  return { issue, message: issue.root };
}

/** Who answers: the one the message came from, or someone of the same language. */
function authorFor(ctx: Ctx, issue: IssueState, message: Recorded | null): Person {
  const candidate = message?.author ?? issue.root.author;
  if (ctx.random.chance(0.5) && ctx.people.uses(candidate.address) < SENDER_CAP - 3)
    return candidate;
  return ctx.people.pick(candidate.lang, { not: candidate.address });
}

const key = (ctx: Ctx, issue: IssueState) => `${ctx.options.prefix}-${issue.number}`;

function reply(
  ctx: Ctx,
  threading: Threading,
  issue: IssueState,
  message: Recorded | null,
): Produced {
  const { random } = ctx;
  const author = authorFor(ctx, issue, message);
  const original = message ? originalOf(issue, message) : acknowledgement(ctx, issue);
  const written = replyText(random, author, ctx.marker(), 'UTF-8');
  const markerLine = written.includes[0]!;
  const style = threading === 'html-only' ? 'top' : styleFor(random, author);
  const composed = composeReply(random, {
    author,
    lines: written.lines,
    markerLine,
    signature: threading !== 'html-only' && random.chance(0.5),
    footer: threading === 'html-only' ? null : mobileFooter(random, author),
    original,
    style,
    wrapAttribution: author.client === 'gmail' && random.chance(0.3),
    ...(threading === 'html-only' ? { attributionClient: 'gmail' as const } : {}),
    mailbox: { name: ctx.mailboxName, address: ctx.options.mailbox },
  });
  const text = renderText(composed.blocks);
  const { charset, transfer } = charsetFor(random, author.lang, text);
  const messageId = threading === 'no-message-id' ? null : ctx.messageId(author);
  const subject = replySubject(ctx, threading, issue, original.subject, author);
  const chain = message?.chain ?? [];
  const threadFields =
    threading === 'subject-key'
      ? {}
      : threading === 'references-only'
        ? { references: chain }
        : { inReplyTo: message!.messageId!, references: chain };
  let entity: Entity;
  if (threading === 'html-only') {
    entity = textPart({
      text: renderHtml(composed.blocks),
      subtype: 'html',
      charset,
      transferEncoding: transfer === '7bit' ? '7bit' : 'base64',
    });
  } else if (author.client !== 'thunderbird' && author.client !== 'becky' && random.chance(0.6)) {
    entity = alternative(random, author, text, renderHtml(composed.blocks), charset, transfer);
  } else {
    entity = plainPart(random, author, text, charset, transfer);
  }
  const raw = buildMessage(
    envelope(ctx, { person: author, subject, messageId, bodyCharset: charset, ...threadFields }),
    entity,
  );
  const lines = text.trimEnd().split('\n');
  return {
    raw,
    messageId,
    sender: author.address,
    label:
      threading === 'html-only'
        ? `comment html-only ${author.client} ${lc(charset)}`
        : `comment ${threading} ${style} ${author.client} ${lc(charset)}`,
    expect: {
      kind: 'comment',
      issueNumber: issue.number,
      bodyIncludes: written.includes,
      bodyExcludes: composed.excludes,
      author: author.address,
    },
    ...(messageId === null
      ? {}
      : {
          record: {
            index: ctx.index,
            messageId,
            issueNumber: issue.number,
            author,
            date: ctx.date,
            subject,
            lines,
            unique: [markerLine, author.signatureMarker].filter((line) => text.includes(line)),
            chain: [...chain, messageId],
          },
        }),
  };
}

/** The message as a quote sees it, with every unique line of the thread it carries. */
function originalOf(issue: IssueState, message: Recorded): Original {
  const text = message.lines.join('\n');
  const thread = [issue.root, ...issue.comments];
  const unique = [...new Set(thread.flatMap((m) => m.unique))].filter(
    (line) => line !== '' && text.includes(line),
  );
  return {
    lines: message.lines,
    author: message.author,
    date: message.date,
    subject: message.subject,
    unique,
  };
}

/** The acknowledgement the handler sent for the issue, which a subject-key reply quotes. */
function acknowledgement(ctx: Ctx, issue: IssueState): Original {
  const registered = `Your request has been registered as ${key(ctx, issue)}.`;
  const mailbox: Person = {
    name: ctx.mailboxName,
    address: ctx.options.mailbox,
    lang: 'en',
    client: 'gmail',
    signature: [],
    signatureMarker: registered,
    utcOffset: 0,
    cp932Only: false,
  };
  return {
    lines: [
      'Thank you for contacting us.',
      registered,
      '',
      'Please keep the key in the subject when you reply.',
    ],
    author: mailbox,
    date: new Date(issue.root.date.getTime() + 120_000),
    subject: `[${key(ctx, issue)}] ${issue.summary}`,
    unique: [registered],
  };
}

/** The prefix the author's client puts before a reply's subject. */
function replyPrefix(random: Random, author: Person): string {
  if (author.client !== 'outlook') return 'Re: ';
  switch (author.lang) {
    case 'ja':
      return random.pick(['RE: ', '返信: ']);
    case 'de':
      return 'AW: ';
    case 'fr':
      return 'RE : ';
    default:
      return 'RE: ';
  }
}

function replySubject(
  ctx: Ctx,
  threading: Threading,
  issue: IssueState,
  subject: string,
  author: Person,
): string {
  const { random } = ctx;
  const prefix = replyPrefix(random, author);
  if (threading === 'subject-key') {
    return random.weighted<string>([
      [`${prefix}[${key(ctx, issue)}] ${issue.summary}`, 3],
      [`${prefix}${key(ctx, issue)} ${issue.summary}`, 1],
      [`[${key(ctx, issue)}] ${issue.summary}`, 1],
    ]);
  }
  // most clients do not stack a second "Re:"; some do
  const base = random.chance(0.8)
    ? subject.replace(/^((re|fwd?|aw|返信|転送) ?: ?)+/i, '')
    : subject;
  return `${prefix}${base}`;
}
