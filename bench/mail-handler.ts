import { isDeepStrictEqual } from 'node:util';
import type { ChildReport } from './mail-handler-child.js';
import { openBenchMailbox, type Side } from './mail-handler-world.js';
import { roundedSpread, type Spread, spreadOf } from './stats.js';

/** Issue 10's goals: at least half the raw fetch's rate; RSS at n at most 1.2× RSS at n/10. */
const RATE_GOAL = 0.5;
const RSS_GOAL = 1.2;

export interface MailHandlerBenchOptions {
  /** Messages in the mailbox (issue 10: 10,000). */
  readonly messages: number;
  /** Counted rounds, after one warm-up round that is not counted. */
  readonly rounds: number;
  /** Also run side C: the raw fetch with mailparser's simpleParser on every message. */
  readonly parse: boolean;
  /** Messages of the warm-up pass each child makes before its measured pass. */
  readonly warm?: number;
  /** Extra Node options for the Outlink children (e.g. `--cpu-prof`). */
  readonly outlinkNodeOptions?: readonly string[];
  log?(line: string): void;
}

/** One side's figures over the counted rounds (CPU: the child's own, not Dovecot's). */
interface SideFigures {
  readonly perSecond: Spread;
  readonly cpuMsPerMessage: Spread;
  readonly peakRssMb: Spread;
}

const LABELS: Record<Side, string> = {
  outlink: 'A  Outlink mailHandler.poll → issues',
  fetch: 'B  raw imapflow fetch 1:* (baseline)',
  parse: 'C  raw fetch + mailparser simpleParser',
};

/**
 * Messages per second from a Dovecot mailbox into issues (issue 10's benchmark): Outlink's
 * `mailHandler.poll` (side A) against a raw imapflow fetch of the same messages with the same
 * token and TLS (side B), and optionally the fetch with mailparser on each message (side C),
 * which shows how much of the gap parsing alone explains. Every side runs the same way: a
 * fresh child process per side and round (bench/mail-handler-child.ts), a fresh server-side
 * copy of the mailbox, one warm-up pass inside the child before the measured one, one
 * warm-up round that is not counted, then rounds in alternating order (A,B,C then C,B,A …).
 *
 * Memory: the peak RSS of side A's child at `messages` and, in each round too, at a tenth of
 * them (the same child, the same warm-up), as medians and their ratio; beside it the heap
 * still in use after each run and a full GC, which tells what the run retained from what is
 * V8 not having collected yet (peak RSS counts both).
 */
export async function benchMailHandler(options: MailHandlerBenchOptions) {
  const log = options.log ?? (() => undefined);
  const small = Math.max(100, Math.round(options.messages / 10));
  const sides: Side[] = options.parse ? ['outlink', 'fetch', 'parse'] : ['outlink', 'fetch'];
  const mailbox = await openBenchMailbox({
    messages: options.messages,
    warm: options.warm ?? 200,
    log,
  });
  try {
    const expected = mailbox.expectedCounts(options.messages);
    const expectedSmall = mailbox.expectedCounts(small);
    const reports: { round: number; side: Side | 'outlink-small'; report: ChildReport }[] = [];
    const checked = (report: ChildReport, counts: typeof expected) => {
      if (report.side === 'outlink' && !isDeepStrictEqual(report.counts, counts)) {
        throw new Error(
          `the handler's counts ${JSON.stringify(report.counts)} are not the corpus's ${JSON.stringify(counts)}`,
        );
      }
      if (report.side !== 'outlink' && report.messages !== counts.fetched) {
        throw new Error(`${report.side} fetched ${report.messages} of ${counts.fetched} messages`);
      }
      return report;
    };
    for (let round = 0; round <= options.rounds; round++) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        const nodeOptions = side === 'outlink' ? (options.outlinkNodeOptions ?? []) : [];
        const report = checked(await mailbox.run(side, options.messages, nodeOptions), expected);
        reports.push({ round, side, report });
        log(`  round ${round || 'warm-up'} ${side}: ${describeRun(report)}`);
      }
      const report = checked(await mailbox.run('outlink', small), expectedSmall);
      reports.push({ round, side: 'outlink-small', report });
      log(`  round ${round || 'warm-up'} outlink ×${small}: ${describeRun(report)}`);
    }
    return summarize(
      options,
      small,
      sides,
      reports.filter((r) => r.round > 0),
    );
  } finally {
    await mailbox.close();
  }
}

const rateOf = (r: ChildReport) => (r.messages * 1000) / r.ms;
const mbOf = (r: ChildReport) => r.maxRssKb / 1024;
const liveMbOf = (r: ChildReport) => r.liveHeapKb / 1024;
const cpuPerMessage = (r: ChildReport) => r.cpuMs / r.messages;

function describeRun(r: ChildReport): string {
  return `${r.messages} msgs in ${(r.ms / 1000).toFixed(1)} s = ${rateOf(r).toFixed(1)}/s, CPU ${cpuPerMessage(r).toFixed(2)} ms/msg, peak RSS ${mbOf(r).toFixed(0)} MB`;
}

function summarize(
  options: MailHandlerBenchOptions,
  small: number,
  sides: readonly Side[],
  counted: readonly { round: number; side: Side | 'outlink-small'; report: ChildReport }[],
) {
  const of = (side: Side | 'outlink-small') =>
    counted.filter((c) => c.side === side).map((c) => c.report);
  const bySide = Object.fromEntries(
    sides.map((side) => [
      side,
      {
        perSecond: roundedSpread(spreadOf(of(side).map(rateOf)), 1),
        cpuMsPerMessage: roundedSpread(spreadOf(of(side).map(cpuPerMessage)), 3),
        peakRssMb: roundedSpread(spreadOf(of(side).map(mbOf)), 1),
      },
    ]),
  ) as Record<Side, SideFigures>;
  const outlink = bySide.outlink;
  const fetch = bySide.fetch;
  // Rounds pair A with B run back to back, so a round's own ratio cancels drift between rounds.
  const perRound = of('outlink').map((a, i) => rateOf(a) / rateOf(of('fetch')[i]!));
  const ratio = outlink.perSecond.median / fetch.perSecond.median;
  // Against side C: how far the handler is from what mailparser alone allows.
  const parse = bySide.parse;
  const ratioToParse = parse ? outlink.perSecond.median / parse.perSecond.median : undefined;
  const rssSmall = spreadOf(of('outlink-small').map(mbOf));
  const rssLarge = spreadOf(of('outlink').map(mbOf));
  const rssRatio = rssLarge.median / rssSmall.median;
  const liveSmall = spreadOf(of('outlink-small').map(liveMbOf));
  const liveLarge = spreadOf(of('outlink').map(liveMbOf));
  const rounded = (n: number) => Number(n.toFixed(3));
  const result = {
    name: `mail handler: ${options.messages}-message Dovecot mailbox into issues vs raw imapflow fetch`,
    messages: options.messages,
    rounds: options.rounds,
    warmupRound: true,
    sides: bySide,
    ratio: rounded(ratio),
    ratioPerRound: roundedSpread(spreadOf(perRound), 3),
    rateGoal: RATE_GOAL,
    rateGoalMet: ratio >= RATE_GOAL,
    ...(ratioToParse !== undefined ? { ratioToParse: rounded(ratioToParse) } : {}),
    memory: {
      smallMessages: small,
      smallPeakRssMb: roundedSpread(rssSmall, 1),
      peakRssMb: roundedSpread(rssLarge, 1),
      ratio: rounded(rssRatio),
      goal: RSS_GOAL,
      goalMet: rssRatio <= RSS_GOAL,
      smallLiveHeapMb: roundedSpread(liveSmall, 1),
      liveHeapMb: roundedSpread(liveLarge, 1),
    },
    counts: counted.find((c) => c.side === 'outlink')?.report.counts,
    runs: counted.map(({ round, side, report }) => ({
      round,
      side,
      messages: report.messages,
      ms: Math.round(report.ms),
      cpuMs: Math.round(report.cpuMs),
      maxRssKb: report.maxRssKb,
      liveHeapKb: report.liveHeapKb,
    })),
  };
  return { ...result, summary: table(result, bySide, small) };
}

function table(
  r: {
    messages: number;
    rounds: number;
    ratio: number;
    ratioPerRound: Spread;
    rateGoalMet: boolean;
    ratioToParse?: number;
    memory: {
      smallPeakRssMb: Spread;
      peakRssMb: Spread;
      ratio: number;
      goalMet: boolean;
      smallLiveHeapMb: Spread;
      liveHeapMb: Spread;
    };
  },
  bySide: Partial<Record<Side, SideFigures>>,
  small: number,
): string {
  const n = (x: number, d = 1) => x.toFixed(d);
  const range = (s: Spread, d = 1) => `${n(s.min, d)}–${n(s.max, d)}`;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const rows = (Object.keys(LABELS) as Side[]).flatMap((side) => {
    const s = bySide[side];
    if (!s) return [];
    const { perSecond: p, peakRssMb: m, cpuMsPerMessage: c } = s;
    return [
      `  ${LABELS[side].padEnd(40)} ${n(p.median).padStart(9)}  ${range(p).padStart(15)}  ${`${n(p.q1)}–${n(p.q3)}`.padStart(15)}  ${n(c.median, 2).padStart(8)}  ${n(m.median, 0).padStart(5)} MB`,
    ];
  });
  return [
    `mail handler, ${r.messages.toLocaleString('en')} messages from Dovecot (IMAP over TLS, OAuth token), SQLite; ${r.rounds} counted rounds after 1 warm-up round; a fresh child process per side and round, order alternating`,
    `  ${'side'.padEnd(40)} ${'msgs/s'.padStart(9)}  ${'min–max'.padStart(15)}  ${'IQR'.padStart(15)}  ${'CPU ms/msg'.padStart(8)}  peak RSS`,
    ...rows,
    `  ratio A/B (medians) ${n(r.ratio, 3)}×, per round ${range(r.ratioPerRound, 3)}×; goal ≥ ${RATE_GOAL}×: ${met(r.rateGoalMet)}`,
    ...(r.ratioToParse !== undefined
      ? [
          `  ratio A/C (medians) ${n(r.ratioToParse, 3)}×: the handler against fetch + mailparser alone`,
        ]
      : []),
    `  peak RSS of A: ${small.toLocaleString('en')} msgs ${n(r.memory.smallPeakRssMb.median)} MB (${range(r.memory.smallPeakRssMb)}), ${r.messages.toLocaleString('en')} msgs ${n(r.memory.peakRssMb.median)} MB (${range(r.memory.peakRssMb)}); ratio ${n(r.memory.ratio, 3)}×; goal ≤ ${RSS_GOAL}×: ${met(r.memory.goalMet)}`,
    `  live heap of A after the run and a full GC: ${small.toLocaleString('en')} msgs ${n(r.memory.smallLiveHeapMb.median)} MB, ${r.messages.toLocaleString('en')} msgs ${n(r.memory.liveHeapMb.median)} MB`,
  ].join('\n');
}
