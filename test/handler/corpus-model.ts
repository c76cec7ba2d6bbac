/**
 * The corpus's public shapes (what the end-to-end test reads) and the state its recipes share
 * while the mailbox is written in order.
 */
import type { People, Person } from './corpus-people.js';
import type { Random } from './corpus-random.js';

/** What the handler must make of one message. */
export type CorpusExpectation =
  | {
      readonly kind: 'issue';
      /** The n-th issue created, 1-based: its key is PREFIX-n, as mail is handled in mailbox order. */
      readonly number: number;
      readonly summary: string;
      readonly descriptionIncludes: readonly string[];
      readonly descriptionExcludes: readonly string[];
      /** Lower-case address. */
      readonly reporter: string;
      readonly reporterName: string;
      /** File names, in message order. */
      readonly attachments: readonly string[];
    }
  | {
      readonly kind: 'comment';
      readonly issueNumber: number;
      readonly bodyIncludes: readonly string[];
      readonly bodyExcludes: readonly string[];
      readonly author: string;
    }
  | {
      readonly kind: 'skipped';
      readonly reason:
        | 'auto_submitted'
        | 'auto_reply'
        | 'bulk'
        | 'bounce'
        | 'own_address'
        | 'throttled';
    }
  | { readonly kind: 'failed'; readonly reason: 'unparseable' | 'too_large' }
  /** A second delivery of the message at index `of` (same Message-ID, same bytes): nothing new. */
  | { readonly kind: 'duplicate'; readonly of: number };

/** One message of the mailbox, in mailbox order. */
export interface CorpusMessage {
  readonly index: number;
  /** Without angle brackets; null when the message has none. */
  readonly messageId: string | null;
  readonly raw: Buffer;
  readonly expect: CorpusExpectation;
  /** What kind of case it is, words from general to particular, e.g. 'comment top gmail iso-2022-jp'. */
  readonly label: string;
}

/** What to build. */
export interface CorpusOptions {
  /** How many messages; at least 100. */
  readonly count: number;
  readonly seed: number;
  /** The handler's own address, e.g. 'alice@example.test'. */
  readonly mailbox: string;
  /** The issue key prefix, e.g. 'MAIL'. */
  readonly prefix: string;
  /** Messages above this many bytes are failed/too_large; every other message stays below. */
  readonly maxMessageBytes: number;
}

/** A message that became an issue or a comment, as a later reply sees it. */
export interface Recorded {
  readonly index: number;
  readonly messageId: string | null;
  readonly issueNumber: number;
  readonly author: Person;
  readonly date: Date;
  /** The subject as written, decoded. */
  readonly subject: string;
  /** The text body as its author wrote it, new text and quotes alike. */
  readonly lines: readonly string[];
  /** Lines no other message has: its marker sentence, its signature's marker line. */
  readonly unique: readonly string[];
  /** Its References, itself last: what a reply to it carries. */
  readonly chain: readonly string[];
}

/** An issue as the corpus knows it. */
export interface IssueState {
  readonly number: number;
  readonly summary: string;
  readonly root: Recorded;
  readonly comments: Recorded[];
  /** Issues the flooder made take no replies. */
  readonly flood: boolean;
}

/** What a recipe made: one message, its sender (for the cap), what it records. */
export interface Produced {
  readonly raw: Buffer;
  readonly messageId: string | null;
  /** Lower-case From address, counted against the sender cap. */
  readonly sender: string;
  readonly label: string;
  readonly expect: CorpusExpectation;
  /** For an issue or a comment with a Message-ID: what later replies can answer. */
  readonly record?: Recorded;
  /** Allowed sends for this sender: the flooder's is higher than everyone's. */
  readonly senderCap?: number;
}

/** What recipes read and draw on while the corpus is written. */
export interface Ctx {
  readonly random: Random;
  readonly options: CorpusOptions;
  readonly people: People;
  readonly mailboxName: string;
  /** The position the message will take. */
  readonly index: number;
  /** Its Date. */
  readonly date: Date;
  readonly issues: readonly IssueState[];
  readonly messages: readonly CorpusMessage[];
  /** The sender of each earlier message. */
  readonly senders: readonly string[];
  /** The number the next new issue gets. */
  readonly nextIssueNumber: number;
  /** A fresh Message-ID in the person's client's shape. */
  messageId(person: Person): string;
  /** A fresh six-digit marker. */
  marker(): string;
}

/** Builds one message, or null when it has nothing to work on yet (no issue to reply to). */
export type Recipe = (ctx: Ctx) => Produced | null;
