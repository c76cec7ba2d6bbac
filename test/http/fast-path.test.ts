import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fastPathOf } from '../../src/http/fast-path.js';
import { googleLink, startOutlink, type TestOutlink } from '../support/harness.js';
import { getOverSocket } from '../support/wire.js';

/**
 * Issue 12: what the fast path of the hottest reads keeps of the route besides the answer
 * (the answers themselves: test/tokens/access-token-cache.test.ts and
 * test/http/link-view-cache.test.ts) — the request id, the latency in `/metrics` — and that it
 * steps aside at a debug log level, where the route writes a line for every read.
 */
async function listening(outlink: TestOutlink) {
  await outlink.app.listen({ host: '127.0.0.1', port: 0 });
  return (outlink.app.server.address() as AddressInfo).port;
}

async function createLink(outlink: TestOutlink, name: string) {
  const res = await outlink.app.inject({
    method: 'POST',
    url: '/api/v1/links',
    headers: await outlink.adminHeaders(),
    payload: googleLink({ name, clientSecret: 'fast-path-secret' }),
  });
  assert.equal(res.statusCode, 201, res.body);
  return (res.json() as { id: string }).id;
}

const LINK_ROUTE = '/api/v1/links/:id';

describe('the fast path at the default log level', () => {
  let outlink: TestOutlink;
  let port = 0;
  before(async () => {
    outlink = await startOutlink('sqlite');
    port = await listening(outlink);
  });
  after(() => outlink?.close());

  it('echoes a safe request id, makes one otherwise, and counts its answers in /metrics', async () => {
    const id = await createLink(outlink, 'Fast path metrics');
    const bearer = await outlink.tokenHeaders();
    const path = `/api/v1/links/${id}`;
    // The first read caches the view (and verifies the token); the next ones are the fast path's.
    assert.equal((await getOverSocket(port, path, bearer)).statusCode, 200);
    const before = fastPathOf(outlink.app)?.served[LINK_ROUTE] ?? 0;
    const traced = await getOverSocket(port, path, { ...bearer, 'x-request-id': 'trace-42' });
    assert.equal(traced.statusCode, 200, traced.body);
    assert.equal(traced.headers['x-request-id'], 'trace-42');
    const unsafe = await getOverSocket(port, path, { ...bearer, 'x-request-id': 'a b\tc' });
    assert.match(String(unsafe.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(fastPathOf(outlink.app)?.served[LINK_ROUTE], before + 2);
    const metrics = await outlink.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: await outlink.adminHeaders(),
    });
    assert.equal(metrics.statusCode, 200, metrics.body);
    const count = new RegExp(
      `outlink_http_request_duration_seconds_count\\{method="GET",route="${LINK_ROUTE}",status="200"\\} (\\d+)`,
    ).exec(metrics.body)?.[1];
    // Every read of the route so far (three), the fast path's and Fastify's alike.
    assert.equal(Number(count), 3);
    assert.ok(!metrics.body.includes(path), 'latency by route pattern, never the raw URL');
  });
});

describe('the fast path at a debug log level', () => {
  let outlink: TestOutlink;
  let port = 0;
  before(async () => {
    outlink = await startOutlink('sqlite', { env: { OUTLINK_LOG_LEVEL: 'debug' } });
    port = await listening(outlink);
  });
  after(() => outlink?.close());

  it('is not installed: every read goes to the route, which logs it', async () => {
    assert.equal(fastPathOf(outlink.app), undefined);
    const id = await createLink(outlink, 'Debug level');
    const bearer = await outlink.tokenHeaders();
    for (let i = 0; i < 3; i++) {
      const answer = await getOverSocket(port, `/api/v1/links/${id}`, bearer);
      assert.equal(answer.statusCode, 200, answer.body);
    }
    const lines = outlink.logLines.filter(
      (line) => line.includes('request completed') && line.includes(`/api/v1/links/${id}`),
    );
    assert.equal(lines.length, 3, lines.join('\n'));
  });
});
