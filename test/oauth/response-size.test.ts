import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_PROVIDER_RESPONSE_BYTES } from '../../src/oauth/capped-fetch.js';
import { type HttpsPeer, startHttpsPeer } from '../peers/https-server.js';
import { ALICE } from '../support/worlds.js';
import {
  type ConnectionJson,
  connect,
  createLink,
  type DanceWorld,
  getConnection,
  movePastExpiry,
  startDance,
  tokenOf,
} from './dance-support.js';

/**
 * Issue 11: answers from token endpoints and discovery documents are read up to 1 MiB. Each
 * oversized answer below is otherwise valid (a token response, a discovery document with
 * padding), so without the cap it would be taken.
 */
const padding = 'x'.repeat(MAX_PROVIDER_RESPONSE_BYTES + 1024);

describe('provider responses are capped', () => {
  let world: DanceWorld;
  let discovery: HttpsPeer;

  before(async () => {
    world = await startDance('sqlite', { tokenOptions: { attempts: 1 } });
    // A discovery document that streams (chunked, no Content-Length) past the cap.
    discovery = await startHttpsPeer((_req, res) => {
      res.statusCode = 200;
      res.setHeader('content-type', 'application/json');
      const body = JSON.stringify({
        issuer: discovery.origin,
        authorization_endpoint: `${discovery.origin}/auth`,
        token_endpoint: `${discovery.origin}/token`,
        padding,
      });
      for (let i = 0; i < body.length; i += 64 * 1024) res.write(body.slice(i, i + 64 * 1024));
      res.end();
    });
  });
  after(async () => {
    await discovery?.close();
    await world?.close();
  });

  it('refuses a token response over 1 MiB: a transient failure, tokens kept', async () => {
    const link = await createLink(world);
    const id = await connect(world, link.id, ALICE);
    await movePastExpiry(world, id);
    world.proxy.queue({
      kind: 'respond',
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({
        access_token: 'a-token-from-a-huge-answer',
        token_type: 'Bearer',
        expires_in: 3600,
        padding,
      }),
    });
    const res = await tokenOf(world, id);
    assert.equal(res.statusCode, 503, res.body);
    const c: ConnectionJson = await getConnection(world, id);
    assert.equal(c.status, 'refresh_failing');
    assert.equal(c.lastError?.code, 'provider_response_too_large');
    assert.equal(c.lastError?.scope, 'transient');
    assert.match(c.lastError?.message ?? '', /more than 1 MiB/);
  });

  it('refuses a discovery document over 1 MiB (502 provider_response_too_large)', async () => {
    for (const [lang, words] of [
      ['en', /larger than 1048576 bytes/],
      ['ja', /1048576 バイトを超えた/],
    ] as const) {
      const res = await world.outlink.app.inject({
        method: 'POST',
        url: '/api/v1/links',
        headers: { ...(await world.outlink.adminHeaders()), 'accept-language': lang },
        payload: {
          name: `Huge discovery ${lang}`,
          provider: 'custom',
          clientId: 'outlink',
          clientSecret: 'huge-discovery-secret',
          scopes: ['openid'],
          issuer: discovery.origin,
        },
      });
      assert.equal(res.statusCode, 502, res.body);
      const { error } = res.json() as { error: { code: string; message: string } };
      assert.equal(error.code, 'provider_response_too_large');
      assert.match(error.message, words);
    }
  });
});
