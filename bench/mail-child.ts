/**
 * One side of the mail session benchmark (bench/mail.ts), in a process of its own: nothing of
 * the parent (the authorization server answering Dovecot's introspection, Dovecot's driver,
 * the other side) shares its event loop. Reads one job as JSON from argv, logs in back to back
 * for a warm-up, then for `ms`, and prints one JSON line: sessions, milliseconds, the SASL
 * mechanism used, and (raw POP3 sides) the time spent waiting for the answer to the login
 * command(s) — where Dovecot checks the token (or password).
 *
 * Sides:
 * - `outlink-imap`, `outlink-pop3`: Outlink composed on the benchmark's database; each session
 *   is the mail server's runtime as the services hand it over, the token service's token,
 *   imapflow or Outlink's POP3 client through Outlink's sockets, logout.
 * - `raw-imap`: imapflow with the same token; `raw-pop3`: a bare socket, `AUTH XOAUTH2 <ir>`;
 *   `raw-pop3-password`: a bare socket, USER/PASS of a password account on the same Dovecot.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { ImapFlow } from 'imapflow';
import { loadConfig } from '../src/config/config.js';
import { xoauth2InitialResponse } from '../src/mail/sasl.js';
import { compose } from '../src/main/compose.js';
import { createLogger } from '../src/main/log.js';
import { createTrustingFetch } from '../test/peers/fetch.js';

export type MailSide =
  | 'outlink-imap'
  | 'outlink-pop3'
  | 'raw-imap'
  | 'raw-pop3'
  | 'raw-pop3-password';

export interface MailJob {
  readonly side: MailSide;
  readonly ms: number;
  readonly warmMs: number;
  readonly imapPort: number;
  readonly pop3Port: number;
  readonly user: string;
  readonly accessToken: string;
  readonly passwordUser: string;
  readonly password: string;
  /** Outlink sides: the database, the AS's CA and the mail server to open. */
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly asCaPem: string;
  readonly serverId: string;
}

export interface MailReport {
  readonly side: MailSide;
  readonly sessions: number;
  readonly ms: number;
  readonly mechanism: string;
  /** Raw POP3 sides: total time between sending the login command(s) and their `+OK`. */
  readonly loginMs?: number;
}

/**
 * A POP3 session on a bare socket, the least a client can do (RFC 1939, RFC 5034): greeting,
 * the login commands one after another, `QUIT`. No CAPA, no timeouts, no parsing beyond the
 * status indicator. Resolves with the time spent waiting for the login answers.
 */
function rawPop3(port: number, logins: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connectTcp({ host: '127.0.0.1', port });
    const sends = [...logins, 'QUIT'];
    let loginMs = 0;
    let sentAt = 0;
    let pendingLogins = logins.length;
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
        if (sentAt > 0 && pendingLogins-- > 0) loginMs += performance.now() - sentAt;
        const next = sends.shift();
        if (next === undefined) {
          socket.end();
          resolve(loginMs);
          return;
        }
        sentAt = performance.now();
        socket.write(`${next}\r\n`);
        end = buffered.indexOf('\r\n');
      }
    });
  });
}

async function main(job: MailJob): Promise<MailReport> {
  let close = async () => {};
  let login: () => Promise<number>;
  let mechanism = 'XOAUTH2';
  if (job.side === 'outlink-imap' || job.side === 'outlink-pop3') {
    const trusting = createTrustingFetch(job.asCaPem);
    const config = loadConfig({
      OUTLINK_DATA_DIR: job.dataDir,
      OUTLINK_DATABASE_URL: job.databaseUrl,
      OUTLINK_LOG_LEVEL: 'warn',
    });
    const services = await compose(config, {
      log: createLogger({ level: 'warn' }),
      fetch: trusting.fetch,
    });
    close = async () => {
      await services.close();
      await trusting.close();
    };
    const runtime = await services.mailServers.runtime(job.serverId);
    mechanism = runtime.saslMechanism ?? '(default)';
    login =
      job.side === 'outlink-imap'
        ? async () => {
            const { value } = await services.mail.imap(runtime);
            await value.client.logout();
            return 0;
          }
        : async () => {
            const { value } = await services.mail.pop3(runtime);
            mechanism = value.mechanism;
            await value.session.quit();
            return 0;
          };
  } else if (job.side === 'raw-imap') {
    login = async () => {
      const client = new ImapFlow({
        host: '127.0.0.1',
        port: job.imapPort,
        secure: false,
        doSTARTTLS: false,
        auth: { user: job.user, accessToken: job.accessToken },
        logger: false,
        disableAutoIdle: true,
      });
      await client.connect();
      await client.logout();
      return 0;
    };
  } else if (job.side === 'raw-pop3') {
    const ir = xoauth2InitialResponse({ user: job.user, accessToken: job.accessToken });
    login = () => rawPop3(job.pop3Port, [`AUTH XOAUTH2 ${ir}`]);
  } else {
    mechanism = 'USER/PASS';
    login = () => rawPop3(job.pop3Port, [`USER ${job.passwordUser}`, `PASS ${job.password}`]);
  }
  const sustain = async (ms: number) => {
    const started = performance.now();
    let sessions = 0;
    let loginMs = 0;
    while (performance.now() - started < ms) {
      loginMs += await login();
      sessions++;
    }
    return { sessions, ms: performance.now() - started, loginMs };
  };
  try {
    await sustain(job.warmMs);
    const measured = await sustain(job.ms);
    return {
      side: job.side,
      sessions: measured.sessions,
      ms: measured.ms,
      mechanism,
      ...(job.side.startsWith('raw-pop3') ? { loginMs: measured.loginMs } : {}),
    };
  } finally {
    await close();
  }
}

const report = await main(JSON.parse(process.argv[2] ?? '{}') as MailJob);
process.stdout.write(`${JSON.stringify(report)}\n`);
