/**
 * One side of the POP3 download benchmark, in a process of its own:
 * `node --import tsx bench/pop3-download.ts '<json spec>'` logs in to Dovecot with Outlink's
 * POP3 client (XOAUTH2), downloads every message — pipelined (`retrAll`, RFC 2449 §6.6) or one
 * RETR at a time (`retr` in a loop) — once to warm up and then `downloads` times, timing each,
 * checks the octet count against LIST, and prints one JSON line: the times in milliseconds.
 * Nothing is deleted.
 */
import { connect } from '../src/mail/pop3/client.js';

interface Spec {
  readonly port: number;
  readonly user: string;
  readonly accessToken: string;
  readonly mode: 'pipelined' | 'single';
  readonly downloads: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const session = await connect({ host: '127.0.0.1', port: spec.port, security: 'none' });
const { mechanism } = await session.authenticate({
  user: spec.user,
  accessToken: spec.accessToken,
  mechanism: 'XOAUTH2',
});
const list = await session.list();
const numbers = list.map((l) => l.message);
const expected = list.reduce((sum, l) => sum + l.size, 0);

async function download(): Promise<number> {
  const started = performance.now();
  let octets = 0;
  if (spec.mode === 'pipelined') {
    for (const body of await session.retrAll(numbers)) octets += body.length;
  } else {
    for (const n of numbers) octets += (await session.retr(n)).length;
  }
  const ms = performance.now() - started;
  if (octets !== expected) throw new Error(`downloaded ${octets} octets, LIST says ${expected}`);
  return ms;
}

await download();
const ms: number[] = [];
for (let i = 0; i < spec.downloads; i++) ms.push(await download());
await session.quit();
process.stdout.write(
  `${JSON.stringify({ ms, messages: numbers.length, octets: expected, mechanism, pipelining: session.pipelining })}\n`,
);
