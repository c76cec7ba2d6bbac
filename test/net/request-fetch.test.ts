/**
 * Issue 12: the guarded `fetch` sends plain requests (redirects not followed; a text, form or
 * byte body) through undici's `request`. Its callers must not tell the difference: the same
 * request reaches the server, the same answer comes back, and failures look as `fetch`'s do.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Agent, fetch as undiciFetch } from 'undici';
import { createAddressGuard, createGuardedFetch } from '../../src/net/address-guard.js';
import { ResponseTooLargeError } from '../../src/net/request-fetch.js';
import { listenOnLoopback } from '../support/ports.js';

const CAP = 1_000;

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('the guarded fetch over undici request (issue 12)', () => {
  let server: Server;
  let origin = '';
  const seen: Seen[] = [];
  const routes: Record<string, (res: ServerResponse) => void> = {
    '/token': (res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('cache-control', 'no-store');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.statusCode = 400;
      res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'nope' }));
    },
    '/declared-large': (res) => {
      res.setHeader('content-length', String(CAP + 1));
      res.end('x'.repeat(CAP + 1));
    },
    '/chunked-large': (res) => {
      res.write('x'.repeat(CAP));
      res.end('y');
    },
    '/at-cap': (res) => {
      res.end('z'.repeat(CAP));
    },
    '/gzip': (res) => {
      res.setHeader('content-encoding', 'gzip');
      res.end(gzipSync(JSON.stringify({ ok: true })));
    },
    '/gzip-bomb': (res) => {
      res.setHeader('content-encoding', 'gzip');
      res.end(gzipSync(Buffer.alloc(CAP * 50)));
    },
    '/odd-encoding': (res) => {
      res.setHeader('content-encoding', 'zstd-of-the-future');
      res.end('????');
    },
    '/no-content': (res) => {
      res.statusCode = 204;
      res.end();
    },
    '/moved': (res) => {
      res.statusCode = 302;
      res.setHeader('location', '/token');
      res.end();
    },
    '/hang': () => undefined,
  };
  let guarded: ReturnType<typeof createGuardedFetch>;
  const plainAgent = new Agent();

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const route = routes[(req.url ?? '').split('?')[0]!];
        if (route) route(res);
        else {
          res.statusCode = 404;
          res.end();
        }
      });
    });
    origin = `http://127.0.0.1:${await listenOnLoopback(server)}`;
    guarded = createGuardedFetch(createAddressGuard(), { maxBodyBytes: CAP });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await guarded.close();
    await plainAgent.close();
  });

  const form = () => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r-1' });

  it('sends what fetch sends and hands back what fetch hands back', async () => {
    const init = {
      method: 'POST',
      headers: { accept: 'application/json', authorization: 'Basic Y2xpZW50OnNlY3JldA==' },
      body: form(),
      redirect: 'manual' as const,
    };
    const ours = await guarded.fetch(`${origin}/token`, init);
    const theirs = await undiciFetch(`${origin}/token`, { ...init, dispatcher: plainAgent });
    const [mine, reference] = seen.slice(-2);
    const comparable = (s: Seen) => {
      const { host: _host, connection: _connection, ...headers } = s.headers;
      return { ...s, headers };
    };
    assert.deepEqual(comparable(mine!), comparable(reference!));
    assert.equal(mine!.headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
    assert.equal(mine!.body, 'grant_type=refresh_token&refresh_token=r-1');
    assert.equal(ours.status, theirs.status);
    assert.equal(ours.status, 400);
    assert.equal(ours.url, theirs.url);
    const headers = (r: Response) =>
      [...r.headers].filter(([name]) => !['date', 'keep-alive', 'connection'].includes(name));
    assert.deepEqual(headers(ours), headers(theirs));
    assert.deepEqual(ours.headers.getSetCookie(), ['a=1', 'b=2']);
    assert.deepEqual(await ours.json(), await theirs.json());
  });

  it('refuses an answer over the cap, declared or not, and takes one at the cap', async () => {
    for (const path of ['/declared-large', '/chunked-large', '/gzip-bomb']) {
      await assert.rejects(
        guarded.fetch(`${origin}${path}`, { redirect: 'manual' }),
        (error) => error instanceof ResponseTooLargeError && error.limit === CAP,
        path,
      );
    }
    const ok = await guarded.fetch(`${origin}/at-cap`, { redirect: 'manual' });
    assert.equal((await ok.text()).length, CAP);
  });

  it('decodes a gzip answer as fetch does, and fails an encoding it cannot read', async () => {
    const zipped = await guarded.fetch(`${origin}/gzip`, { redirect: 'manual' });
    assert.deepEqual(await zipped.json(), { ok: true });
    await assert.rejects(
      guarded.fetch(`${origin}/odd-encoding`, { redirect: 'manual' }),
      (error) => error instanceof TypeError && error.message === 'fetch failed',
    );
  });

  it('gives a bodiless answer no body, and leaves a redirect alone', async () => {
    const empty = await guarded.fetch(`${origin}/no-content`, {
      method: 'POST',
      redirect: 'manual',
    });
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
    const moved = await guarded.fetch(`${origin}/moved`, { redirect: 'manual' });
    assert.equal(moved.status, 302);
    assert.equal(moved.headers.get('location'), '/token');
    // Asked to follow it, the request is not a plain one and goes through fetch, which does.
    const followed = await guarded.fetch(`${origin}/moved`);
    assert.equal(followed.status, 400);
    assert.equal(followed.url, `${origin}/token`);
  });

  it("fails as fetch fails: the signal's reason on a timeout, fetch failed otherwise", async () => {
    const timeout = await guarded
      .fetch(`${origin}/hang`, { redirect: 'manual', signal: AbortSignal.timeout(200) })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.equal((timeout as Error).name, 'TimeoutError');
    // Nothing listens on port 1 here.
    const refused = await guarded.fetch('http://127.0.0.1:1/', { redirect: 'manual' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof TypeError, String(refused));
    assert.equal(refused.message, 'fetch failed');
    assert.equal((refused.cause as { code?: string }).code, 'ECONNREFUSED');
  });

  it('still refuses a refused address before connecting', async () => {
    await assert.rejects(
      guarded.fetch('http://169.254.169.254/latest/meta-data/', {
        method: 'POST',
        body: 'x',
        redirect: 'manual',
      }),
      (error) => (error as Error).name === 'AddressRefusedError',
    );
  });
});
