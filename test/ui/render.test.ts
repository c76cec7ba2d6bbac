import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hasMessage } from '../../src/i18n/i18n.js';
import { chooseLocale } from '../../src/i18n/locale.js';
import { renderCallbackPage } from '../../src/ui/callback-page.js';
import { dateFormat, relativeParts } from '../../src/ui/format.js';
import { attrs, escapeHtml, html, raw } from '../../src/ui/html.js';
import { withLang } from '../../src/ui/layout.js';
import { safeNext } from '../../src/ui/pages/login.js';
import { startOutlink, type TestOutlink } from '../support/harness.js';

describe('the html template', () => {
  it('escapes every interpolation unless it is already Html', () => {
    const name = `<script>alert("x")</script>&'`;
    assert.equal(
      html`<p title="${name}">${name}</p>`.value,
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>',
    );
    assert.equal(html`<b>${html`<i>${name}</i>`}</b>`.value.startsWith('<b><i>&lt;'), true);
    assert.equal(html`${['a', raw('<br>'), 1, false, null, undefined, true]}`.value, 'a<br>1');
    assert.equal(escapeHtml('a&b'), 'a&amp;b');
    assert.equal(
      attrs({ id: 'x"y', hidden: true, disabled: false, title: undefined }).value,
      'id="x&quot;y" hidden',
    );
  });
});

describe('the helpers of the pages', () => {
  it('accepts only local paths after signing in', () => {
    assert.equal(safeNext('/admin/events?type=link.created'), '/admin/events?type=link.created');
    for (const bad of [
      undefined,
      42,
      '',
      'https://evil.example/',
      '//evil.example',
      '/\\evil.example',
      '/\t/evil.example',
      '/\n/evil.example',
      '/api/v1/links',
      '/login?next=/x',
    ]) {
      assert.equal(safeNext(bad), '/admin/applinks', String(bad));
    }
  });

  it('chooses the language from ?lang=, the cookie, then Accept-Language', () => {
    assert.deepEqual(chooseLocale({ query: 'ja', cookie: 'en', acceptLanguage: 'en' }), {
      locale: 'ja',
      remember: true,
    });
    assert.deepEqual(chooseLocale({ query: 'fr', cookie: 'ja', acceptLanguage: 'en' }), {
      locale: 'ja',
      remember: false,
    });
    assert.deepEqual(chooseLocale({ acceptLanguage: 'fr, ja;q=0.5' }), {
      locale: 'ja',
      remember: false,
    });
    assert.deepEqual(chooseLocale({}), { locale: 'en', remember: false });
    assert.equal(
      withLang('/admin/events?type=link.created&lang=en', 'ja'),
      '/admin/events?type=link.created&lang=ja',
    );
  });

  it('formats dates and relative times in each language', () => {
    const now = new Date('2026-03-12T12:00:00Z');
    const en = dateFormat('en', now);
    const ja = dateFormat('ja', now);
    assert.equal(en.relative('2026-03-12T12:45:00Z'), 'in 45 minutes');
    assert.equal(ja.relative('2026-03-12T12:45:00Z'), '45 分後');
    assert.equal(en.relative('2026-03-09T12:00:00Z'), '3 days ago');
    assert.equal(ja.relative('2026-03-09T12:00:00Z'), '3 日前');
    assert.match(en.dateTime('2026-03-12T14:05:00Z'), /Mar 12, 2026.*02:05\sPM UTC/);
    assert.match(ja.dateTime('2026-03-12T14:05:00Z'), /2026年3月12日 14:05 UTC/);
    assert.deepEqual(relativeParts(5400), [2, 'hour']);
    assert.deepEqual(relativeParts(-30), [-30, 'second']);
  });

  it('links the callback page back to the link it authorized', () => {
    const linkId = '0b8f3c1e-2f43-4a8e-9b7e-1d2c3b4a5f60';
    const ok = renderCallbackPage('ja', { status: 'succeeded', linkId }, '<b>alice</b>');
    assert.match(
      ok,
      new RegExp(`href="/admin/applinks/${linkId}" data-testid="callback-back">リンクに戻る<`),
    );
    assert.match(ok, /&lt;b&gt;alice&lt;\/b&gt;/);
    assert.match(ok, /<h1 data-status="succeeded">接続済み<\/h1>/);
    const failed = renderCallbackPage('en', {
      status: 'failed',
      error: { code: 'authorization_state_invalid', message: 'm<', remedy: 'r>' },
    });
    assert.doesNotMatch(failed, /callback-back/);
    assert.match(failed, /m&lt;/);
    assert.match(failed, /<code>authorization_state_invalid<\/code><\/small>/);
    assert.doesNotMatch(failed, /<script/);
    assert.ok(hasMessage('ja', 'callback.backToLink'));
  });
});

describe('the static files of the UI', () => {
  let outlink: TestOutlink;
  before(async () => {
    outlink = await startOutlink('sqlite');
  });
  after(() => outlink.close());

  it('serves the modules and the stylesheet, cacheable by version, and nothing else', async () => {
    const page = await outlink.app.inject({ method: 'GET', url: '/login' });
    const script = /<script type="module" src="([^"]+)"><\/script>/.exec(page.body)?.[1];
    const style = /<link rel="stylesheet" href="([^"]+)">/.exec(page.body)?.[1];
    assert.ok(script && style, page.body);
    const js = await outlink.app.inject({ method: 'GET', url: script });
    assert.equal(js.statusCode, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(js.body, /from '\.\/common\.js'/);
    for (const module of ['/static/common.js', '/static/link-dialog.js']) {
      const res = await outlink.app.inject({ method: 'GET', url: module });
      assert.equal(res.statusCode, 200, module);
      assert.equal(res.headers['cache-control'], 'no-cache');
      const again = await outlink.app.inject({
        method: 'GET',
        url: module,
        headers: { 'if-none-match': String(res.headers.etag) },
      });
      assert.equal(again.statusCode, 304, module);
    }
    const css = await outlink.app.inject({ method: 'GET', url: style });
    assert.match(String(css.headers['content-type']), /^text\/css/);
    for (const url of ['/static/nope.js', '/static/..%2Fhtml.ts', '/static/']) {
      const res = await outlink.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
    }
  });
});
