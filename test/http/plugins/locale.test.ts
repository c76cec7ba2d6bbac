import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import en from '../../../src/i18n/en.json' with { type: 'json' };
import ja from '../../../src/i18n/ja.json' with { type: 'json' };
import { googleLink, startOutlink, type TestOutlink } from '../../support/harness.js';

interface ErrorJson {
  error: { code: string; message: string; remedy?: string; field?: string };
}
interface LinkJson {
  warnings?: { code: string; message: string }[];
}

/** The language a page remembered for the user (`?lang=ja` sets it), sent with a session. */
const withLangCookie = (headers: Record<string, string>, lang: string) => ({
  ...headers,
  cookie: `${headers.cookie}; outlink_lang=${lang}`,
});

const nameTaken = (catalog: typeof en, name: string) => ({
  error: {
    code: 'link_name_taken',
    message: catalog.errors.link_name_taken.message.replace('{name}', name),
    remedy: catalog.errors.link_name_taken.remedy,
    field: 'name',
  },
});

const scopeNormalized = (catalog: typeof en) => [
  {
    code: 'scope_normalized',
    message: catalog.warnings.scope_normalized
      .replace('{from}', 'https://mail.google.com')
      .replace('{to}', 'https://mail.google.com/'),
  },
];

// The language does not depend on the database: one dialect is enough.
describe('one language choice for pages and the API (issue 9)', () => {
  let outlink: TestOutlink;
  let name: string;

  before(async () => {
    outlink = await startOutlink('sqlite');
    name = `locale ${randomBytes(3).toString('hex')}`;
    const created = await outlink.app.inject({
      method: 'POST',
      url: '/api/v1/links',
      headers: await outlink.adminHeaders(),
      payload: googleLink({ name }),
    });
    assert.equal(created.statusCode, 201, created.body);
  });
  after(async () => {
    await outlink?.close();
  });

  const post = async (payload: object, headers: Record<string, string>, url = '/api/v1/links') =>
    outlink.app.inject({ method: 'POST', url, payload, headers });

  it('answers API errors and warnings in the language the pages remembered, over Accept-Language', async () => {
    const headers = {
      ...withLangCookie(await outlink.adminHeaders(), 'ja'),
      'accept-language': 'en',
    };
    const dup = await post(googleLink({ name }), headers);
    assert.equal(dup.statusCode, 409);
    assert.deepEqual(dup.json() as ErrorJson, nameTaken(ja, name));

    const warned = await post(googleLink({ scopes: ['https://mail.google.com'] }), headers);
    assert.equal(warned.statusCode, 201, warned.body);
    assert.deepEqual((warned.json() as LinkJson).warnings, scopeNormalized(ja));
  });

  it('leaves the choice to Accept-Language without the cookie, as before', async () => {
    const session = await outlink.adminHeaders();
    const inJapanese = await post(googleLink({ name }), { ...session, 'accept-language': 'ja' });
    assert.deepEqual(inJapanese.json() as ErrorJson, nameTaken(ja, name));
    const inEnglish = await post(googleLink({ name }), { ...session, 'accept-language': 'en' });
    assert.deepEqual(inEnglish.json() as ErrorJson, nameTaken(en, name));
    const unsaid = await post(googleLink({ name }), session);
    assert.deepEqual(unsaid.json() as ErrorJson, nameTaken(en, name));

    const warned = await post(googleLink({ scopes: ['https://mail.google.com'] }), {
      ...session,
      'accept-language': 'en',
    });
    assert.deepEqual((warned.json() as LinkJson).warnings, scopeNormalized(en));
  });

  it('speaks the chosen language before authentication too, and for unknown routes', async () => {
    const anonymous = await outlink.app.inject({
      method: 'GET',
      url: '/api/v1/links',
      headers: { cookie: 'outlink_lang=ja', 'accept-language': 'en' },
    });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(
      (anonymous.json() as ErrorJson).error.message,
      ja.errors.not_authenticated.message,
    );
    const unknown = await outlink.app.inject({
      method: 'GET',
      url: '/api/v1/no-such-thing',
      headers: { cookie: 'outlink_lang=ja' },
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal((unknown.json() as ErrorJson).error.message, ja.errors.not_found.message);
  });

  it('takes ?lang= over the cookie for an API answer, without setting the cookie', async () => {
    const res = await outlink.app.inject({
      method: 'GET',
      url: `/api/v1/connections/${randomUUID()}?lang=en`,
      headers: withLangCookie(await outlink.adminHeaders(), 'ja'),
    });
    assert.equal(res.statusCode, 404);
    assert.equal(res.headers['set-cookie'], undefined);
    const { error } = res.json() as ErrorJson;
    assert.equal(error.code, 'connection_not_found');
    assert.equal(error.remedy, en.errors.connection_not_found.remedy);
  });
});
