/**
 * POP3 download of a mailbox, pipelined (RFC 2449 §6.6, which Dovecot advertises) against one
 * RETR at a time, both with Outlink's POP3 client (bench/pop3-download.ts), each side in a
 * child process of its own, against the same Dovecot over plain loopback TCP, XOAUTH2. Each
 * child warms up with one full download, then times `downloads` more; the rounds alternate
 * which side runs first. The figure is the median of the per-round speed-ups (one-at-a-time
 * time / pipelined time) with its spread; each round's time is the median of its downloads.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { ROOT } from '../test/cli/cli-harness.js';
import { startMailWorld } from '../test/support/mail-world.js';
import { BOB } from '../test/support/worlds.js';
import { roundedSpread, spreadOf } from './stats.js';

interface Download {
  readonly ms: number[];
  readonly messages: number;
  readonly octets: number;
  readonly mechanism: string;
  readonly pipelining: boolean;
}

type Mode = 'pipelined' | 'single';

function runChild(spec: Record<string, unknown>): Promise<Download> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/pop3-download.ts', JSON.stringify(spec)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr = (stderr + String(chunk)).slice(-4000);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) resolve(JSON.parse(line) as Download);
    });
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the POP3 download child exited (${code}):\n${stderr}`));
    });
  });
}

/**
 * A mailbox of `messages` messages of a few KiB each (1 in 20 of about 40 KiB), some lines
 * dot-stuffed: roughly what a support mailbox holds.
 */
function buildMessage(i: number): Buffer {
  const lines = [
    `From: Customer ${i} <customer${i}@example.test>`,
    `To: ${BOB}`,
    `Subject: Ticket ${i}`,
    `Message-ID: <${i}.pop3-bench@example.test>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
  ];
  const bodyLines = i % 20 === 0 ? 500 : 20 + ((i * 37) % 60);
  for (let k = 0; k < bodyLines; k++) {
    lines.push(`${k % 17 === 0 ? '.' : ''}line ${k} of message ${i} ${'z'.repeat(60)}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
}

export async function benchPop3(options: {
  messages: number;
  rounds: number;
  downloads: number;
  log: (line: string) => void;
}) {
  const world = await startMailWorld({ tls: false });
  try {
    await world.dovecot.deliver(
      BOB,
      Array.from({ length: options.messages }, (_, i) => buildMessage(i)),
    );
    const accessToken = await world.accessToken(BOB);
    const spec = (mode: Mode) => ({
      port: world.dovecot.ports.pop3,
      user: BOB,
      accessToken,
      mode,
      downloads: options.downloads,
    });
    const load = [loadavg()];
    const modes: Mode[] = ['single', 'pipelined'];
    const rounds: Record<Mode, number>[] = [];
    let seen: Download | undefined;
    for (let i = 0; i < options.rounds; i++) {
      const round = {} as Record<Mode, number>;
      for (const mode of i % 2 === 0 ? modes : [...modes].reverse()) {
        const result = await runChild(spec(mode));
        if (mode === 'pipelined' && !result.pipelining) throw new Error('no PIPELINING in CAPA');
        round[mode] = spreadOf(result.ms).median;
        seen = result;
      }
      rounds.push(round);
      options.log(
        `pop3 round ${i + 1}/${options.rounds}: one at a time ${round.single.toFixed(0)} ms, ` +
          `pipelined ${round.pipelined.toFixed(0)} ms`,
      );
    }
    load.push(loadavg());
    const speedUp = roundedSpread(spreadOf(rounds.map((r) => r.single / r.pipelined)), 2);
    const median = (mode: Mode) => Number(spreadOf(rounds.map((r) => r[mode])).median.toFixed(1));
    const cores = availableParallelism();
    const la = (l: number[]) => l.map((n) => n.toFixed(2)).join(' ');
    return {
      name: `POP3 download of ${options.messages} messages, pipelined vs one RETR at a time`,
      cores,
      loadAverage: {
        before: load[0]!.map((n) => Number(n.toFixed(2))),
        after: load[1]!.map((n) => Number(n.toFixed(2))),
      },
      transport: 'plain TCP on loopback to Dovecot 2.3, SASL XOAUTH2, each side in its own process',
      messages: seen?.messages ?? options.messages,
      octets: seen?.octets ?? 0,
      pipelinedMs: median('pipelined'),
      singleMs: median('single'),
      speedUp,
      summary:
        `POP3 download of ${seen?.messages} messages (${((seen?.octets ?? 0) / 1e6).toFixed(1)} MB): ` +
        `pipelined ${median('pipelined')} ms vs one at a time ${median('single')} ms = ` +
        `${speedUp.median.toFixed(2)}× (${speedUp.min.toFixed(2)}–${speedUp.max.toFixed(2)}) faster; ` +
        `${options.rounds} alternating rounds, each side a child process with a warm-up download and ` +
        `the median of ${options.downloads} timed ones; ${cores} cores, load average ${la(load[0]!)} → ${la(load[1]!)}`,
    };
  } finally {
    await world.close();
  }
}
