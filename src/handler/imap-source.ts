/**
 * The IMAP mailbox source, on an authenticated imapflow session (`mail/imap.ts`).
 *
 * Why it reads this way: messages are fetched with `BODY.PEEK[]` (imapflow's `source`), so
 * fetching never sets `\Seen` (RFC 9051 §6.4.5); `\Seen` is stored, or the message moved or
 * deleted, only in `settle`, which the run calls after the message's issue or comment is
 * committed. With `seen` only unseen messages are listed (a processed message is seen), with
 * `move` and `delete` every message of the folder (a processed one leaves it). Locations carry
 * the folder's UIDVALIDITY (RFC 9051 §2.3.1.1): when it changes every message gets a new
 * location and the ledger's Message-ID and content-hash checks keep them from being handled
 * twice. imapflow forbids other commands inside a fetch loop, so a fetch collects its batch
 * first.
 */
import type { ImapFlow } from 'imapflow';
import type { FetchedMessage, MailboxEntry, MailboxSource, SourceSettings } from './source.js';

export interface ImapSourceOptions extends SourceSettings {
  readonly folder: string;
}

/** Opens `folder` read-write and returns the source, with the folder's UIDVALIDITY. */
export async function openImapSource(
  client: ImapFlow,
  options: ImapSourceOptions,
): Promise<MailboxSource & { readonly uidValidity: string }> {
  const { uidValidity: validity } = await client.mailboxOpen(options.folder);
  const uidValidity = String(validity);
  const prefix = `imap:${options.folder}:${uidValidity}:`;
  const uidOf = (entry: MailboxEntry) => Number(entry.location.slice(prefix.length));
  const uidSet = (entries: readonly MailboxEntry[]) => entries.map(uidOf).join(',');
  return {
    uidValidity,
    async list() {
      if (client.mailbox && client.mailbox.exists === 0) return [];
      const query = options.processedAction === 'seen' ? { seen: false } : { all: true };
      const uids = (await client.search(query, { uid: true })) || [];
      if (uids.length === 0) return [];
      const entries: MailboxEntry[] = [];
      for await (const message of client.fetch(
        uids.join(','),
        { uid: true, size: true },
        { uid: true },
      )) {
        entries.push({ location: `${prefix}${message.uid}`, size: message.size ?? 0 });
      }
      return entries.sort((a, b) => uidOf(a) - uidOf(b));
    },
    async fetch(entries) {
      if (entries.length === 0) return [];
      const byUid = new Map<number, Buffer>();
      for await (const message of client.fetch(
        uidSet(entries),
        { uid: true, source: true },
        { uid: true },
      )) {
        if (message.source) byUid.set(message.uid, message.source);
      }
      const fetched: FetchedMessage[] = [];
      // A message expunged by someone else meanwhile is simply not there any more.
      for (const entry of entries) {
        const raw = byUid.get(uidOf(entry));
        if (raw) fetched.push({ entry, raw });
      }
      return fetched;
    },
    async header(entry) {
      const message = await client.fetchOne(String(uidOf(entry)), { headers: true }, { uid: true });
      return message && message.headers ? message.headers : Buffer.alloc(0);
    },
    async settle(entries) {
      if (entries.length === 0) return;
      const range = uidSet(entries);
      if (options.processedAction === 'move' && options.processedFolder) {
        await ensureFolder(client, options.processedFolder);
        await client.messageMove(range, options.processedFolder, { uid: true });
      } else if (options.processedAction === 'delete') {
        await client.messageDelete(range, { uid: true });
      } else {
        await client.messageFlagsAdd(range, ['\\Seen'], { uid: true });
      }
    },
    async keep(entries) {
      if (entries.length === 0 || !options.errorFolder) return;
      await ensureFolder(client, options.errorFolder);
      await client.messageMove(uidSet(entries), options.errorFolder, { uid: true });
    },
    async close() {
      await client.logout().catch(() => client.close());
    },
    abort() {
      client.close();
    },
  };
}

/** Creates a folder that does not exist yet (an administrator's new processed folder). */
async function ensureFolder(client: ImapFlow, folder: string): Promise<void> {
  const existing = await client.list();
  if (existing.some((m) => m.path === folder)) return;
  await client.mailboxCreate(folder);
}
