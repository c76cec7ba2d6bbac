/**
 * Authenticated IMAP and POP3 sessions per second against Dovecot through Outlink's code path
 * (the mail server's runtime from the database, the token service's token, Outlink's sockets,
 * imapflow or Outlink's POP3 client, logout) as a ratio to raw imapflow and raw-socket POP3
 * sessions with the same token. Every side runs in a child process of its own
 * (bench/mail-child.ts); the parent holds only the peers. Plain TCP on loopback (TLS would
 * measure OpenSSL), sequential sessions, rounds alternating which side goes first; each figure
 * is the median of the per-round ratios with its spread.
 *
 * SASL: this Dovecot offers XOAUTH2 only (and PLAIN for a password account), so both sides
 * really use XOAUTH2 — imapflow would pick OAUTHBEARER if it were offered (PEERS.md). Every
 * OAuth login makes Dovecot introspect the token at the authorization server (RFC 7662, no
 * cache): the benchmark reports how much of a raw POP3 session that wait is, and the same
 * session with USER/PASS of a password account on the same Dovecot for comparison.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { ROOT } from '../test/cli/cli-harness.js';
import { type OutlinkMailWorld, startOutlinkMailWorld } from '../test/mail/mail-servers-world.js';
import { ALICE, CAROL, CAROL_PASSWORD } from '../test/support/worlds.js';
import type { MailJob, MailReport, MailSide } from './mail-child.js';
import { roundedSpread, spreadOf } from './stats.js';

function runChild(job: MailJob): Promise<MailReport> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/mail-child.ts', JSON.stringify(job)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + String(chunk)).slice(-4000);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{')) resolve(JSON.parse(line) as MailReport);
    });
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`mail bench child exited (${code}):\n${stderr}`));
    });
  });
}

async function createServer(
  world: OutlinkMailWorld,
  protocol: 'imap' | 'pop3',
  port: number,
): Promise<string> {
  const created = await world.createServer({
    name: `Bench ${protocol}`,
    protocol,
    host: '127.0.0.1',
    port,
    security: 'none',
    username: ALICE,
    authentication: { method: 'oauth2', connectionId: world.alice },
    saslMechanism: 'XOAUTH2',
  });
  return created.id;
}

export async function benchMail(options: {
  seconds: number;
  rounds: number;
  log: (line: string) => void;
}) {
  const world = await startOutlinkMailWorld();
  try {
    const dovecot = await world.startDovecot({
      mechanisms: ['xoauth2'],
      passwordUsers: [{ user: CAROL, password: CAROL_PASSWORD }],
    });
    const imapServer = await createServer(world, 'imap', dovecot.ports.imap);
    const pop3Server = await createServer(world, 'pop3', dovecot.ports.pop3);
    const { accessToken } = await world.outlink.services.tokens.getAccessToken(world.alice);
    const { database } = world.outlink;
    const job = (side: MailSide, serverId: string): MailJob => ({
      side,
      ms: options.seconds * 1000,
      warmMs: 500,
      imapPort: dovecot.ports.imap,
      pop3Port: dovecot.ports.pop3,
      user: ALICE,
      accessToken,
      passwordUser: CAROL,
      password: CAROL_PASSWORD,
      dataDir: database.dataDir,
      databaseUrl: database.url,
      asCaPem: world.as.caPem,
      serverId,
    });
    const sides: [MailSide, string][] = [
      ['outlink-imap', imapServer],
      ['raw-imap', imapServer],
      ['outlink-pop3', pop3Server],
      ['raw-pop3', pop3Server],
      ['raw-pop3-password', pop3Server],
    ];
    const load = [loadavg()];
    const rounds: Record<string, MailReport>[] = [];
    for (let i = 0; i < options.rounds; i++) {
      const round: Record<string, MailReport> = {};
      for (const [side, id] of i % 2 === 0 ? sides : [...sides].reverse()) {
        round[side] = await runChild(job(side, id));
      }
      rounds.push(round);
      const rate = (r: MailReport) => ((r.sessions * 1000) / r.ms).toFixed(0);
      options.log(
        `mail round ${i + 1}/${options.rounds}: ` +
          sides.map(([s]) => `${s} ${rate(round[s]!)}/s`).join(', '),
      );
    }
    load.push(loadavg());
    const perSecond = (r: MailReport) => (r.sessions * 1000) / r.ms;
    const ratio = (a: MailSide, b: MailSide) =>
      roundedSpread(spreadOf(rounds.map((r) => perSecond(r[a]!) / perSecond(r[b]!))), 3);
    const median = (side: MailSide) =>
      Number(spreadOf(rounds.map((r) => perSecond(r[side]!))).median.toFixed(1));
    const share = (side: MailSide) =>
      roundedSpread(spreadOf(rounds.map((r) => r[side]!.loginMs! / r[side]!.ms)), 3);
    const sessionMs = (side: MailSide) =>
      spreadOf(rounds.map((r) => r[side]!.ms / r[side]!.sessions)).median;
    const cores = availableParallelism();
    const la = load.map((l) => l.map((n) => n.toFixed(2)).join(' ')).join(' → ');
    const range = (s: { median: number; min: number; max: number }) =>
      `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
    const pct = (s: { median: number; min: number; max: number }) =>
      `${(s.median * 100).toFixed(0)}% (${(s.min * 100).toFixed(0)}–${(s.max * 100).toFixed(0)}%)`;
    const mechanisms = Object.fromEntries(sides.map(([s]) => [s, rounds[0]![s]!.mechanism]));
    const common = `${options.rounds} alternating rounds of ${options.seconds}s per side, each side its own process, plain TCP, ${cores} cores, load average ${la}`;
    const imap = ratio('outlink-imap', 'raw-imap');
    const pop3 = ratio('outlink-pop3', 'raw-pop3');
    const tokenShare = share('raw-pop3');
    const passwordShare = share('raw-pop3-password');
    const tokenCheckMs = sessionMs('raw-pop3') - sessionMs('raw-pop3-password');
    return [
      {
        name: 'authenticated IMAP sessions through Outlink vs raw imapflow',
        mechanism: 'XOAUTH2 (both sides; the Dovecot offers no OAUTHBEARER)',
        cores,
        outlinkPerSecond: median('outlink-imap'),
        rawPerSecond: median('raw-imap'),
        ratio: imap,
        summary: `IMAP sessions (connect, XOAUTH2 login with the token service's token, logout): Outlink ${median('outlink-imap')}/s = ${range(imap)} of raw imapflow (${median('raw-imap')}/s); ${common}`,
      },
      {
        name: 'authenticated POP3 sessions through Outlink vs raw socket',
        mechanism: `${mechanisms['outlink-pop3']} (Outlink, as negotiated) / XOAUTH2 (raw)`,
        cores,
        outlinkPerSecond: median('outlink-pop3'),
        rawPerSecond: median('raw-pop3'),
        ratio: pop3,
        summary: `POP3 sessions (connect, ${mechanisms['outlink-pop3']} login, QUIT): Outlink ${median('outlink-pop3')}/s = ${range(pop3)} of a raw socket (${median('raw-pop3')}/s); ${common}`,
      },
      {
        name: "Dovecot's token check in a raw POP3 session",
        cores,
        oauthPerSecond: median('raw-pop3'),
        passwordPerSecond: median('raw-pop3-password'),
        authShareOfSession: tokenShare,
        passwordLoginShareOfSession: passwordShare,
        tokenCheckMsPerSession: Number(tokenCheckMs.toFixed(2)),
        summary: `Token check: the AUTH XOAUTH2 round trip (Dovecot introspecting the token at the AS over HTTPS) is ${pct(tokenShare)} of a raw POP3 session (${sessionMs('raw-pop3').toFixed(2)} ms); USER/PASS on the same Dovecot is ${pct(passwordShare)} of its session (${sessionMs('raw-pop3-password').toFixed(2)} ms, ${median('raw-pop3-password')}/s): the token check costs about ${tokenCheckMs.toFixed(2)} ms a session; ${common}`,
      },
    ];
  } finally {
    await world.close();
  }
}
