import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { routesOf } from '../../src/http/app.js';
import { googleLink, startOutlink, type TestOutlink } from '../support/harness.js';

/**
 * Issue 11: a form without `method` falls back to GET, which puts what it carries (a
 * password, a client secret) in the URL when JavaScript is off. Every form of every page
 * declares its method: `post`, `get` only for a search or filter that carries no secret, or
 * `dialog`.
 */

interface FormTag {
  readonly tag: string;
  readonly body: string;
}

function formsOf(html: string): FormTag[] {
  return [...html.matchAll(/(<form\b[^>]*>)([\s\S]*?)<\/form>/g)].map((m) => ({
    tag: m[1] ?? '',
    body: m[2] ?? '',
  }));
}

describe('forms on every page', () => {
  let outlink: TestOutlink;
  let linkId: string;
  before(async () => {
    outlink = await startOutlink('sqlite');
    const res = await outlink.app.inject({
      method: 'POST',
      url: '/api/v1/links',
      headers: await outlink.adminHeaders(),
      payload: googleLink(),
    });
    assert.equal(res.statusCode, 201, res.body);
    linkId = (res.json() as { id: string }).id;
  });
  after(() => outlink?.close());

  it('declares post (or get for a search without secrets) on every form', async () => {
    const pages = [
      ...new Set(
        routesOf(outlink.app)
          .filter((r) => r.method === 'GET' && /^\/(admin\/|login)/.test(r.url))
          .map((r) => r.url.replace(':id', linkId).replace(':key', 'NOPE-1')),
      ),
    ];
    assert.ok(pages.length >= 9, pages.join(' '));
    const headers = await outlink.adminHeaders();
    let seen = 0;
    for (const url of pages) {
      // The sign-in page is seen signed out (signed in, it redirects).
      const res = await outlink.app.inject({
        method: 'GET',
        url,
        headers: url === '/login' ? {} : headers,
      });
      assert.ok([200, 404].includes(res.statusCode), `${url}: ${res.statusCode}`);
      for (const { tag, body } of formsOf(res.body)) {
        seen += 1;
        const method = /\smethod="([a-z]+)"/.exec(tag)?.[1];
        assert.ok(
          method === 'post' || method === 'get' || method === 'dialog',
          `${url}: ${tag} declares no method`,
        );
        if (method === 'get') {
          assert.doesNotMatch(body, /type="password"/, `${url}: ${tag} sends a password by GET`);
          assert.match(tag, /class="filters"/, `${url}: ${tag} is a GET form but not a filter`);
        }
      }
      // The sign-in form in particular.
      if (url === '/login') {
        assert.match(res.body, /<form id="login-form"[^>]*\smethod="post"/);
      }
    }
    // The login, link, token, password and mail server forms at least.
    assert.ok(seen >= 6, `only ${seen} forms`);
  });
});
