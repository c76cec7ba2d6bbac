import { connect as connectTcp, type Socket } from 'node:net';
import { ImapFlow } from 'imapflow';
import type { MailServerRuntime } from '../src/domain/mail-server.js';
import { xoauth2InitialResponse } from '../src/mail/sasl.js';
import { type OutlinkMailWorld, startOutlinkMailWorld } from '../test/mail/mail-servers-world.js';
import { ALICE } from '../test/support/worlds.js';

/** One side of a comparison: logins completed in the time given. */
interface Count {
  readonly sessions: number;
  readonly ms: number;
}

const perSecond = (c: Count) => (c.sessions * 1000) / c.ms;

/** Runs `login` back to back for `ms`; the number completed. */
async function sustain(ms: number, login: () => Promise<void>): Promise<Count> {
  const started = performance.now();
  let sessions = 0;
  while (performance.now() - started < ms) {
    await login();
    sessions += 1;
  }
  return { sessions, ms: performance.now() - started };
}

/**
 * A POP3 login on a bare socket, the least a client can do (RFC 1939, RFC 5034): read the
 * greeting, `AUTH XOAUTH2 <initial response>`, read `+OK`, `QUIT`, read `+OK`. No CAPA, no
 * timeouts, no parsing beyond the status indicator.
 */
function rawPop3Login(port: number, user: string, accessToken: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connectTcp({ host: '127.0.0.1', port });
    const sends = [`AUTH XOAUTH2 ${xoauth2InitialResponse({ user, accessToken })}`, 'QUIT'];
    let buffered = '';
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let end = buffered.indexOf('\r\n');
      while (end >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (!line.startsWith('+OK')) {
          socket.destroy();
          reject(new Error(`raw POP3: ${line}`));
          return;
        }
        const next = sends.shift();
        if (next === undefined) {
          socket.end();
          resolve();
          return;
        }
        socket.write(`${next}\r\n`);
        end = buffered.indexOf('\r\n');
      }
    });
  });
}

/** The mail server as Outlink's services hand it to the mail code, for the POP3 and IMAP runs. */
async function runtimeFor(
  world: OutlinkMailWorld,
  protocol: 'imap' | 'pop3',
): Promise<MailServerRuntime> {
  const created = await world.createServer({
    name: `Bench ${protocol}`,
    protocol,
    host: '127.0.0.1',
    port: protocol === 'imap' ? world.dovecot.ports.imap : world.dovecot.ports.pop3,
    security: 'none',
    username: ALICE,
    authentication: { method: 'oauth2', linkId: world.linkId },
    saslMechanism: 'XOAUTH2',
  });
  return world.outlink.services.mailServers.runtime(created.id);
}

/**
 * Authenticated IMAP and POP3 sessions per second against the local Dovecot through Outlink's
 * code path (the mail server's runtime from the database, `getAccessToken` from the token
 * service, Outlink's sockets with their timers, imapflow or Outlink's POP3 client, logout),
 * as a ratio to raw imapflow logins and raw-socket POP3 logins with the same token in the same
 * run. Plain TCP on both sides (TLS would measure OpenSSL), sequential logins, XOAUTH2 on both
 * sides; rounds alternate so drift hits both alike. Every login makes Dovecot introspect the
 * token at the local authorization server (PEERS.md: no cache), which bounds both sides.
 */
export async function benchMail(options: { seconds: number; rounds: number }) {
  const world = await startOutlinkMailWorld({ mailTimeouts: { commandMs: 10_000 } });
  try {
    const { mail, tokens } = world.outlink.services;
    const imap = await runtimeFor(world, 'imap');
    const pop3 = await runtimeFor(world, 'pop3');
    const { accessToken } = await tokens.getAccessToken(world.alice);
    const ms = (options.seconds * 1000) / 2;

    const outlinkImap = async () => {
      const { value } = await mail.imap(imap);
      await value.client.logout();
    };
    const rawImap = async () => {
      const client = new ImapFlow({
        host: '127.0.0.1',
        port: world.dovecot.ports.imap,
        secure: false,
        doSTARTTLS: false,
        auth: { user: ALICE, accessToken },
        logger: false,
        disableAutoIdle: true,
      });
      await client.connect();
      await client.logout();
    };
    const outlinkPop3 = async () => {
      const { value } = await mail.pop3(pop3);
      await value.session.quit();
    };
    const rawPop3 = () => rawPop3Login(world.dovecot.ports.pop3, ALICE, accessToken);

    // Warm-up: JIT, Dovecot's login processes, the AS's introspection path.
    for (const login of [outlinkImap, rawImap, outlinkPop3, rawPop3]) await sustain(200, login);
    const totals = {
      outlinkImap: { sessions: 0, ms: 0 },
      rawImap: { sessions: 0, ms: 0 },
      outlinkPop3: { sessions: 0, ms: 0 },
      rawPop3: { sessions: 0, ms: 0 },
    };
    const add = (key: keyof typeof totals, c: Count) => {
      totals[key] = { sessions: totals[key].sessions + c.sessions, ms: totals[key].ms + c.ms };
    };
    for (let round = 0; round < options.rounds; round++) {
      add('outlinkImap', await sustain(ms, outlinkImap));
      add('rawImap', await sustain(ms, rawImap));
      add('outlinkPop3', await sustain(ms, outlinkPop3));
      add('rawPop3', await sustain(ms, rawPop3));
    }
    const result = (protocol: 'IMAP' | 'POP3', outlink: Count, raw: Count, rawName: string) => {
      const outlinkRate = perSecond(outlink);
      const rawRate = perSecond(raw);
      const ratio = outlinkRate / rawRate;
      return {
        name: `authenticated ${protocol} sessions through Outlink vs ${rawName}`,
        outlinkPerSecond: Number(outlinkRate.toFixed(1)),
        rawPerSecond: Number(rawRate.toFixed(1)),
        ratio,
        summary: `${protocol} sessions (connect, XOAUTH2 login with the token service's token, logout) against Dovecot: ${outlinkRate.toFixed(1)}/s = ${(ratio * 100).toFixed(1)}% of ${rawName} (${rawRate.toFixed(1)}/s), sequential, plain TCP, ${options.rounds}×${(ms / 1000).toFixed(1)}s rounds`,
      };
    };
    return [
      result('IMAP', totals.outlinkImap, totals.rawImap, 'raw imapflow logins'),
      result('POP3', totals.outlinkPop3, totals.rawPop3, 'raw-socket POP3 logins'),
    ];
  } finally {
    await world.close();
  }
}
