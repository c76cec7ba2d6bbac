/**
 * Issue 11: mail servers, webhooks and a custom link's endpoints and issuer are refused when
 * their host is a link-local or cloud metadata address, in every spelling a resolver or URL
 * parser accepts; `OUTLINK_ALLOW_ADDRESSES` re-allows a range.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { Resolver } from '../../src/net/address-guard.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';

/** Mail server hosts the schema accepts that all mean 169.254.169.254 (or a metadata IPv6). */
const MAIL_HOSTS = [
  '169.254.169.254',
  '2852039166',
  '0xa9fea9fe',
  '0251.0376.0251.0376',
  '169.254.43518',
  '::ffff:169.254.169.254',
  '::ffff:a9fe:a9fe',
  'fd00:ec2::254',
  'fe80::1',
];

/** URL hosts meaning the same. */
const URL_HOSTS = [
  '169.254.169.254',
  '2852039166',
  '0xa9fea9fe',
  '0251.0376.0251.0376',
  '[::ffff:169.254.169.254]',
  '[::ffff:a9fe:a9fe]',
  '[fd00:ec2::254]',
];

interface ErrorBody {
  error: { code: string; message: string; remedy?: string; field?: string };
}

for (const dialect of Dialects) {
  describe(`refused addresses on ${dialect} (issue 11)`, () => {
    let outlink: TestOutlink;
    let counter = 0;
    before(async () => {
      outlink = await startOutlink(dialect);
    });
    after(async () => {
      await outlink?.close({ drop: true });
    });

    const call = async (
      url: string,
      payload: object,
      lang?: string,
    ): Promise<LightMyRequestResponse> =>
      outlink.app.inject({
        method: 'POST',
        url,
        payload,
        headers: {
          ...(await outlink.adminHeaders()),
          ...(lang ? { 'accept-language': lang } : {}),
        },
      });
    const refused = (res: LightMyRequestResponse, field: string) => {
      assert.equal(res.statusCode, 422, res.body);
      const { error } = res.json() as ErrorBody;
      assert.equal(error.code, 'address_refused', res.body);
      assert.equal(error.field, field);
      assert.match(error.remedy ?? '', /OUTLINK_ALLOW_ADDRESSES/);
      return error;
    };
    const mailServer = (host: string) => ({
      name: `refused ${++counter}`,
      protocol: 'imap',
      host,
      username: 'alice@example.test',
      authentication: { method: 'password', password: 'correct horse battery staple' },
    });
    const customLink = (overrides: Record<string, unknown>) => ({
      name: `custom ${++counter}`,
      provider: 'custom',
      clientId: 'client',
      clientSecret: 'secret',
      scopes: ['openid'],
      authorizationEndpoint: 'https://as.example.test/authorize',
      tokenEndpoint: 'https://as.example.test/token',
      ...overrides,
    });

    it('refuses a mail server at a metadata address, in every spelling', async () => {
      for (const host of MAIL_HOSTS) {
        const error = refused(await call('/api/v1/mail-servers', mailServer(host)), 'host');
        assert.match(error.message, /is refused: it is a link-local, cloud metadata/, host);
      }
      const list = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/mail-servers',
        headers: await outlink.adminHeaders(),
      });
      assert.deepEqual((list.json() as { items: unknown[] }).items, []);
    });

    it('names the address it read, in English and Japanese', async () => {
      const en = refused(await call('/api/v1/mail-servers', mailServer('2852039166')), 'host');
      assert.equal(
        en.message,
        'The address 2852039166 (169.254.169.254) is refused: it is a link-local, cloud metadata, multicast or otherwise reserved address.',
      );
      assert.match(en.remedy ?? '', /OUTLINK_ALLOW_ADDRESSES \(e\.g\. 169\.254\.169\.254\/32\)/);
      const ja = refused(
        await call('/api/v1/mail-servers', mailServer('0xa9fea9fe'), 'ja'),
        'host',
      );
      assert.match(ja.message, /^アドレス 0xa9fea9fe \(169\.254\.169\.254\) は拒否されました/);
      assert.match(ja.remedy ?? '', /OUTLINK_ALLOW_ADDRESSES/);
    });

    it('refuses a webhook to a metadata address, in every spelling', async () => {
      for (const host of URL_HOSTS) {
        refused(await call('/api/v1/webhooks', { url: `https://${host}/latest/meta-data` }), 'url');
      }
    });

    it("refuses a custom link's endpoints and issuer at a metadata address, before any request", async () => {
      for (const host of URL_HOSTS) {
        refused(
          await call('/api/v1/links', customLink({ tokenEndpoint: `https://${host}/token` })),
          'tokenEndpoint',
        );
        refused(
          await call(
            '/api/v1/links',
            customLink({ authorizationEndpoint: `https://${host}/authorize` }),
          ),
          'authorizationEndpoint',
        );
        refused(
          await call('/api/v1/links', customLink({ revocationEndpoint: `https://${host}/revoke` })),
          'revocationEndpoint',
        );
        // Discovery would fetch the issuer's document: refused before it is fetched.
        refused(
          await call(
            '/api/v1/links',
            customLink({
              issuer: `https://${host}`,
              authorizationEndpoint: undefined,
              tokenEndpoint: undefined,
            }),
          ),
          'issuer',
        );
      }
    });

    it('keeps loopback, private addresses and names allowed', async () => {
      for (const host of ['127.0.0.1', '10.0.0.5', '192.168.1.20', 'mail.example.test', '::1']) {
        const res = await call('/api/v1/mail-servers', mailServer(host));
        assert.equal(res.statusCode, 201, `${host}: ${res.body}`);
      }
    });
  });
}

describe('OUTLINK_ALLOW_ADDRESSES re-allows a named range (issue 11)', () => {
  let outlink: TestOutlink;
  before(async () => {
    outlink = await startOutlink('sqlite', {
      env: { OUTLINK_ALLOW_ADDRESSES: '169.254.169.254/32' },
    });
  });
  after(async () => {
    await outlink?.close({ drop: true });
  });

  it('accepts the re-allowed address in any spelling, and only it', async () => {
    const headers = await outlink.adminHeaders();
    const create = (host: string, name: string) =>
      outlink.app.inject({
        method: 'POST',
        url: '/api/v1/mail-servers',
        headers,
        payload: {
          name,
          protocol: 'imap',
          host,
          username: 'alice@example.test',
          authentication: { method: 'password', password: 'correct horse battery staple' },
        },
      });
    assert.equal((await create('2852039166', 'allowed decimal')).statusCode, 201);
    assert.equal((await create('::ffff:a9fe:a9fe', 'allowed mapped')).statusCode, 201);
    const other = await create('169.254.169.253', 'still refused');
    assert.equal(other.statusCode, 422);
    assert.equal((other.json() as ErrorBody).error.code, 'address_refused');
    const hook = await outlink.app.inject({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers,
      payload: { url: 'https://169.254.169.254/hook' },
    });
    assert.equal(hook.statusCode, 201, hook.body);
  });
});

describe('a mail server whose name resolves to a refused address (issue 11)', () => {
  let outlink: TestOutlink;
  let allowingOutlink: TestOutlink;
  let listener: Server;
  let port = 0;
  let accepted = 0;
  /** Answers the test's names without DNS, as `dns.lookup` would. */
  const resolve: Resolver = (hostname, options, callback) => {
    const names: Record<string, string> = {
      'metadata.test': '169.254.169.254',
      'this-host.test': '0.0.0.0',
    };
    const address = names[hostname];
    if (!address) {
      return callback(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }), '', 0);
    }
    if (options.all) return callback(null, [{ address, family: 4 }]);
    callback(null, address, 4);
  };

  before(async () => {
    listener = createServer((socket) => {
      accepted += 1;
      socket.on('error', () => undefined);
      socket.end('-ERR go away\r\n');
    });
    await new Promise<void>((done) => listener.listen(0, '127.0.0.1', done));
    port = (listener.address() as { port: number }).port;
    outlink = await startOutlink('sqlite', { resolve });
    // Linux connects 0.0.0.0 to the host itself: re-allowed, it reaches the listener.
    allowingOutlink = await startOutlink('sqlite', {
      resolve,
      env: { OUTLINK_ALLOW_ADDRESSES: '0.0.0.0/32' },
    });
  });
  after(async () => {
    await outlink?.close({ drop: true });
    await allowingOutlink?.close({ drop: true });
    await new Promise((done) => listener.close(done));
  });

  const testServer = async (target: TestOutlink, host: string) => {
    const headers = await target.adminHeaders();
    const created = await target.app.inject({
      method: 'POST',
      url: '/api/v1/mail-servers',
      headers,
      payload: {
        name: `named ${host}`,
        protocol: 'pop3',
        host,
        port,
        security: 'none',
        username: 'alice@example.test',
        authentication: { method: 'password', password: 'correct horse battery staple' },
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const { id } = created.json() as { id: string };
    const res = await target.app.inject({
      method: 'POST',
      url: `/api/v1/mail-servers/${id}/test`,
      headers,
      payload: {},
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as {
      ok: boolean;
      steps: { name: string; ok: boolean }[];
      error?: { step: string; code: string; message: string; remedy: string };
    };
  };

  it('is saved (a name), but its test is refused before any connection', async () => {
    for (const host of ['metadata.test', 'this-host.test']) {
      const before = accepted;
      const report = await testServer(outlink, host);
      assert.equal(report.ok, false);
      assert.equal(report.error?.step, 'connect');
      assert.equal(report.error?.code, 'address_refused', JSON.stringify(report.error));
      assert.match(report.error?.message ?? '', new RegExp(`${host} resolves to`));
      assert.match(report.error?.remedy ?? '', /OUTLINK_ALLOW_ADDRESSES/);
      assert.equal(accepted, before, `${host}: a connection was made`);
    }
  });

  it('reaches the server once the range is re-allowed', async () => {
    const before = accepted;
    const report = await testServer(allowingOutlink, 'this-host.test');
    assert.deepEqual(report.steps[0], { ...report.steps[0], name: 'connect', ok: true });
    assert.notEqual(report.error?.code, 'address_refused');
    assert.equal(accepted, before + 1);
  });
});
