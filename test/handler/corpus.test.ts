/**
 * The mail corpus checked twice: as data (deterministic, the promised mix, replies only to
 * earlier messages, sender caps, sizes, duplicates that are true copies, expectations that do
 * not contradict themselves), and through the handler's pure modules (parse, screen, subject,
 * body), asserting every expectation that needs no database. The end-to-end test asserts the
 * rest against Dovecot.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import libmime from 'libmime';
import { stripQuotedReply } from '../../src/handler/body.js';
import { screen } from '../../src/handler/filters.js';
import { type ParsedMessage, parseMessage, UnparseableMessage } from '../../src/handler/parse.js';
import { findIssueKey, summaryOf } from '../../src/handler/subject.js';
import {
  buildCorpus,
  type CorpusMessage,
  type CorpusOptions,
  FLOOD_ALLOWED,
  FLOOD_SIZE,
  FLOODER_ADDRESS,
} from './corpus.js';

const OPTIONS: CorpusOptions = {
  count: 1000,
  seed: 1,
  mailbox: 'alice@example.test',
  prefix: 'MAIL',
  maxMessageBytes: 256 * 1024,
};
const LIMITS = { maxAttachmentBytes: 1024 * 1024, maxAttachmentBytesPerMessage: 4 * 1024 * 1024 };

const corpus = buildCorpus(OPTIONS);

/** The unfolded value of the first header field of that name in the raw top-level header. */
function rawHeader(raw: Buffer, name: string): string | undefined {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const head = (end === -1 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const line = head
    .split(/\r?\n/)
    .find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

const idsIn = (value: string | undefined) =>
  [...(value ?? '').matchAll(/<([^<>]+)>/g)].map((m) => m[1]!);

function senderOf(message: CorpusMessage): string | null {
  const from = rawHeader(message.raw, 'from');
  if (from === undefined) return null;
  return (
    /<([^<>@\s]+@[^<>\s]+)>/.exec(from)?.[1] ??
    /[^\s<>()"]+@[^\s<>()"]+/.exec(from)?.[0] ??
    ''
  ).toLowerCase();
}

const count = <T>(items: readonly T[], keyOf: (item: T) => string) => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return counts;
};

/** The kinds of the mix on one line, for the test's diagnostics. */
function kindsLine(messages: readonly CorpusMessage[]): string {
  const kinds = count(messages, (m) =>
    m.expect.kind === 'skipped' || m.expect.kind === 'failed'
      ? `${m.expect.kind}/${m.expect.reason}`
      : m.expect.kind,
  );
  return [...kinds]
    .sort()
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
}

describe('mail corpus', () => {
  it('is the same for the same seed, byte for byte, and another for another seed', (t) => {
    const again = buildCorpus(OPTIONS);
    assert.equal(again.length, corpus.length);
    for (const [i, message] of corpus.entries()) {
      assert.ok(message.raw.equals(again[i]!.raw), `message ${i} differs`);
      assert.deepEqual(again[i]!.expect, message.expect);
      assert.equal(again[i]!.label, message.label);
    }
    const other = buildCorpus({ ...OPTIONS, seed: 2 });
    assert.notDeepEqual(
      other.map((m) => m.label),
      corpus.map((m) => m.label),
    );
    t.diagnostic(`seed 1, count 1000: ${kindsLine(corpus)}`);
  });

  it('has 1,000 messages in index order with every kind many times', () => {
    assert.equal(corpus.length, 1000);
    assert.deepEqual(
      corpus.map((m) => m.index),
      corpus.map((_, i) => i),
    );
    const kinds = count(corpus, (m) =>
      m.expect.kind === 'skipped' || m.expect.kind === 'failed'
        ? `${m.expect.kind}/${m.expect.reason}`
        : m.expect.kind,
    );
    const atLeast: Record<string, number> = {
      issue: 400,
      comment: 250,
      duplicate: 10,
      'skipped/auto_submitted': 15,
      'skipped/auto_reply': 10,
      'skipped/bulk': 15,
      'skipped/bounce': 15,
      'skipped/own_address': 5,
      'failed/too_large': 3,
      'failed/unparseable': 2,
    };
    for (const [kind, n] of Object.entries(atLeast))
      assert.ok((kinds.get(kind) ?? 0) >= n, `${kind}: ${kinds.get(kind)}`);
    assert.equal(kinds.get('skipped/throttled'), FLOOD_SIZE - FLOOD_ALLOWED);
  });

  it('covers each charset, structure, client and quote style', () => {
    const having = (pattern: RegExp) => corpus.filter((m) => pattern.test(m.label)).length;
    const atLeast: [RegExp, number][] = [
      [/^issue plain us-ascii|^issue plain utf-8/, 20],
      [/^issue .*iso-2022-jp/, 30],
      [/^issue plain shift_jis/, 15],
      [/cp932-chars/, 20],
      [/^issue plain (windows-31j|cp932|ms932|x-sjis)/, 5],
      [/^issue plain euc-jp/, 10],
      [/^issue plain iso-8859-1\b/, 3],
      [/^issue plain iso-8859-15/, 3],
      [/^issue plain windows-1252/, 10],
      [/^issue plain (windows-1251|koi8-r)/, 10],
      [/^issue format-flowed/, 10],
      [/^issue html-only/, 20],
      [/^issue alternative/, 20],
      [/^issue attachments .*(rfc2231|encoded-word)/, 15],
      [/^issue forwarded rfc822/, 3],
      [/^issue forwarded inline/, 2],
      [/^issue prefixed /, 15],
      [/^issue prefixed-fullwidth/, 3],
      [/^issue split-encoded-word/, 5],
      [/^issue raw-8bit-header/, 5],
      [/^issue broken /, 20],
      [/^issue no-message-id/, 10],
      [/^issue html-payload/, 3],
      [/^comment in-reply-to/, 100],
      [/^comment reply-to-reply/, 40],
      [/^comment references-only/, 10],
      [/^comment subject-key/, 20],
      [/^comment html-only/, 10],
      [/^comment no-message-id/, 5],
      [/^comment .* top gmail/, 20],
      [/^comment .* outlook outlook/, 20],
      [/^comment .* (top|bottom|inline) thunderbird/, 20],
      [/^comment .* bottom /, 5],
      [/^comment .* inline /, 5],
      [/^comment .* top apple/, 5],
      [/^comment .* top becky/, 5],
      [/^comment .* iso-2022-jp$/, 10],
      [/^comment .* shift_jis$/, 5],
      [/^skipped bounce mailer-daemon-dsn/, 5],
      [/^skipped bounce postmaster-ndr/, 2],
      [/^issue harmless-header/, 3],
    ];
    for (const [pattern, n] of atLeast)
      assert.ok(having(pattern) >= n, `${pattern}: ${having(pattern)}`);
    const japaneseFiles = corpus
      .flatMap((m) => (m.expect.kind === 'issue' ? m.expect.attachments : []))
      .filter((name) => /[^\p{ASCII}]/u.test(name));
    assert.ok(japaneseFiles.length >= 10, `non-ASCII file names: ${japaneseFiles.length}`);
    const broken = new Set(
      corpus.filter((m) => m.label.startsWith('issue broken ')).map((m) => m.label.split(' ')[2]),
    );
    assert.ok(broken.size >= 10, [...broken].join(', '));
  });

  it('numbers issues 1, 2, 3 … in mailbox order', () => {
    const numbers = corpus.flatMap((m) => (m.expect.kind === 'issue' ? [m.expect.number] : []));
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => i + 1),
    );
  });

  it('threads every reply to an earlier message of its issue, or by the key in its subject', () => {
    const firstIndex = new Map<string, number>();
    const issueOf = new Map<string, number>();
    const issueIndex = new Map<number, number>();
    for (const message of corpus) {
      const { expect } = message;
      const refs = [
        ...idsIn(rawHeader(message.raw, 'in-reply-to')),
        ...idsIn(rawHeader(message.raw, 'references')),
      ];
      for (const id of refs) {
        const at = firstIndex.get(id);
        assert.ok(
          at !== undefined && at < message.index,
          `message ${message.index} names ${id}, not an earlier message`,
        );
      }
      const recorded = [...new Set(refs.flatMap((id) => issueOf.get(id) ?? []))];
      const subject = libmime.decodeWords(rawHeader(message.raw, 'subject') ?? '');
      const key = new RegExp(
        `(?<![A-Za-z0-9_-])${OPTIONS.prefix}-(\\d+)(?![A-Za-z0-9_-])`,
        'i',
      ).exec(subject)?.[1];
      if (expect.kind === 'comment') {
        assert.ok(
          (issueIndex.get(expect.issueNumber) ?? Infinity) < message.index,
          `comment ${message.index} before its issue`,
        );
        if (recorded.length > 0)
          assert.deepEqual(recorded, [expect.issueNumber], `comment ${message.index}`);
        else
          assert.equal(Number(key), expect.issueNumber, `comment ${message.index} has no thread`);
      }
      if (expect.kind === 'issue') {
        assert.deepEqual(recorded, [], `issue ${message.index} names a recorded message`);
        assert.equal(key, undefined, `issue ${message.index} has a key in its subject`);
        issueIndex.set(expect.number, message.index);
      }
      if (message.messageId !== null && !firstIndex.has(message.messageId)) {
        firstIndex.set(message.messageId, message.index);
        if (expect.kind === 'issue') issueOf.set(message.messageId, expect.number);
        if (expect.kind === 'comment') issueOf.set(message.messageId, expect.issueNumber);
      }
    }
  });

  it('gives each Message-ID once, except second deliveries, which are the earlier bytes again', () => {
    const seen = new Map<string, number>();
    for (const message of corpus) {
      const header = rawHeader(message.raw, 'message-id');
      assert.equal(
        header === undefined ? null : idsIn(header)[0],
        message.messageId,
        `message ${message.index}`,
      );
      if (message.expect.kind === 'duplicate') {
        const first = corpus[message.expect.of]!;
        assert.ok(first.index < message.index);
        assert.ok(first.raw.equals(message.raw));
        assert.ok(first.expect.kind === 'issue' || first.expect.kind === 'comment');
        assert.equal(seen.get(message.messageId!), first.index);
        continue;
      }
      if (message.messageId === null) continue;
      assert.equal(seen.has(message.messageId), false, `${message.messageId} twice`);
      seen.set(message.messageId, message.index);
    }
  });

  it('keeps every sender to 15 messages but the flooder, whose 21st to 30th are throttled within ten minutes', () => {
    const bySender = new Map<string, CorpusMessage[]>();
    for (const message of corpus) {
      const sender = senderOf(message);
      if (sender === null) continue;
      bySender.set(sender, [...(bySender.get(sender) ?? []), message]);
    }
    for (const [sender, messages] of bySender) {
      if (sender === FLOODER_ADDRESS) continue;
      assert.ok(messages.length <= 15, `${sender} sends ${messages.length}`);
    }
    const flood = bySender.get(FLOODER_ADDRESS)!;
    assert.equal(flood.length, FLOOD_SIZE);
    assert.deepEqual(
      flood.map((m) => m.expect.kind),
      [...Array(FLOOD_ALLOWED).fill('issue'), ...Array(FLOOD_SIZE - FLOOD_ALLOWED).fill('skipped')],
    );
    const dates = flood.map((m) => Date.parse(rawHeader(m.raw, 'date')!));
    assert.ok(Math.max(...dates) - Math.min(...dates) < 10 * 60_000);
  });

  it('keeps messages within maxMessageBytes but the too-large ones, all with CRLF line ends', () => {
    for (const message of corpus) {
      const tooLarge = message.expect.kind === 'failed' && message.expect.reason === 'too_large';
      assert.equal(
        message.raw.length > OPTIONS.maxMessageBytes,
        tooLarge,
        `message ${message.index}`,
      );
      if (
        message.label.includes('lf-line-endings') ||
        message.label.startsWith('failed unparseable')
      )
        continue;
      assert.equal(
        /(?<!\r)\n/.test(message.raw.toString('latin1')),
        false,
        `bare LF in ${message.index}`,
      );
    }
  });

  it('never expects a text both kept and removed, and never an empty one', () => {
    for (const { index, expect } of corpus) {
      if (expect.kind !== 'issue' && expect.kind !== 'comment') continue;
      const includes = expect.kind === 'issue' ? expect.descriptionIncludes : expect.bodyIncludes;
      const excludes = expect.kind === 'issue' ? expect.descriptionExcludes : expect.bodyExcludes;
      assert.ok(includes.length > 0, `message ${index} includes nothing`);
      for (const text of [...includes, ...excludes])
        assert.ok(text.trim().length > 0, `empty text in ${index}`);
      for (const include of includes) {
        for (const exclude of excludes)
          assert.ok(!include.includes(exclude), `${index}: "${include}" holds "${exclude}"`);
      }
      if (expect.kind === 'issue') {
        assert.ok(
          expect.summary.length > 0 &&
            expect.summary === expect.summary.replace(/\s+/g, ' ').trim(),
        );
        assert.equal(expect.reporter, expect.reporter.toLowerCase());
      }
    }
  });

  it('scales: 2,500 messages keep the caps and the size limit', () => {
    const big = buildCorpus({ ...OPTIONS, count: 2500, seed: 7 });
    assert.equal(big.length, 2500);
    const senders = count(
      big.filter((m) => senderOf(m) !== null),
      (m) => senderOf(m)!,
    );
    for (const [sender, n] of senders)
      assert.ok(n <= (sender === FLOODER_ADDRESS ? FLOOD_SIZE : 15), `${sender}: ${n}`);
    for (const m of big)
      assert.equal(m.raw.length > OPTIONS.maxMessageBytes, m.label === 'failed too-large');
  });
});

describe('mail corpus through the handler’s pure modules', () => {
  const parsed = new Map<number, ParsedMessage>();
  const refused = new Map<number, unknown>();

  before(async () => {
    for (const message of corpus) {
      if (message.expect.kind === 'failed' && message.expect.reason === 'too_large') continue;
      try {
        parsed.set(message.index, await parseMessage(message.raw, LIMITS));
      } catch (error) {
        refused.set(message.index, error);
      }
    }
  });

  /** Runs a check over every message it applies to and reports all mismatches at once. */
  function mismatches(check: (message: CorpusMessage, parsed: ParsedMessage) => unknown): string[] {
    const found: string[] = [];
    for (const message of corpus) {
      const result = parsed.get(message.index);
      if (result === undefined) continue;
      const problem = check(message, result);
      if (problem) found.push(`#${message.index} [${message.label}] ${JSON.stringify(problem)}`);
    }
    return found;
  }

  it('refuses exactly the bytes that are no message', () => {
    for (const message of corpus) {
      const unparseable =
        message.expect.kind === 'failed' && message.expect.reason === 'unparseable';
      const error = refused.get(message.index);
      if (unparseable)
        assert.ok(error instanceof UnparseableMessage, `#${message.index} was parsed`);
      else assert.equal(error, undefined, `#${message.index} [${message.label}] ${String(error)}`);
    }
  });

  it('reads each Message-ID as the corpus wrote it', () => {
    assert.deepEqual(
      mismatches((m, p) => p.messageId !== m.messageId && [p.messageId, m.messageId]),
      [],
    );
  });

  it('skips for the expected reason, and lets everything else through', () => {
    assert.deepEqual(
      mismatches((m, p) => {
        const reason = screen(p, [OPTIONS.mailbox]);
        // throttling needs the handler's counts; the flooder's mail is plain mail to screen()
        const expected =
          m.expect.kind === 'skipped' && m.expect.reason !== 'throttled' ? m.expect.reason : null;
        return reason !== expected && { screen: reason, expected };
      }),
      [],
    );
  });

  it('takes each summary from the subject, prefixes and key tags removed', () => {
    assert.deepEqual(
      mismatches((m, p) => {
        if (m.expect.kind !== 'issue') return false;
        const summary = summaryOf(p.subject, [OPTIONS.prefix]);
        return summary !== m.expect.summary && { summary, expected: m.expect.summary };
      }),
      [],
    );
  });

  it('reads each reporter and author: address lower-case, display name decoded', () => {
    assert.deepEqual(
      mismatches((m, p) => {
        if (m.expect.kind === 'issue') {
          const got = { address: p.from?.address, name: p.from?.name };
          const want = { address: m.expect.reporter, name: m.expect.reporterName };
          return JSON.stringify(got) !== JSON.stringify(want) && { got, want };
        }
        if (m.expect.kind === 'comment')
          return p.from?.address !== m.expect.author && [p.from?.address, m.expect.author];
        return false;
      }),
      [],
    );
  });

  it('keeps attachments within 8 KB a file and 24 KB a message, the caps the corpus promises', () => {
    assert.deepEqual(
      mismatches((_, p) => {
        const sizes = p.attachments.map((a) => a.size);
        const total = sizes.reduce((sum, size) => sum + size, 0);
        return (
          (sizes.some((size) => size > 8 * 1024) ||
            total > 24 * 1024 ||
            p.droppedAttachments.length > 0) &&
          sizes
        );
      }),
      [],
    );
  });

  it('lists each attachment by its decoded file name', () => {
    assert.deepEqual(
      mismatches((m, p) => {
        if (m.expect.kind !== 'issue') return false;
        const names = p.attachments.map((a) => a.filename);
        return (
          JSON.stringify(names) !== JSON.stringify(m.expect.attachments) && {
            names,
            expected: m.expect.attachments,
          }
        );
      }),
      [],
    );
  });

  it('keeps the new text and drops quoted history and signatures', () => {
    assert.deepEqual(
      mismatches((m, p) => {
        if (m.expect.kind !== 'issue' && m.expect.kind !== 'comment') return false;
        const text = stripQuotedReply(p.text);
        const includes =
          m.expect.kind === 'issue' ? m.expect.descriptionIncludes : m.expect.bodyIncludes;
        const excludes =
          m.expect.kind === 'issue' ? m.expect.descriptionExcludes : m.expect.bodyExcludes;
        const missing = includes.filter((line) => !text.includes(line));
        const kept = excludes.filter((line) => text.includes(line));
        return (missing.length > 0 || kept.length > 0) && { missing, kept };
      }),
      [],
    );
  });

  it('threads replies by In-Reply-To/References or the subject key, and new issues nowhere', () => {
    const issueOf = new Map<string, number>();
    const found = mismatches((m, p) => {
      const ids = [...p.inReplyTo, ...p.references];
      const recorded = ids.map((id) => issueOf.get(id)).find((n) => n !== undefined);
      const key = findIssueKey(p.subject, [OPTIONS.prefix]);
      const resolved = recorded ?? (key === null ? null : Number(key.split('-')[1]));
      if (m.messageId !== null && !issueOf.has(m.messageId)) {
        if (m.expect.kind === 'issue') issueOf.set(m.messageId, m.expect.number);
        if (m.expect.kind === 'comment') issueOf.set(m.messageId, m.expect.issueNumber);
      }
      if (m.expect.kind === 'comment')
        return resolved !== m.expect.issueNumber && { resolved, expected: m.expect.issueNumber };
      if (m.expect.kind === 'issue')
        return resolved !== null && { resolved, expected: 'new issue' };
      return false;
    });
    assert.deepEqual(found, []);
  });
});
