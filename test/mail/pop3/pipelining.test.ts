import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, Pop3Error, type Pop3Session } from '../../../src/mail/pop3/client.js';
import { startTcpProxy } from '../../peers/tcp-proxy.js';
import { type MailWorld, startMailWorld } from '../../support/mail-world.js';
import { BOB } from '../../support/worlds.js';
import { startWatchingProxy, type WatchingProxy } from './watching-proxy.js';

/** RFC 2449 §6.6 PIPELINING of RETR and DELE, against Dovecot (which advertises it). */
describe('POP3 pipelining against Dovecot (RFC 2449 §6.6)', () => {
  const COUNT = 300;
  const messages = Array.from({ length: COUNT }, (_, i) => buildMessage(i));
  const numbers = Array.from({ length: COUNT }, (_, i) => i + 1);
  let world: MailWorld;
  let token: string;
  const open: Pop3Session[] = [];
  const closers: (() => Promise<void>)[] = [];

  const session = async (port = world.dovecot.ports.pop3) => {
    const s = await connect({
      host: '127.0.0.1',
      port,
      security: 'none',
      connectTimeoutMs: 2_000,
      commandTimeoutMs: 5_000,
    });
    open.push(s);
    await s.authenticate({ user: BOB, accessToken: token });
    return s;
  };
  const watching = async (stripPipelining: boolean): Promise<WatchingProxy> => {
    const proxy = await startWatchingProxy(
      { host: '127.0.0.1', port: world.dovecot.ports.pop3 },
      { stripPipelining },
    );
    closers.push(() => proxy.close());
    return proxy;
  };
  /** Message number → the delivered message it is, by content. */
  const delivered = (bodies: readonly Buffer[]) => {
    const byContent = new Map(messages.map((m, i) => [m.toString('latin1'), i]));
    return bodies.map((b) => byContent.get(b.toString('latin1')));
  };

  before(async () => {
    world = await startMailWorld({ tls: false });
    token = await world.accessToken(BOB);
    await world.dovecot.deliver(BOB, messages);
  });
  after(async () => {
    for (const s of open) s.close();
    for (const close of closers) await close();
    await world?.close();
  });

  it('pipelined RETR returns the same messages byte for byte as one at a time', async () => {
    const proxy = await watching(false);
    const s = await session(proxy.port);
    assert.equal(s.pipelining, true);
    const pipelined = await s.retrAll(numbers);
    assert.equal(proxy.mostLinesPerChunk, 32, 'the first window goes out in one write');
    assert.ok(proxy.sentWhileOwed >= COUNT / 2, `only ${proxy.sentWhileOwed} pipelined`);
    const single: Buffer[] = [];
    for (const n of numbers) single.push(await s.retr(n));
    assert.deepEqual(pipelined, single);
    const which = delivered(pipelined);
    assert.ok(!which.includes(undefined), 'a message differs from every delivered one');
    assert.equal(new Set(which).size, COUNT);
    assert.deepEqual(await s.retrAll(numbers, { window: 7 }), single);
    await s.quit();
  });

  it('a server without PIPELINING gets one command at a time, with the same bytes', async () => {
    const proxy = await watching(true);
    const s = await session(proxy.port);
    assert.equal(proxy.stripped, 1);
    assert.equal(s.capabilities?.has('UIDL'), true);
    assert.equal(s.pipelining, false);
    const bodies = await s.retrAll(numbers);
    await s.deleAll(numbers.slice(0, 10));
    assert.equal(proxy.mostLinesPerChunk, 1);
    assert.equal(proxy.sentWhileOwed, 0);
    assert.equal(new Set(delivered(bodies)).size, COUNT);
    await s.rset();
    await s.quit();
  });

  it('a -ERR in the middle is command_failed after the window is drained; the session goes on', async () => {
    const s = await session();
    await assert.rejects(s.retrAll([1, 2, COUNT + 5, 3, 4]), (error: unknown) => {
      assert.ok(error instanceof Pop3Error);
      assert.equal(error.code, 'command_failed');
      assert.equal(error.message, `RETR failed: There's no message ${COUNT + 5}.`);
      return true;
    });
    assert.equal(s.state, 'transaction');
    assert.deepEqual(await s.stat(), {
      count: COUNT,
      size: messages.reduce((sum, m) => sum + m.length, 0),
    });
    await s.quit();
  });

  it('a connection cut mid-pipeline loses nothing: no partial answer, every message still there', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: world.dovecot.ports.pop3 });
    closers.push(() => proxy.close());
    proxy.cutAfter(60_000);
    const s = await session(proxy.port);
    await assert.rejects(s.retrAll(numbers), (error: unknown) => {
      assert.ok(error instanceof Pop3Error);
      assert.equal(error.code, 'connection_closed');
      return true;
    });
    assert.equal(proxy.cuts, 1);
    assert.equal(s.state, 'closed');
    // DELE only marks: a connection lost without QUIT removes nothing (RFC 1939 §6).
    const marking = await session();
    await marking.deleAll(numbers);
    assert.equal((await marking.stat()).count, 0);
    marking.close();
    const again = await session();
    assert.equal((await again.stat()).count, COUNT);
    assert.equal(new Set(delivered(await again.retrAll(numbers))).size, COUNT);
    await again.quit();
  });

  it('pipelined DELE then QUIT removes exactly the messages asked for', async () => {
    const s = await session();
    await s.deleAll(numbers.slice(0, 100));
    await s.quit();
    const again = await session();
    assert.equal((await again.stat()).count, COUNT - 100);
    await again.quit();
  });
});

/** Messages with dot-stuffed lines, non-ASCII text and a few large ones. */
function buildMessage(i: number): Buffer {
  const lines = [
    `From: Sender ${i} <sender${i}@example.test>`,
    `To: ${BOB}`,
    `Subject: Pipelined ${i}`,
    `Message-ID: <${i}.pipelining-test@example.test>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body of message ${i}.`,
  ];
  if (i % 3 === 0) lines.push('.', '..', '.leading dot', ' .not leading');
  if (i % 5 === 0) lines.push('café – 日本語のテキスト');
  for (let k = 0; k < i % 13; k++) lines.push(`filler ${k} ${'x'.repeat((i * 7 + k) % 90)}`);
  if (i % 50 === 0)
    for (let k = 0; k < 1500; k++) lines.push(`${k % 40 === 0 ? '.' : ''}${'y'.repeat(76)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
}
