/**
 * A connected POP3 session: the RFC 1939 commands, each checking the session state on entry
 * (authorization → transaction → update) and run one at a time.
 */

import { chooseMechanism, type SaslMechanism } from '../sasl.js';
import { AuthExchange, loginFailure, saslResponse } from './auth.js';
import type { Pop3AuthenticateOptions, Pop3PipelineOptions, Pop3Session } from './client.js';
import { Pop3Error, Pop3ErrorCodes } from './error.js';
import {
  type Capabilities,
  type DropListing,
  formatCommand,
  Pop3State,
  parseDropListing,
  parseScanListing,
  parseUniqueIdListing,
  type ScanListing,
  type StatusLine,
  type UniqueIdListing,
} from './protocol.js';
import { readCapabilities, readMultiline, readStatus, type Wire } from './wire.js';

type Exclusive = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * Commands in flight at most while pipelining: enough to keep a loopback or LAN link busy,
 * small enough that the server's send buffer, not the client's memory, absorbs a burst.
 */
export const DEFAULT_PIPELINE_WINDOW = 32;

/** The session behind `connect()`; construct only through it. */
export class Session implements Pop3Session {
  readonly greeting: string;
  readonly #wire: Wire;
  #state: Pop3State = Pop3State.Authorization;
  #capabilities: Capabilities | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(wire: Wire, greeting: string, capabilities: Capabilities | undefined) {
    this.#wire = wire;
    this.greeting = greeting;
    this.#capabilities = capabilities;
    wire.onBroken(() => {
      this.#state = Pop3State.Closed;
    });
  }

  get state(): Pop3State {
    return this.#state;
  }

  get capabilities(): Capabilities | undefined {
    return this.#capabilities;
  }

  get secure(): boolean {
    return this.#wire.secure;
  }

  get pipelining(): boolean {
    return this.#capabilities?.has('PIPELINING') === true;
  }

  /** Runs commands one at a time; a failed one does not stop the next. */
  readonly #exclusive: Exclusive = (task) => {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  };

  capa(): Promise<Capabilities | undefined> {
    return this.#exclusive(async () => {
      this.#require('CAPA', Pop3State.Authorization, Pop3State.Transaction);
      this.#capabilities = await readCapabilities(this.#wire);
      return this.#capabilities;
    });
  }

  login(user: string, password: string): Promise<void> {
    return this.#exclusive(async () => {
      this.#require('USER', Pop3State.Authorization);
      for (const [verb, arg] of [
        ['USER', user],
        ['PASS', password],
      ] as const) {
        const status = await this.#send(formatCommand(verb, arg), verb);
        if (status.kind !== 'ok') throw loginFailure(verb, status);
      }
      this.#state = Pop3State.Transaction;
    });
  }

  authenticate(options: Pop3AuthenticateOptions): Promise<{ mechanism: SaslMechanism }> {
    return this.#exclusive(async () => {
      this.#require('AUTH', Pop3State.Authorization);
      const offered = this.#capabilities?.get('SASL');
      const choice = chooseMechanism(offered, options.mechanism);
      if (!choice.ok) {
        throw new Pop3Error(
          Pop3ErrorCodes.MECHANISM_UNAVAILABLE,
          `the server offers SASL ${choice.offered.join(' ') || '(nothing)'}, not ${options.mechanism ?? 'OAUTHBEARER or XOAUTH2'}`,
          { command: 'AUTH' },
        );
      }
      const { mechanism } = choice;
      await new AuthExchange(this.#wire, mechanism).run(
        saslResponse(mechanism, options, this.#wire.settings),
        options.initialResponse !== 'never',
      );
      this.#state = Pop3State.Transaction;
      return { mechanism };
    });
  }

  stat(): Promise<DropListing> {
    return this.#exclusive(async () => {
      const status = await this.#command(formatCommand('STAT'), 'STAT');
      return this.#parsed(() => parseDropListing(status.text));
    });
  }

  list(): Promise<ScanListing[]>;
  list(message: number): Promise<ScanListing>;
  list(message?: number): Promise<ScanListing[] | ScanListing> {
    return this.#listing('LIST', message, parseScanListing);
  }

  uidl(): Promise<UniqueIdListing[]>;
  uidl(message: number): Promise<UniqueIdListing>;
  uidl(message?: number): Promise<UniqueIdListing[] | UniqueIdListing> {
    return this.#listing('UIDL', message, parseUniqueIdListing);
  }

  retr(message: number): Promise<Buffer> {
    return this.#exclusive(async () => {
      await this.#command(formatCommand('RETR', messageNumber(message, 'RETR')), 'RETR');
      return (await readMultiline(this.#wire, 'RETR')).toBuffer();
    });
  }

  top(message: number, lines: number): Promise<Buffer> {
    return this.#exclusive(async () => {
      if (!Number.isSafeInteger(lines) || lines < 0) {
        throw new Pop3Error(Pop3ErrorCodes.INVALID_ARGUMENT, 'TOP needs a line count ≥ 0', {
          command: 'TOP',
        });
      }
      const line = formatCommand('TOP', messageNumber(message, 'TOP'), String(lines));
      await this.#command(line, 'TOP');
      return (await readMultiline(this.#wire, 'TOP')).toBuffer();
    });
  }

  retrAll(messages: readonly number[], options: Pop3PipelineOptions = {}): Promise<Buffer[]> {
    return this.#pipeline('RETR', messages, options, async () => {
      return (await readMultiline(this.#wire, 'RETR')).toBuffer();
    });
  }

  deleAll(messages: readonly number[], options: Pop3PipelineOptions = {}): Promise<void> {
    return this.#pipeline('DELE', messages, options, async () => undefined).then(() => undefined);
  }

  dele(message: number): Promise<void> {
    return this.#exclusive(async () => {
      await this.#command(formatCommand('DELE', messageNumber(message, 'DELE')), 'DELE');
    });
  }

  noop(): Promise<void> {
    return this.#exclusive(async () => {
      await this.#command(formatCommand('NOOP'), 'NOOP');
    });
  }

  rset(): Promise<void> {
    return this.#exclusive(async () => {
      await this.#command(formatCommand('RSET'), 'RSET');
    });
  }

  quit(): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#state === Pop3State.Closed) return;
      // RFC 1939 §6: only a QUIT from the transaction state enters the update state.
      if (this.#state === Pop3State.Transaction) this.#state = Pop3State.Update;
      try {
        const status = await this.#send(formatCommand('QUIT'), 'QUIT');
        if (status.kind !== 'ok') {
          throw new Pop3Error(
            Pop3ErrorCodes.COMMAND_FAILED,
            `QUIT failed, deleted messages may remain: ${status.text}`,
            { command: 'QUIT', serverText: status.text, responseCode: status.code },
          );
        }
      } finally {
        this.close();
      }
    });
  }

  close(): void {
    this.#state = Pop3State.Closed;
    this.#wire.destroy();
  }

  #listing<T>(
    verb: 'LIST' | 'UIDL',
    message: number | undefined,
    parse: (line: string) => T,
  ): Promise<T[] | T> {
    return this.#exclusive(async () => {
      if (message !== undefined) {
        const status = await this.#command(formatCommand(verb, messageNumber(message, verb)), verb);
        return this.#parsed(() => parse(status.text));
      }
      await this.#command(formatCommand(verb), verb);
      const body = await readMultiline(this.#wire, verb);
      return this.#parsed(() => body.lines().map((line) => parse(line.toString('latin1'))));
    });
  }

  /**
   * RFC 2449 §6.6: with PIPELINING advertised, up to `window` commands are sent before their
   * answers are read, and the answers are read in order (the server answers in order). The
   * window is refilled in batches of half its size, one write each, so a long run costs few
   * packets. Without PIPELINING the window is 1: each command waits for the previous answer.
   * A `-ERR` stops sending; the answers already asked for are still read, so the session stays
   * in step and usable, and then the first failure is thrown.
   */
  #pipeline<T>(
    verb: 'RETR' | 'DELE',
    messages: readonly number[],
    options: Pop3PipelineOptions,
    readBody: () => Promise<T>,
  ): Promise<T[]> {
    return this.#exclusive(async () => {
      this.#require(verb, Pop3State.Transaction);
      const lines = messages.map((m) => formatCommand(verb, messageNumber(m, verb)));
      const window = this.pipelining ? pipelineWindow(options.window) : 1;
      const refillAt = Math.max(1, Math.floor(window / 2));
      const results: T[] = [];
      let sent = 0;
      let failure: Pop3Error | undefined;
      const send = () => {
        const upTo = Math.min(lines.length, results.length + window);
        if (failure || sent >= upTo) return;
        this.#wire.write(lines.slice(sent, upTo).join(''));
        sent = upTo;
      };
      send();
      for (let answered = 0; answered < sent; answered++) {
        const status = await readStatus(this.#wire, verb);
        if (status.kind === 'ok') {
          results.push(await readBody());
        } else {
          failure ??= new Pop3Error(
            Pop3ErrorCodes.COMMAND_FAILED,
            `${verb} failed: ${status.text}`,
            { command: verb, serverText: status.text, responseCode: status.code },
          );
        }
        if (sent - answered - 1 < refillAt) send();
      }
      if (failure) throw failure;
      return results;
    });
  }

  /** A transaction-state command whose `-ERR` is a `command_failed`. */
  async #command(line: string, verb: string): Promise<StatusLine & { kind: 'ok' }> {
    this.#require(verb, Pop3State.Transaction);
    const status = await this.#send(line, verb);
    if (status.kind === 'ok') return status;
    throw new Pop3Error(Pop3ErrorCodes.COMMAND_FAILED, `${verb} failed: ${status.text}`, {
      command: verb,
      serverText: status.text,
      responseCode: status.code,
    });
  }

  async #send(line: string, verb: string): Promise<StatusLine> {
    this.#wire.write(line);
    return readStatus(this.#wire, verb);
  }

  /** A malformed answer leaves the stream in an unknown place: the session ends. */
  #parsed<T>(parse: () => T): T {
    try {
      return parse();
    } catch (error) {
      throw this.#wire.fail(error);
    }
  }

  #require(verb: string, ...states: Pop3State[]): void {
    if (this.#state === Pop3State.Closed || this.#wire.broken) {
      this.#state = Pop3State.Closed;
      throw new Pop3Error(
        Pop3ErrorCodes.CONNECTION_CLOSED,
        `${verb}: the session is closed${this.#wire.brokenBy ? ` (${this.#wire.brokenBy.message})` : ''}`,
        { command: verb },
      );
    }
    if (!states.includes(this.#state)) {
      throw new Pop3Error(
        Pop3ErrorCodes.INVALID_STATE,
        `${verb} is not allowed in the ${this.#state} state (RFC 1939 §3)`,
        { command: verb },
      );
    }
  }
}

function pipelineWindow(window: number | undefined): number {
  if (window === undefined) return DEFAULT_PIPELINE_WINDOW;
  if (!Number.isSafeInteger(window) || window < 1) {
    throw new Pop3Error(Pop3ErrorCodes.INVALID_ARGUMENT, '"window" must be an integer ≥ 1');
  }
  return window;
}

function messageNumber(message: number, verb: string): string {
  if (!Number.isSafeInteger(message) || message < 1) {
    throw new Pop3Error(
      Pop3ErrorCodes.INVALID_ARGUMENT,
      `${verb} needs a message number ≥ 1 (RFC 1939 §5)`,
      { command: verb },
    );
  }
  return String(message);
}
