/**
 * A mailbox as the handler reads it: the messages waiting in it, their bytes, and what
 * happens to a message once its issue or comment is committed (settled: marked seen, moved
 * or deleted) or once it failed (kept: left unread, or moved to an error folder). IMAP and
 * POP3 each implement it (`imap-source.ts`, `pop3-source.ts`); the run (`run.ts`) knows no
 * protocol.
 */

/** A message waiting in the mailbox. */
export interface MailboxEntry {
  /**
   * Where the message is, stable for as long as it stays there: `imap:<folder>:<uidvalidity>:<uid>`
   * or `pop3:<uidl>`. The ledger's key for "already handled".
   */
  readonly location: string;
  /** The size the server reports (RFC822.SIZE, LIST), before anything is downloaded. */
  readonly size: number;
}

/** A fetched message. */
export interface FetchedMessage {
  readonly entry: MailboxEntry;
  readonly raw: Buffer;
}

export interface MailboxSource {
  /** The messages waiting, oldest first. */
  list(): Promise<MailboxEntry[]>;
  /** The messages' bytes, in the order given; never marks anything read. */
  fetch(entries: readonly MailboxEntry[]): Promise<FetchedMessage[]>;
  /** The header section only (a message over the size limit is never downloaded whole). */
  header(entry: MailboxEntry): Promise<Buffer>;
  /** Done with: marked seen, moved or deleted as the mail server's settings say. */
  settle(entries: readonly MailboxEntry[]): Promise<void>;
  /** Failed: left unread where it is, or moved to the error folder when one is set. */
  keep(entries: readonly MailboxEntry[]): Promise<void>;
  /** Logs out (POP3: QUIT, which is when deletions take effect). */
  close(): Promise<void>;
  /** Drops the connection without a goodbye (after a failure). */
  abort(): void;
}

/** What a processed message becomes on the server (DESIGN §8 `processedAction`). */
export interface SourceSettings {
  readonly processedAction: 'seen' | 'move' | 'delete';
  readonly processedFolder: string | null;
  readonly errorFolder: string | null;
}
