/**
 * The mail handler's POP3 source pipelines its RETR and DELE commands (RFC 2449 §6.6) when
 * Dovecot advertises PIPELINING, and still handles every message once and deletes only at QUIT.
 * A watching proxy in front of Dovecot's plain POP3 port sees how the commands are sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWatchingProxy, type WatchingProxy } from '../mail/pop3/watching-proxy.js';
import { type MailboxWorld, startMailboxWorld } from './mailbox-world.js';

describe('mail handler: POP3 with PIPELINING', () => {
  let setup: MailboxWorld;
  let proxy: WatchingProxy;
  let serverId: string;

  before(async () => {
    setup = await startMailboxWorld({
      protocol: 'pop3',
      account: 'bob',
      corpus: { count: 120, seed: 6 },
    });
    const { world } = setup;
    proxy = await startWatchingProxy(
      { host: '127.0.0.1', port: world.dovecot.ports.pop3 },
      { stripPipelining: false },
    );
    const created = await world.createServer({
      name: 'Support POP3, plain text through a watching proxy',
      protocol: 'pop3',
      host: '127.0.0.1',
      port: proxy.port,
      security: 'none',
      username: setup.user,
      authentication: { method: 'oauth2', connectionId: world.bob },
      handlerEnabled: true,
      issueKeyPrefix: 'PIPE',
      maxMessageBytes: 200_000,
      processedAction: 'delete',
    });
    serverId = created.id;
  });
  after(async () => {
    await proxy?.close();
    await setup?.close();
  });

  it('fetches and deletes in pipelined windows; every message handled once, removed at QUIT', async () => {
    const { world, corpus, mailbox } = setup;
    const first = await world.api('POST', `/api/v1/mail-servers/${serverId}/poll`);
    assert.equal(first.statusCode, 200, first.body);
    assert.equal((first.json() as { fetched: number }).fetched, corpus.length);
    // Batches of 50 are fetched 32 commands at a time; one at a time would be 1 per write.
    assert.equal(proxy.mostLinesPerChunk, 32);
    assert.ok(proxy.sentWhileOwed > corpus.length, `${proxy.sentWhileOwed} sent while owed`);
    // Failed messages are kept as they are (POP3 has no error folder); the rest are deleted.
    const failed = corpus.filter((m) => m.expect.kind === 'failed').length;
    assert.ok(failed < corpus.length / 10, `${failed} failed`);
    assert.equal(await mailbox.count('INBOX'), failed, 'every handled message deleted at QUIT');
    const second = await world.api('POST', `/api/v1/mail-servers/${serverId}/poll`);
    assert.equal(second.statusCode, 200, second.body);
    assert.equal((second.json() as { fetched: number }).fetched, 0);
  });
});
