/**
 * The world of the mail handler's heavy tests and its benchmark: the Outlink mail world
 * (oidc-provider, Outlink, Dovecot with TLS), a corpus built from a seed and appended in order
 * to one account's INBOX, optionally a TCP proxy in front of Dovecot's implicit-TLS port of the
 * protocol (for connections cut mid-transfer), and a mail server with the handler enabled that
 * reads the mailbox over implicit TLS — through the proxy when there is one.
 */
import type { MailTimeouts } from '../../src/mail/endpoint.js';
import {
  type MailServerJson,
  type OutlinkMailWorld,
  startOutlinkMailWorld,
} from '../mail/mail-servers-world.js';
import { startTcpProxy, type TcpProxy } from '../peers/tcp-proxy.js';
import type { TestDialect } from '../support/harness.js';
import { ALICE, BOB } from '../support/worlds.js';
import { buildCorpus, type CorpusMessage } from './corpus.js';
import { openTestMailbox, type TestMailbox } from './mailbox.js';

/** The issue key prefix and size limit of the handler's mail servers in these worlds. */
export const MAILBOX_PREFIX = 'MAIL';
export const MAILBOX_MAX_MESSAGE_BYTES = 200_000;

/** Mail step timeouts for a loaded test machine: a batch of 50 may take a while. */
export const SLOW_MAIL_TIMEOUTS: Partial<MailTimeouts> = {
  connectMs: 5_000,
  tlsMs: 5_000,
  greetingMs: 5_000,
  commandMs: 60_000,
};

export interface MailboxWorldOptions {
  readonly protocol: 'imap' | 'pop3';
  /** Whose mailbox: ALICE's or BOB's connection. */
  readonly account: 'alice' | 'bob';
  /** The corpus: `count` messages from `seed` (buildCorpus). */
  readonly corpus: { readonly count: number; readonly seed: number };
  /** A TCP proxy between the mail server and Dovecot. */
  readonly proxied?: boolean;
  /** false: the corpus is built but not appended (the caller puts it where it wants). */
  readonly append?: boolean;
  readonly mailTimeouts?: Partial<MailTimeouts>;
  /** Outlink's database (default SQLite; the cluster tests run nodes on PostgreSQL). */
  readonly dialect?: TestDialect;
  /** More fields of the mail server (name, processedAction, pollIntervalSeconds, …). */
  readonly server?: Record<string, unknown>;
}

export interface MailboxWorld {
  readonly world: OutlinkMailWorld;
  /** The proxy in front of Dovecot, when `proxied`. */
  readonly proxy: TcpProxy | undefined;
  /** The account's mailbox, for appending and checking (IMAP as its owner). */
  readonly mailbox: TestMailbox;
  readonly corpus: CorpusMessage[];
  readonly server: MailServerJson;
  /** The account's address (ALICE or BOB). */
  readonly user: string;
  close(): Promise<void>;
}

export async function startMailboxWorld(options: MailboxWorldOptions): Promise<MailboxWorld> {
  const world = await startOutlinkMailWorld({
    ...(options.mailTimeouts ? { mailTimeouts: options.mailTimeouts } : {}),
    ...(options.dialect ? { dialect: options.dialect } : {}),
  });
  let proxy: TcpProxy | undefined;
  let mailbox: TestMailbox | undefined;
  const close = async () => {
    await mailbox?.close();
    await proxy?.close();
    await world.close();
  };
  try {
    const user = options.account === 'alice' ? ALICE : BOB;
    const connectionId = options.account === 'alice' ? world.alice : world.bob;
    const dovecotPort =
      options.protocol === 'imap' ? world.dovecot.ports.imaps! : world.dovecot.ports.pop3s!;
    if (options.proxied) proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecotPort });
    mailbox = await openTestMailbox(world, connectionId, user);
    const corpus = buildCorpus({
      ...options.corpus,
      mailbox: user,
      prefix: MAILBOX_PREFIX,
      maxMessageBytes: MAILBOX_MAX_MESSAGE_BYTES,
    });
    if (options.append !== false) await mailbox.append(corpus.map((m) => m.raw));
    const server = await world.createServer({
      name: 'Support',
      protocol: options.protocol,
      host: '127.0.0.1',
      port: proxy?.port ?? dovecotPort,
      security: 'tls',
      username: user,
      authentication: { method: 'oauth2', connectionId },
      handlerEnabled: true,
      issueKeyPrefix: MAILBOX_PREFIX,
      maxMessageBytes: MAILBOX_MAX_MESSAGE_BYTES,
      ...options.server,
    });
    const opened = mailbox;
    return { world, proxy, mailbox: opened, corpus, server, user, close };
  } catch (error) {
    await close();
    throw error;
  }
}
