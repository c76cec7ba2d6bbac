import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { closedPort, listenOnLoopback, startOnFreePorts } from '../support/ports.js';
import type { TestTls } from './ca.js';
import { dovecotConfig, HOSTNAME, oauth2Config, passwdFile } from './dovecot-config.js';

/** The Debian packages this peer needs (PEERS.md): `dovecot-core` comes with them. */
export const DOVECOT_PACKAGES = ['dovecot-imapd', 'dovecot-pop3d', 'dovecot-submissiond'] as const;

/** Where Debian installs the binary; `which dovecot` finds it too when `/usr/sbin` is on PATH. */
export const DOVECOT_BINARY = '/usr/sbin/dovecot';

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
  /** The `dovecot` binary (default `DOVECOT_BINARY`); a missing one fails with what to run. */
  readonly binary?: string;
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
 * `base_dir` and mail folder under a temp dir, every listener on its own 127.0.0.1 port,
 * `passdb oauth2` introspecting against the test authorization server, `userdb static` as
 * `nobody`, no failure delay and no anvil penalty (so failing logins stay fast).
 *
 * The ports come from `startOnFreePorts` (test/support/ports.ts): held by this process until
 * just before Dovecot starts, and a start that lost a port to another process in that moment
 * is retried on fresh ones.
 */
export async function startDovecot(options: DovecotOptions): Promise<DovecotPeer> {
  const binary = options.binary ?? DOVECOT_BINARY;
  if (!existsSync(binary)) {
    // Never a silent skip: the test fails and names the command that installs the peer.
    throw new Error(
      `Dovecot is not installed (no ${binary}): run scripts/test, which installs ${DOVECOT_PACKAGES.join(' ')}`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'outlink-dovecot-'));
  const sink = options.submissionRelayPort === undefined ? await startSink() : undefined;
  try {
    // Dovecot's unprivileged processes (auth as `dovecot`, logins as `dovenull`, mail as
    // `nobody`) must traverse the temp dir that mkdtemp made 0700.
    await chmod(dir, 0o755);
    const mailRoot = join(dir, 'mail');
    await mkdir(mailRoot, { mode: 0o755 });
    await chown(mailRoot, NOBODY_UID, NOGROUP_GID);
    const relayPort =
      sink?.port ??
      (typeof options.submissionRelayPort === 'number'
        ? options.submissionRelayPort
        : await closedPort());
    return await startOnFreePorts(
      options.tls ? 6 : 3,
      (ports, release) =>
        launch({ binary, dir, mailRoot, relayPort, options, sink }, ports, release),
      { addressInUse: (error) => error instanceof Error && isAddressInUse(error.message) },
    );
  } catch (error) {
    await sink?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Whether Dovecot's output says a listener's port was taken, as its master logs it:
 * `Error: service(imap-login): listen(127.0.0.1, 41881) failed: Address already in use`.
 */
export function isAddressInUse(dovecotOutput: string): boolean {
  return /listen\([^)]*\) failed: Address already in use/.test(dovecotOutput);
}

interface LaunchInput {
  readonly binary: string;
  readonly dir: string;
  readonly mailRoot: string;
  readonly relayPort: number;
  readonly options: DovecotOptions;
  readonly sink: RelaySink | undefined;
}

/**
 * One start of Dovecot on `held` ports: writes the configuration, releases the ports just
 * before the master binds them, and waits until every listener accepts. A start that fails
 * throws with Dovecot's output, which `isAddressInUse` reads.
 */
async function launch(
  { binary, dir, mailRoot, relayPort, options, sink }: LaunchInput,
  held: readonly number[],
  release: () => Promise<void>,
): Promise<DovecotPeer> {
  const tls = options.tls;
  const [imap, pop3, submission, imaps, pop3s, submissions] = held;
  const ports: DovecotPorts = {
    imap: imap!,
    pop3: pop3!,
    submission: submission!,
    ...(tls ? { imaps: imaps!, pop3s: pop3s!, submissions: submissions! } : {}),
  };

  const files = {
    config: join(dir, 'dovecot.conf'),
    oauth2: join(dir, 'dovecot-oauth2.conf.ext'),
    asCa: join(dir, 'as-ca.pem'),
    cert: join(dir, 'server-cert.pem'),
    key: join(dir, 'server-key.pem'),
    log: join(dir, 'dovecot.log'),
    passwd: join(dir, 'passwd'),
  };
  // A retried start logs afresh: its failure message shows only its own attempt.
  await rm(files.log, { force: true });
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

  await release();
  const child = spawn(binary, ['-F', '-c', files.config], {
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
  const port = await listenOnLoopback(server.server);
  return {
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Ready when the master has logged that it is starting up, which it does only once it has
 * bound every listener (a port that another process holds cannot pass for Dovecot's), and
 * every listener accepts a TCP connection (PEERS.md: well under a second).
 */
async function waitUntilListening(
  child: ChildProcess,
  ports: readonly number[],
  readLog: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  const pending = new Set(ports);
  let started = false;
  while (!started || pending.size > 0) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `dovecot exited (${child.exitCode ?? child.signalCode}):\n${await readLog()}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`dovecot did not listen within 10 s:\n${await readLog()}`);
    }
    started ||= /master: Info: Dovecot v\S+ .*starting up/.test(await readLog());
    if (started) {
      for (const port of [...pending]) {
        if (await accepts(port)) pending.delete(port);
      }
    }
    if (!started || pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 25));
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
