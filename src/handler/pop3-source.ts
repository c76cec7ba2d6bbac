/**
 * The POP3 mailbox source, on an authenticated session (`mail/pop3/`).
 *
 * POP3 (RFC 1939) has no flags and no folders: a message is identified by its unique-id
 * listing (UIDL, §7), which the ledger keys on, and "processed" is either nothing (`seen`:
 * the message stays on the server and the ledger remembers it was handled) or DELE, which the
 * server carries out only at QUIT (§6, the UPDATE state). A connection lost before QUIT
 * deletes nothing, so a message whose issue was committed may come back: the ledger then
 * finds its UIDL and the run only settles it again. Messages that fail are kept as they are
 * (there is no error folder). Sizes come from LIST, headers of an oversized message from
 * TOP n 0 (§7).
 */
import type { Pop3Session } from '../mail/pop3/client.js';
import type { FetchedMessage, MailboxEntry, MailboxSource, SourceSettings } from './source.js';

/** Lists the maildrop and returns the source. */
export async function openPop3Source(
  session: Pop3Session,
  options: Pick<SourceSettings, 'processedAction'>,
): Promise<MailboxSource> {
  const numbers = new Map<string, number>();
  const numberOf = (entry: MailboxEntry) => {
    const n = numbers.get(entry.location);
    if (n === undefined) throw new Error(`no message at ${entry.location}`);
    return n;
  };
  return {
    async list() {
      const [ids, sizes] = [await session.uidl(), await session.list()];
      const sizeOf = new Map(sizes.map((s) => [s.message, s.size]));
      numbers.clear();
      return ids.map((id) => {
        const location = `pop3:${id.uid}`;
        numbers.set(location, id.message);
        return { location, size: sizeOf.get(id.message) ?? 0 };
      });
    },
    async fetch(entries) {
      // Pipelined when the server advertises PIPELINING (RFC 2449 §6.6): one round trip per
      // window of messages instead of one per message.
      const raws = await session.retrAll(entries.map(numberOf));
      return raws.map((raw, i): FetchedMessage => ({ entry: entries[i]!, raw }));
    },
    header(entry) {
      return session.top(numberOf(entry), 0);
    },
    async settle(entries) {
      if (options.processedAction !== 'delete') return;
      // DELE only marks (RFC 1939 §6): nothing is removed before QUIT, after the commit.
      await session.deleAll(entries.map(numberOf));
    },
    async keep() {
      // Kept means left on the server as it is.
    },
    async close() {
      await session.quit().catch(() => session.close());
    },
    abort() {
      session.close();
    },
  };
}
