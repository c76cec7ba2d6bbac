import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { connect, createLink, type DanceWorld, startDance } from '../oauth/dance-support.js';
import { oauthError } from '../peers/fault-proxy.js';
import { Dialects, googleLink, startOutlink } from '../support/harness.js';
import { ALICE, BOB } from '../support/worlds.js';

/** Every admin page, as a signed-in administrator reaches it. */
const ADMIN_PAGES = [
  '/admin/applinks',
  '/admin/applinks/new',
  '/admin/api-tokens',
  '/admin/events',
  '/admin/cluster',
  '/admin/account',
];

/** Catalog keys that leaked into a page untranslated, e.g. `ui.links.title`. */
function rawKeys(html: string): string[] {
  return html.match(/\b(ui|errors|warnings|providerErrors|callback)\.[a-zA-Z_]+\.[\w.]+/g) ?? [];
}

/** Checks what every page must satisfy: HTML, language, catalog, CSP, no inline code. */
function assertPage(res: LightMyRequestResponse, locale: 'en' | 'ja', where: string) {
  assert.equal(res.statusCode, 200, `${where}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/, where);
  assert.equal(res.headers['cache-control'], 'no-store', where);
  assert.match(res.body, new RegExp(`<html lang="${locale}">`), where);
  assert.deepEqual(rawKeys(res.body), [], `${where}: untranslated keys`);
  assert.doesNotMatch(res.body, /\{(name|count|account|baseUrl|host)\}/, `${where}: placeholder`);
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'/, where);
  assert.match(csp, /style-src 'self'/, where);
  assert.doesNotMatch(csp, /unsafe-inline/, where);
  for (const tag of res.body.match(/<script\b[^>]*>/g) ?? []) {
    assert.match(
      tag,
      /\ssrc="\/static\/app\.js\?v=[0-9a-f]{12}"/,
      `${where}: inline script ${tag}`,
    );
  }
  assert.doesNotMatch(res.body, /<script(?![^>]*\ssrc=)[^>]*>/, `${where}: inline script`);
  assert.doesNotMatch(res.body, /\sstyle="/, `${where}: inline style`);
  assert.doesNotMatch(res.body, /<style\b/, `${where}: style element`);
  assert.doesNotMatch(res.body, /\son[a-z]+="/, `${where}: inline handler`);
  // A language switch on every page.
  assert.match(res.body, /data-testid="lang-en"[^>]*>English</, where);
  assert.match(res.body, /data-testid="lang-ja"[^>]*>日本語</, where);
}

for (const dialect of Dialects) {
  describe(`the administration pages on ${dialect}`, () => {
    let world: DanceWorld;
    let link: { id: string };
    let empty: { id: string };
    let bob: string;
    const page = async (url: string, headers: Record<string, string> = {}) =>
      world.outlink.app.inject({
        method: 'GET',
        url,
        headers: { cookie: (await world.outlink.adminHeaders()).cookie!, ...headers },
      });

    before(async () => {
      world = await startDance(dialect);
      link = await createLink(world, { name: 'Support <mailbox>' });
      empty = await createLink(world, { name: 'Nobody yet' });
      await connect(world, link.id, ALICE);
      bob = await connect(world, link.id, BOB);
      // Bob's grant is revoked at the provider: the real refresh path marks it.
      world.proxy.queue(oauthError('invalid_grant', 400, 'grant revoked'));
      const refreshed = await world.outlink.app.inject({
        method: 'POST',
        url: `/api/v1/connections/${bob}/refresh`,
        headers: await world.outlink.adminHeaders(),
      });
      assert.equal(refreshed.statusCode, 409, refreshed.body);
    });
    after(() => world?.close());

    it('renders every page for a signed-in admin in English and Japanese', async () => {
      const urls = [...ADMIN_PAGES, `/admin/applinks/${link.id}`, `/admin/applinks/${empty.id}`];
      for (const locale of ['en', 'ja'] as const) {
        for (const url of urls) {
          const res = await page(url, { 'accept-language': locale });
          assertPage(res, locale, `${locale} ${url}`);
          assert.match(res.body, /<meta name="csrf-token" content="olc_[^"]+">/, url);
        }
      }
    });

    it('summarises the connections of each link in words and icons, not colour alone', async () => {
      const en = await page('/admin/applinks', { 'accept-language': 'en' });
      const row = en.body.slice(en.body.indexOf(`data-link-id="${link.id}"`));
      const summary = row.slice(0, row.indexOf('</tr>'));
      assert.match(summary, /✓<\/span> 1 connected/);
      assert.match(summary, /✕<\/span> 1 needs re-authorization/);
      const none = en.body.slice(en.body.indexOf(`data-link-id="${empty.id}"`));
      assert.match(none.slice(0, none.indexOf('</tr>')), /○<\/span> Not authorized/);
      const ja = await page('/admin/applinks', { 'accept-language': 'ja' });
      assert.match(ja.body, /1 件接続済み/);
      assert.match(ja.body, /1 件再認証が必要/);
      assert.match(ja.body, /未認証/);
    });

    it('shows each connection with status, expiry, scopes, and the last error with its remedy', async () => {
      const res = await page(`/admin/applinks/${link.id}`, { 'accept-language': 'en' });
      const rows = res.body.split('data-testid="connection-row"').slice(1);
      assert.equal(rows.length, 2);
      const alice = rows.find((r) => r.includes(ALICE))!;
      const bobRow = rows.find((r) => r.includes(BOB))!;
      assert.match(
        alice,
        /data-status="valid"><span class="badge-icon" aria-hidden="true">✓<\/span> Connected/,
      );
      assert.match(
        alice,
        /<time datetime="[^"]+" title="[^"]+">in (\d+ minutes|1 hour|\d+ hours)<\/time>/,
      );
      assert.match(bobRow, /Re-authorization required/);
      assert.match(bobRow, /no longer accepts this connection&#39;s grant/);
      assert.match(bobRow, /Re-authorize this account\./);
      assert.match(bobRow, /<code>invalid_grant: grant revoked<\/code>/);
      for (const action of ['reauthorize', 'invite', 'refresh-now', 'remove-connection']) {
        assert.match(alice, new RegExp(`data-testid="${action}"`));
      }
      // Issue 13: the re-authorization link for the owner, made in a dialog, shown once.
      assert.match(alice, /data-testid="invite"[^>]*>Link for the owner</);
      assert.match(res.body, /data-testid="invite-dialog"/);
      assert.match(res.body, /Shown only now: Outlink keeps no copy/);
      assert.match(res.body, /data-testid="authorize"[^>]*>Authorize another account</);
      assert.match(res.body, /data-testid="config-client-secret">.*Set \(write-only/s);
      assert.doesNotMatch(res.body, /outlink-client-secret/);
      assert.doesNotMatch(res.body, /Used by/);
      // The link's recent events, newest first.
      assert.match(res.body, /data-event-type="connection.reauthorization_required"/);
      const fresh = await page(`/admin/applinks/${empty.id}`, { 'accept-language': 'ja' });
      assert.match(fresh.body, /data-testid="authorize"[^>]*>認証</);
      assert.match(fresh.body, /再認可リンク/);
      assert.match(fresh.body, /data-testid="connections-empty"/);
    });

    it('escapes hostile names wherever they appear', async () => {
      const hostile = '<script>alert(1)</script>';
      const created = await createLink(world, { name: hostile, description: '"><img src=x>' });
      for (const url of [
        '/admin/applinks',
        `/admin/applinks/${created.id}`,
        '/admin/events',
        '/admin/api-tokens',
      ]) {
        const res = await page(url);
        assert.ok(!res.body.includes(hostile), url);
        assert.ok(!res.body.includes('<img src=x>'), url);
        assert.ok(res.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), url);
      }
      const detail = await page(`/admin/applinks/${link.id}`);
      assert.match(detail.body, /Support &lt;mailbox&gt;/);
    });

    it('sends signed-out visitors to /login with the page to come back to', async () => {
      for (const url of [
        ...ADMIN_PAGES,
        `/admin/applinks/${link.id}`,
        '/admin/events?type=link.created',
      ]) {
        const res = await world.outlink.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 302, url);
        assert.equal(res.headers.location, `/login?next=${encodeURIComponent(url)}`);
      }
      const root = await world.outlink.app.inject({ method: 'GET', url: '/' });
      assert.equal(root.headers.location, '/login');
      assert.equal((await page('/')).headers.location, '/admin/applinks');
      const login = await world.outlink.app.inject({
        method: 'GET',
        url: `/login?next=${encodeURIComponent('/admin/events')}`,
        headers: { 'accept-language': 'ja' },
      });
      assertPage(login, 'ja', '/login');
      assert.match(login.body, /data-next="\/admin\/events"/);
      assert.doesNotMatch(login.body, /csrf-token/);
      for (const evil of [
        '//evil.example',
        'https://evil.example/',
        '/\t/evil.example',
        '/\\evil',
      ]) {
        const res = await world.outlink.app.inject({
          method: 'GET',
          url: `/login?next=${encodeURIComponent(evil)}`,
        });
        assert.match(res.body, /data-next="\/admin\/applinks"/, evil);
      }
      // Signed in already: straight on.
      const again = await page(`/login?next=${encodeURIComponent('/admin/events')}`);
      assert.equal(again.statusCode, 302);
      assert.equal(again.headers.location, '/admin/events');
    });

    it('remembers ?lang= in a cookie, which then wins over Accept-Language', async () => {
      const res = await page('/admin/applinks?lang=ja', { 'accept-language': 'en' });
      assertPage(res, 'ja', '?lang=ja');
      const cookie = String(res.headers['set-cookie']);
      assert.match(cookie, /^outlink_lang=ja;/);
      assert.match(cookie, /Max-Age=31536000/);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Lax/);
      assert.match(res.body, /アプリケーション リンク/);
      // The switch keeps the page and its query.
      assert.match(res.body, /href="\/admin\/applinks\?lang=en"[^>]*data-testid="lang-en"/);
      const session = (await world.outlink.adminHeaders()).cookie!;
      const remembered = await world.outlink.app.inject({
        method: 'GET',
        url: '/admin/events',
        headers: { cookie: `${session}; outlink_lang=ja`, 'accept-language': 'en' },
      });
      assertPage(remembered, 'ja', 'cookie');
      assert.equal(remembered.headers['set-cookie'], undefined);
      const ignored = await page('/admin/events?lang=fr', { 'accept-language': 'ja' });
      assertPage(ignored, 'ja', '?lang=fr');
      assert.equal(ignored.headers['set-cookie'], undefined);
      // The callback page and API messages follow the chosen language too.
      const api = await world.outlink.app.inject({
        method: 'GET',
        url: `/api/v1/connections/${bob}`,
        headers: { cookie: `${session}; outlink_lang=ja` },
      });
      assert.match((api.json() as { lastError: { remedy: string } }).lastError.remedy, /再認証/);
    });

    it('answers an unknown or malformed link id with a 404 page', async () => {
      for (const url of [`/admin/applinks/${randomUUID()}`, '/admin/applinks/not-a-uuid']) {
        const res = await page(url);
        assert.equal(res.statusCode, 404, url);
        assert.match(String(res.headers['content-type']), /text\/html/);
        assert.match(res.body, /Not found/);
      }
    });

    it('filters the event log by type and pages through it', async () => {
      const headers = await world.outlink.adminHeaders();
      for (let i = 0; i < 55; i++) {
        const res = await world.outlink.app.inject({
          method: 'POST',
          url: '/api/v1/api-tokens',
          headers,
          payload: { name: `paging ${i}` },
        });
        assert.equal(res.statusCode, 201);
      }
      const first = await page('/admin/events?type=api_token.created');
      assertPage(first, 'en', 'events');
      assert.equal(first.body.split('data-testid="event-row"').length - 1, 50);
      assert.doesNotMatch(first.body, /data-event-type="(?!api_token\.created)/);
      assert.match(first.body, /<option value="api_token.created" selected>API token created</);
      const older =
        /href="(\/admin\/events\?type=api_token.created&amp;cursor=[^"]+)" data-testid="events-older"/.exec(
          first.body,
        );
      assert.ok(older, 'a link to older events');
      const second = await page(older[1]!.replaceAll('&amp;', '&'));
      assert.equal(second.body.split('data-testid="event-row"').length - 1, 5);
      assert.match(second.body, /data-testid="events-newest"/);
      assert.doesNotMatch(second.body, /data-testid="events-older"/);
      const stale = await page('/admin/events?cursor=garbage&type=nonsense');
      assert.equal(stale.statusCode, 200);
    });

    it('lists API tokens with their reach, never the token', async () => {
      const res = await page('/admin/api-tokens');
      assert.match(res.body, /data-testid="token-row"/);
      assert.match(res.body, /paging 54/);
      assert.doesNotMatch(res.body, /olk_/);
      assert.match(
        res.body,
        /data-testid="new-token"[^>]*value=""|value=""[^>]*data-testid="new-token"/,
      );
    });
  });
}

describe('the pages with an http:// base URL', () => {
  it('shows the HTTPS banner and blocks the link form', async () => {
    const outlink = await startOutlink('sqlite', {
      env: { OUTLINK_BASE_URL: 'http://10.0.0.5:8080' },
    });
    try {
      const cookie = (await outlink.adminHeaders()).cookie!;
      for (const locale of ['en', 'ja'] as const) {
        const res = await outlink.app.inject({
          method: 'GET',
          url: '/admin/applinks/new',
          headers: { cookie, 'accept-language': locale },
        });
        assertPage(res, locale, `http ${locale}`);
        assert.match(res.body, /id="https-banner"/);
        assert.match(res.body, /http:\/\/10\.0\.0\.5:8080\//);
        assert.match(res.body, /<fieldset class="plain" id="link-fieldset" disabled>/);
        assert.match(res.body, /data-testid="link-save" hidden disabled/);
        assert.match(res.body, /data-open="true"/);
        // The base URL's host is an IP literal: the Google warning is ready in the form.
        assert.match(res.body, /data-ip-literal="true"/);
        assert.match(res.body, /10\.0\.0\.5/);
      }
      assert.match(
        (
          await outlink.app.inject({
            method: 'GET',
            url: '/admin/applinks',
            headers: { cookie, 'accept-language': 'ja' },
          })
        ).body,
        /サーバーは HTTPS 上で実行している必要があります。/,
      );
    } finally {
      await outlink.close();
    }
  });

  it('shows no banner with an https:// base URL', async () => {
    const outlink = await startOutlink('sqlite');
    try {
      const headers = await outlink.adminHeaders();
      const created = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/links',
        headers,
        payload: googleLink(),
      });
      const id = (created.json() as { id: string }).id;
      for (const url of ['/admin/applinks', '/admin/applinks/new', `/admin/applinks/${id}`]) {
        const res = await outlink.app.inject({
          method: 'GET',
          url,
          headers: { cookie: headers.cookie! },
        });
        assertPage(res, 'en', url);
        assert.doesNotMatch(res.body, /id="https-banner"/, url);
        assert.doesNotMatch(res.body, /data-ip-literal/, url);
      }
    } finally {
      await outlink.close();
    }
  });
});
