import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redactQuery } from '../../src/main/log.js';
import { googleLink, startOutlink, type TestOutlink } from '../support/harness.js';

describe('request logs', () => {
  let outlink: TestOutlink;

  // At debug, so that successful reads write their request line too and are checked.
  before(async () => {
    outlink = await startOutlink('sqlite', { env: { OUTLINK_LOG_LEVEL: 'debug' } });
  });
  after(async () => {
    await outlink?.close();
  });

  it('log paths with query values redacted, on every kind of route and outcome', async () => {
    const headers = await outlink.adminHeaders();
    const created = await outlink.app.inject({
      method: 'POST',
      url: '/api/v1/links',
      headers,
      payload: googleLink(),
    });
    assert.equal(created.statusCode, 201, created.body);
    const link = created.json() as { id: string; redirectUrl: string };
    const callbackPath = new URL(link.redirectUrl).pathname;
    const markers = {
      code: 'code-marker-4f1b9c',
      state: 'state-marker-82d0aa',
      account: 'account-marker-77e1@example.test',
      unknown: 'unknown-route-marker-19ab',
      webhook: 'webhook-query-marker-c3d2',
    };
    const requests = [
      `${callbackPath}?code=${markers.code}&state=${markers.state}&iss=https%3A%2F%2Faccounts.google.com`,
      `/api/v1/links/${link.id}/token?account=${encodeURIComponent(markers.account)}`,
      `/api/v1/links/${link.id}/token?account=${markers.account}`,
      `/api/v1/no-such-route?x=${markers.unknown}`,
    ];
    for (const url of requests) {
      const res = await outlink.app.inject({ method: 'GET', url, headers });
      assert.ok(res.statusCode >= 200, url);
    }
    const hook = await outlink.app.inject({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers,
      payload: { url: `https://hooks.example.test/in?key=${markers.webhook}` },
    });
    assert.equal(hook.statusCode, 201, hook.body);

    const text = outlink.logLines.join('\n');
    for (const [name, marker] of Object.entries(markers)) {
      assert.ok(!text.includes(marker), `${name} appears in the log`);
      assert.ok(!text.includes(encodeURIComponent(marker)), `${name} appears encoded in the log`);
    }
    // The request lines are still there, with the path and the names of the parameters.
    const urls = outlink.logLines
      .map((line) => JSON.parse(line) as { msg?: string; req?: { url?: string } })
      .filter((l) => l.msg === 'request completed')
      .map((l) => l.req?.url);
    assert.ok(
      urls.includes(`${callbackPath}?code=[redacted]&state=[redacted]&iss=[redacted]`),
      urls.join('\n'),
    );
    assert.ok(urls.includes(`/api/v1/links/${link.id}/token?account=[redacted]`));
    assert.ok(urls.includes('/api/v1/no-such-route?x=[redacted]'));
    assert.ok(text.includes('https://hooks.example.test/in?key=[redacted]'));
  });

  it('redactQuery keeps the path and the parameter names only', () => {
    assert.equal(redactQuery('/a/b'), '/a/b');
    assert.equal(redactQuery('/a?'), '/a?');
    assert.equal(redactQuery('/a?x=1&y&z=%41#frag'), '/a?x=[redacted]&y&z=[redacted]');
    assert.equal(redactQuery('/a#only'), '/a');
    assert.equal(redactQuery('https://h.test/p?t=1'), 'https://h.test/p?t=[redacted]');
  });

  it('redactQuery hides the secret of a start URL and of a re-authorization link', () => {
    const secret = 'Msh3QLPVtRWEUIJ5jCWsSq8WmYLyU6RAWj1Fih8LlT8';
    assert.equal(redactQuery(`/oauth2/reauthorize/${secret}`), '/oauth2/reauthorize/[redacted]');
    assert.equal(
      redactQuery(`/oauth2/start/${secret}?x=1`),
      '/oauth2/start/[redacted]?x=[redacted]',
    );
    assert.equal(
      redactQuery('/oauth2/callback/abc?code=1'),
      '/oauth2/callback/abc?code=[redacted]',
    );
  });
});

describe('request lines at the default level', () => {
  let outlink: TestOutlink;

  before(async () => {
    outlink = await startOutlink('sqlite');
  });
  after(async () => {
    await outlink?.close();
  });

  const linesOf = (id: string) =>
    outlink.logLines
      .map((l) => JSON.parse(l) as { reqId?: string; msg?: string; level?: number })
      .filter((l) => l.reqId === id && l.msg === 'request completed');

  it('log every change and every refusal, and successful reads at debug only', async () => {
    const headers = await outlink.adminHeaders();
    const read = await outlink.app.inject({
      method: 'GET',
      url: '/api/v1/links',
      headers: { ...headers, 'x-request-id': 'read-ok-1' },
    });
    assert.equal(read.statusCode, 200, read.body);
    const missing = await outlink.app.inject({
      method: 'GET',
      url: '/api/v1/links/00000000-0000-4000-8000-000000000000',
      headers: { ...headers, 'x-request-id': 'read-404-1' },
    });
    assert.equal(missing.statusCode, 404, missing.body);
    const refused = await outlink.app.inject({
      method: 'GET',
      url: '/api/v1/links',
      headers: { 'x-request-id': 'read-401-1' },
    });
    assert.equal(refused.statusCode, 401, refused.body);
    const created = await outlink.app.inject({
      method: 'POST',
      url: '/api/v1/links',
      headers: { ...headers, 'x-request-id': 'write-ok-1' },
      payload: googleLink(),
    });
    assert.equal(created.statusCode, 201, created.body);

    assert.equal(linesOf('read-ok-1').length, 0, 'a successful read logged at info');
    for (const id of ['read-404-1', 'read-401-1', 'write-ok-1']) {
      const lines = linesOf(id);
      assert.equal(lines.length, 1, `${id}: ${lines.length} request lines`);
      assert.equal(lines[0]!.level, 30, `${id} is an info line`);
    }
  });
});
