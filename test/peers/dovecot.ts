import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as connectTcp, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { TestTls } from './ca.js';

/** The Debian packages this peer needs (PEERS.md): `dovecot-core` comes with them. */
export const DOVECOT_PACKAGES = ['dovecot-imapd', 'dovecot-pop3d', 'dovecot-submissiond'] as const;

/** Where Debian installs the binary; `which dovecot` finds it too when `/usr/sbin` is on PATH. */
const DOVECOT_BINARY = '/usr/sbin/dovecot';

/** `nobody` / `nogroup` on Debian: mail is stored as this user, never as root (PEERS.md). */
const NOBODY_UID = 65534;
const NOGROUP_GID = 65534;

/** The SASL mechanisms the oauth2 passdb serves. */
export type DovecotMechanism = 'xoauth2' | 'oauthbearer';

/** How Dovecot checks tokens: RFC 7662 introspection at the test authorization server. */
export interface DovecotIntrospection {
  /** The AS's introspection endpoint (`endpoints.introspection`). */
  readonly url: string;
  /** A client registered at the AS for introspection, with `client_secret_post`. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** The CA that signed the AS's certificate (PEM): written to `tls_ca_cert_file`. */
  readonly caPem: string;
  /** RFC 7628 §3.2.2 `openid-configuration` for the error challenge (the AS's discovery URL). */
  readonly openidConfigurationUrl?: string;
  /** A scope every token must carry (Dovecot's `scope` setting); none by default. */
  readonly scope?: string;
}

export interface DovecotOptions {
  readonly introspection: DovecotIntrospection;
  /** `auth_mechanisms` (default both). Only `['xoauth2']` exercises XOAUTH2 with imapflow. */
  readonly mechanisms?: readonly DovecotMechanism[];
  /**
   * A certificate for the loopback (`issueLeaf` / `testTls()`): turns on STARTTLS/STLS and the
   * implicit-TLS listeners (imaps, pop3s). Without it `ssl = no` and only plain ports listen.
   */
  readonly tls?: TestTls;
  /**
   * Where submission relays accepted mail: an SMTP server of the caller's on 127.0.0.1. By
   * default the peer starts its own sink (the `smtp-server` package) and keeps what it received
   * (`relayed()`); `'closed'` points the relay at a closed port, so authentication works and
   * relaying fails.
   */
  readonly submissionRelayPort?: number | 'closed';
  /**
   * Mailboxes that also log in with a password (USER/PASS, SASL PLAIN) through a passwd-file
   * passdb, for the clients' password path. None by default: then only tokens work.
   */
  readonly passwordUsers?: readonly { readonly user: string; readonly password: string }[];
}

/** Loopback ports of a running Dovecot; the TLS ones only when started with `tls`. */
export interface DovecotPorts {
  readonly imap: number;
  readonly pop3: number;
  readonly submission: number;
  readonly imaps?: number;
  readonly pop3s?: number;
  /** Submission over implicit TLS (RFC 8314 §3.3, port 465 in the wild). */
  readonly submissions?: number;
}

/** A message that Dovecot's submission service relayed to the peer's SMTP sink. */
export interface RelayedMessage {
  /** `MAIL FROM` as the sink saw it. */
  readonly from: string;
  /** Every `RCPT TO`. */
  readonly to: readonly string[];
  /** The message as relayed (headers and body, CRLF line endings). */
  readonly data: Buffer;
}

/** A running Dovecot 2.3 on 127.0.0.1, validating OAuth 2.0 tokens by introspection. */
export interface DovecotPeer {
  readonly host: '127.0.0.1';
  readonly ports: DovecotPorts;
  /** `mail.example.test` (the `hostname` setting, seen in greetings). */
  readonly hostname: string;
  /** The CA that clients trust for STARTTLS and implicit TLS (when started with `tls`). */
  readonly caPem: string | undefined;
  /** The root of every user's home (`<mail>/<user lower-cased>`). */
  readonly mailRoot: string;
  /** A user's Maildir (`<mail>/<user>/Maildir`). */
  maildir(user: string): string;
  /**
   * Drops messages into a user's `Maildir/new` as an MDA would (files owned by `nobody`),
   * returning the file names. Messages are stored byte for byte: give CRLF line endings so that
   * what POP3 sends back is the same bytes.
   */
  deliver(user: string, messages: readonly (string | Buffer)[]): Promise<string[]>;
  /** Dovecot's log so far (auth and protocol lines), for a failing test's message. */
  log(): Promise<string>;
  /** What submission relayed to the peer's own SMTP sink so far, oldest first. */
  relayed(): readonly RelayedMessage[];
  /** Waits until the sink holds at least `count` messages (default 5 s), then returns them. */
  waitForRelayed(count: number, timeoutMs?: number): Promise<readonly RelayedMessage[]>;
  /** SIGTERM to the master's PID, then waits for it to exit; removes the temp directory. */
  stop(): Promise<void>;
}

/**
 * Starts Dovecot (`dovecot -F -c <config>`) as a child process with PEERS.md's settings: a fresh
 * `base_dir` and mail folder under a temp dir, every listener on a random free 127.0.0.1 port,
 * `passdb oauth2` introspecting against the test authorization server, `userdb static` as
 * `nobody`, no failure delay and no anvil penalty (so failing logins stay fast).
 */
export async function startDovecot(options: DovecotOptions): Promise<DovecotPeer> {
  if (!existsSync(DOVECOT_BINARY)) {
    throw new Error(
      `Dovecot is not installed: apt-get install -y ${DOVECOT_PACKAGES.join(' ')} (PEERS.md)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'outlink-dovecot-'));
  const sink = options.submissionRelayPort === undefined ? await startSink() : undefined;
  try {
    return await launch(dir, options, sink);
  } catch (error) {
    await sink?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(
  dir: string,
  options: DovecotOptions,
  sink: RelaySink | undefined,
): Promise<DovecotPeer> {
  // Dovecot's unprivileged processes (auth as `dovecot`, logins as `dovenull`, mail as
  // `nobody`) must traverse the temp dir that mkdtemp made 0700.
  await chmod(dir, 0o755);
  const mailRoot = join(dir, 'mail');
  await mkdir(mailRoot, { mode: 0o755 });
  await chown(mailRoot, NOBODY_UID, NOGROUP_GID);

  const tls = options.tls;
  const [imap, pop3, submission, imaps, pop3s, submissions] = await freePorts(tls ? 6 : 3);
  const ports: DovecotPorts = {
    imap: imap!,
    pop3: pop3!,
    submission: submission!,
    ...(tls ? { imaps: imaps!, pop3s: pop3s!, submissions: submissions! } : {}),
  };
  const relayPort =
    sink?.port ??
    (typeof options.submissionRelayPort === 'number'
      ? options.submissionRelayPort
      : (await freePorts(1))[0]!);

  const files = {
    config: join(dir, 'dovecot.conf'),
    oauth2: join(dir, 'dovecot-oauth2.conf.ext'),
    asCa: join(dir, 'as-ca.pem'),
    cert: join(dir, 'server-cert.pem'),
    key: join(dir, 'server-key.pem'),
    log: join(dir, 'dovecot.log'),
    passwd: join(dir, 'passwd'),
  };
  const passwordUsers = options.passwordUsers ?? [];
  if (passwordUsers.length > 0) {
    await writeFile(files.passwd, passwdFile(passwordUsers), { mode: 0o644 });
  }
  await writeFile(files.asCa, options.introspection.caPem, { mode: 0o644 });
  await writeFile(files.oauth2, oauth2Config(options.introspection, files.asCa), { mode: 0o644 });
  if (tls) {
    await writeFile(files.cert, tls.server.certPem, { mode: 0o644 });
    await writeFile(files.key, tls.server.keyPem, { mode: 0o600 });
  }
  await writeFile(
    files.config,
    dovecotConfig({
      dir,
      mailRoot,
      ports,
      relayPort,
      mechanisms: options.mechanisms ?? ['xoauth2', 'oauthbearer'],
      files,
      tls: Boolean(tls),
      passwords: passwordUsers.length > 0,
    }),
    { mode: 0o644 },
  );

  const child = spawn(DOVECOT_BINARY, ['-F', '-c', files.config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  // A test process that dies without its after() hooks must not leave Dovecot running.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => {
    const done = () => {
      process.off('exit', killOnExit);
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once('exit', done);
  });

  const readLog = async () => {
    const file = await readFile(files.log, 'utf8').catch(() => '');
    return `${output.join('')}${file}`;
  };
  try {
    await waitUntilListening(child, Object.values(ports), readLog);
  } catch (error) {
    await terminate(child, exited);
    throw error;
  }

  let stopped = false;
  return {
    host: '127.0.0.1',
    ports,
    hostname: HOSTNAME,
    caPem: tls?.caPem,
    mailRoot,
    maildir: (user) => join(mailRoot, user.toLowerCase(), 'Maildir'),
    deliver: (user, messages) => deliver(join(mailRoot, user.toLowerCase()), messages),
    log: readLog,
    relayed: () => [...(sink?.messages ?? [])],
    async waitForRelayed(count, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const messages = sink?.messages ?? [];
        if (messages.length >= count) return [...messages];
        if (Date.now() > deadline) {
          throw new Error(
            `the relay sink holds ${messages.length} messages, not ${count}, after ${timeoutMs} ms`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate(child, exited);
      await sink?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const HOSTNAME = 'mail.example.test';

function oauth2Config(introspection: DovecotIntrospection, caFile: string): string {
  const lines = [
    `introspection_url = ${introspection.url}`,
    // POSTs token=…&client_id=…&client_secret=…: the AS client uses client_secret_post.
    'introspection_mode = post',
    `client_id = ${introspection.clientId}`,
    `client_secret = ${introspection.clientSecret}`,
    'username_attribute = email',
    'active_attribute = active',
    'active_value = true',
    // The global ssl_client_ca_file is not used by the oauth2 passdb (PEERS.md).
    `tls_ca_cert_file = ${caFile}`,
    'timeout_msecs = 5000',
  ];
  if (introspection.openidConfigurationUrl) {
    lines.push(`openid_configuration_url = ${introspection.openidConfigurationUrl}`);
  }
  if (introspection.scope) lines.push(`scope = ${introspection.scope}`);
  return `${lines.join('\n')}\n`;
}

interface ConfigInput {
  readonly dir: string;
  readonly mailRoot: string;
  readonly ports: DovecotPorts;
  readonly relayPort: number;
  readonly mechanisms: readonly DovecotMechanism[];
  readonly files: { oauth2: string; cert: string; key: string; log: string; passwd: string };
  readonly tls: boolean;
  readonly passwords: boolean;
}

function dovecotConfig(c: ConfigInput): string {
  const mechanisms = c.mechanisms.join(' ');
  // USER/PASS reaches the auth server as PLAIN, so PLAIN must be an auth mechanism too.
  const authMechanisms = c.passwords ? `plain ${mechanisms}` : mechanisms;
  const passwordPassdb = c.passwords
    ? `passdb {
  driver = passwd-file
  mechanisms = plain
  args = scheme=PLAIN username_format=%Lu ${c.files.passwd}
}
`
    : '';
  const ssl = c.tls
    ? [
        'ssl = yes',
        `ssl_cert = <${c.files.cert}`,
        `ssl_key = <${c.files.key}`,
        'ssl_min_protocol = TLSv1.2',
      ]
    : ['ssl = no'];
  const listener = (name: string, port: number | undefined, tls = false) =>
    port === undefined
      ? `  inet_listener ${name} {\n    port = 0\n  }`
      : `  inet_listener ${name} {\n    address = 127.0.0.1\n    port = ${port}\n${tls ? '    ssl = yes\n' : ''}  }`;
  return `# Written by test/peers/dovecot.ts for one test run (PEERS.md).
protocols = imap pop3 submission
listen = 127.0.0.1
base_dir = ${c.dir}/run
state_dir = ${c.dir}/state
instance_name = outlink-test-${randomBytes(4).toString('hex')}
log_path = ${c.files.log}
auth_verbose = yes
${ssl.join('\n')}
disable_plaintext_auth = no
auth_mechanisms = ${authMechanisms}
auth_failure_delay = 0
${passwordPassdb}passdb {
  driver = oauth2
  mechanisms = ${mechanisms}
  args = ${c.files.oauth2}
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${c.mailRoot}/%Lu
}
mail_location = maildir:~/Maildir
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
${listener('imap', c.ports.imap)}
${listener('imaps', c.ports.imaps, true)}
}
service pop3-login {
${listener('pop3', c.ports.pop3)}
${listener('pop3s', c.ports.pop3s, true)}
}
service submission-login {
${listener('submission', c.ports.submission)}
${listener('submissions', c.ports.submissions, true)}
}
hostname = ${HOSTNAME}
submission_relay_host = 127.0.0.1
submission_relay_port = ${c.relayPort}
submission_relay_ssl = no
`;
}

/** The peer's SMTP sink: accepts every message Dovecot relays and keeps it in memory. */
interface RelaySink {
  readonly port: number;
  readonly messages: RelayedMessage[];
  close(): Promise<void>;
}

async function startSink(): Promise<RelaySink> {
  const messages: RelayedMessage[] = [];
  const server = new SMTPServer({
    name: 'relay.example.test',
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const { mailFrom, rcptTo } = session.envelope;
        messages.push({
          from: mailFrom ? mailFrom.address : '',
          to: rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('the relay sink has no port');
  return {
    port: address.port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function passwdFile(users: readonly { user: string; password: string }[]): string {
  return users
    .map(({ user, password }) => `${user.toLowerCase()}:{PLAIN}${password}::::::\n`)
    .join('');
}

/** Random free loopback ports, all held open at once so that none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(server);
    }
    return servers.map((s) => {
      const address = s.address();
      if (!address || typeof address === 'string') throw new Error('no port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Ready when every listener accepts a TCP connection (PEERS.md: well under a second). */
async function waitUntilListening(
  child: ChildProcess,
  ports: readonly number[],
  readLog: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  const pending = new Set(ports);
  while (pending.size > 0) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `dovecot exited (${child.exitCode ?? child.signalCode}):\n${await readLog()}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`dovecot did not listen within 10 s:\n${await readLog()}`);
    }
    for (const port of [...pending]) {
      if (await accepts(port)) pending.delete(port);
    }
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

let sequence = 0;

/** Maildir delivery (new/ then the reader moves to cur/): one file per message, as `nobody`. */
async function deliver(home: string, messages: readonly (string | Buffer)[]): Promise<string[]> {
  const maildir = join(home, 'Maildir');
  for (const path of [home, maildir, ...['tmp', 'new', 'cur'].map((d) => join(maildir, d))]) {
    await mkdir(path, { recursive: true, mode: 0o700 });
    await chown(path, NOBODY_UID, NOGROUP_GID);
  }
  const seconds = Math.floor(Date.now() / 1000);
  const names: string[] = [];
  for (const message of messages) {
    const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
    sequence += 1;
    // The Maildir unique name (time.MusecPpidQn.host) with Dovecot's S=<size> so that it
    // need not stat the file for LIST.
    const name = `${seconds}.M${sequence}P${process.pid}Q${sequence}.outlink-test,S=${bytes.length}`;
    const path = join(maildir, 'new', name);
    await writeFile(path, bytes, { mode: 0o600 });
    await chown(path, NOBODY_UID, NOGROUP_GID);
    names.push(name);
  }
  return names;
}
