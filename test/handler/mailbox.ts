/**
 * Test access to a Dovecot mailbox as its owner, with imapflow and a token the world's
 * provider issued: append messages in order (UIDs follow the order), read flags, list
 * folders. What the handler did to the mailbox is checked through here.
 */
import { ImapFlow } from 'imapflow';
import type { OutlinkMailWorld } from '../mail/mail-servers-world.js';
import { ALICE } from '../support/worlds.js';

export interface TestMailbox {
  /** Appends in order, so UIDs follow the array's order. */
  append(messages: readonly Buffer[], folder?: string): Promise<void>;
  /** UID → flags of a folder's messages. */
  flags(folder?: string): Promise<Map<number, Set<string>>>;
  /** How many messages a folder holds (0 when it does not exist). */
  count(folder: string): Promise<number>;
  createFolder(folder: string): Promise<void>;
  deleteFolder(folder: string): Promise<void>;
  /** The folder's UIDVALIDITY (RFC 9051 §2.3.1.1). */
  uidValidity(folder: string): Promise<number>;
  close(): Promise<void>;
}

/** ALICE's mailbox (or `user`'s) at the world's Dovecot, over implicit TLS. */
export async function openTestMailbox(
  world: Pick<OutlinkMailWorld, 'dovecot' | 'tls' | 'storedTokens'>,
  connectionId: string,
  user = ALICE,
): Promise<TestMailbox> {
  const { accessToken } = await world.storedTokens(connectionId);
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: world.dovecot.ports.imaps!,
    secure: true,
    tls: { ca: world.tls.caPem, servername: 'localhost' },
    auth: { user, accessToken },
    logger: false,
    // A benchmark keeps this session open, idle, through long rounds.
    socketTimeout: 30 * 60_000,
  });
  // A failure surfaces through the awaited command; an unheard 'error' event would end the
  // process instead.
  client.on('error', () => {});
  await client.connect();
  return {
    async append(messages, folder = 'INBOX') {
      for (const message of messages) await client.append(folder, message);
    },
    async flags(folder = 'INBOX') {
      const lock = await client.getMailboxLock(folder);
      try {
        const found = new Map<number, Set<string>>();
        if (client.mailbox && client.mailbox.exists === 0) return found;
        for await (const m of client.fetch('1:*', { uid: true, flags: true })) {
          found.set(m.uid, new Set(m.flags ?? []));
        }
        return found;
      } finally {
        lock.release();
      }
    },
    async count(folder) {
      const list = await client.list();
      if (!list.some((m) => m.path === folder)) return 0;
      const status = await client.status(folder, { messages: true });
      return status ? (status.messages ?? 0) : 0;
    },
    async createFolder(folder) {
      await client.mailboxCreate(folder);
    },
    async deleteFolder(folder) {
      await client.mailboxDelete(folder);
    },
    async uidValidity(folder) {
      const status = await client.status(folder, { uidValidity: true });
      if (!status) throw new Error(`no folder ${folder}`);
      return Number(status.uidValidity);
    },
    async close() {
      await client.logout().catch(() => client.close());
    },
  };
}
