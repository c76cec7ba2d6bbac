import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type TestTls, testTls } from './ca.js';
import { startHttpsPeer } from './https-server.js';

/** What the proxy does with one request. */
export type Fault =
  | { readonly kind: 'pass' }
  /** An answer of the proxy's own: a 5xx page, a 429, an OAuth error body… */
  | {
      readonly kind: 'respond';
      readonly status: number;
      readonly body?: string;
      readonly contentType?: string;
      readonly headers?: Readonly<Record<string, string>>;
      /** Answered once this settles: an answer held until the test did something meanwhile. */
      readonly until?: PromiseLike<unknown>;
    }
  /** The TCP connection is destroyed without an answer. */
  | { readonly kind: 'reset' }
  /** Accepted and never answered (until the proxy closes). */
  | { readonly kind: 'hang' }
  /** Forwarded after a pause, and not before `until` settles when given. */
  | { readonly kind: 'delay'; readonly ms: number; readonly until?: PromiseLike<unknown> };

/** Runs `act` now, or once `until` settles (either way) when given. */
function once(until: PromiseLike<unknown> | undefined, act: () => void): void {
  if (until) void Promise.resolve(until).then(act, act);
  else act();
}

/** An OAuth error answer (RFC 6749 §5.2). */
export function oauthError(
  error: string,
  status = 400,
  description?: string,
): Extract<Fault, { kind: 'respond' }> {
  return {
    kind: 'respond',
    status,
    contentType: 'application/json',
    body: JSON.stringify({ error, ...(description ? { error_description: description } : {}) }),
  };
}

/** A request the proxy saw. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly fault: Fault['kind'];
}

export interface FaultProxy {
  /** `https://127.0.0.1:<port>`: put it where the target's origin was. */
  readonly origin: string;
  /** Rewrites a URL of the target to go through the proxy. */
  via(url: string): string;
  /** Every request so far, in order. */
  readonly seen: readonly SeenRequest[];
  /** Requests so far whose path is `path` (e.g. the token endpoint's). */
  count(path: string): number;
  /** The faults for the next requests, one each, in order; then `pass` again. */
  queue(...faults: Fault[]): void;
  /** A fault for every request until changed (`pass` to clear). */
  always(fault: Fault): void;
  close(): Promise<void>;
}

/**
 * A fault-injecting HTTPS proxy in front of a real peer (DESIGN §9): requests are forwarded
 * to `target` unchanged unless a fault is queued, so the token client meets real answers and
 * real failures, never a mock of itself.
 */
export async function startFaultProxy(
  target: string,
  options: { tls?: TestTls } = {},
): Promise<FaultProxy> {
  const tls = options.tls ?? (await testTls());
  const upstream = new URL(target);
  const pending: Fault[] = [];
  let standing: Fault = { kind: 'pass' };
  const seen: SeenRequest[] = [];
  const hanging = new Set<ServerResponse>();

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const out = httpsRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        ca: tls.caPem,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const peer = await startHttpsPeer((req, res) => {
    const fault = pending.shift() ?? standing;
    seen.push({
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0] ?? '',
      fault: fault.kind,
    });
    switch (fault.kind) {
      case 'pass':
        return forward(req, res);
      case 'delay':
        setTimeout(() => once(fault.until, () => forward(req, res)), fault.ms);
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        hanging.add(res);
        req.resume();
        return;
      case 'respond': {
        req.resume();
        const answer = () => {
          res.writeHead(fault.status, {
            'content-type': fault.contentType ?? 'text/html',
            ...(fault.headers ?? {}),
          });
          res.end(fault.body ?? '');
        };
        once(fault.until, answer);
        return;
      }
    }
  }, tls);

  return {
    origin: peer.origin,
    via: (url) => {
      const u = new URL(url);
      return `${peer.origin}${u.pathname}${u.search}`;
    },
    seen,
    count: (path) => seen.filter((s) => s.path === path).length,
    queue: (...faults) => {
      pending.push(...faults);
    },
    always: (fault) => {
      standing = fault;
    },
    async close() {
      for (const res of hanging) res.destroy();
      await peer.close();
    },
  };
}
