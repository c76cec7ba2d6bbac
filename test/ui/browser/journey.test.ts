import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { redirectUrlFor } from '../../../src/domain/link.js';
import { testTls } from '../../peers/ca.js';
import { type LaunchedBrowser, launchBrowser } from '../../peers/chromium.js';
import {
  type AuthorizationServer,
  DEFAULT_ACCOUNT_PASSWORD,
  startAuthorizationServer,
} from '../../peers/oidc-provider.js';
import { ALICE, BOB } from '../../support/worlds.js';
import {
  allShownTexts,
  capture,
  DESKTOP,
  flashText,
  type Lang,
  loadAfter,
  openListener,
  type PageWatch,
  redirectUrlShown,
  type ServedOutlink,
  SUITE_TIMEOUT_MS,
  serveOutlink,
  shownText,
  signIn,
  TEXT,
  watchContext,
  words,
} from './support.js';

/** One client per language at the provider, so each journey breaks only its own secret. */
const clientIdOf = (lang: Lang) => `outlink-${lang}`;
const secretOf = (lang: Lang) => `browser-journey-secret-${lang}`;
const rotatedSecretOf = (lang: Lang) => `rotated-secret-${lang}`;

/**
 * The administrator's whole journey (issue 4) against the test oidc-provider over HTTPS: a
 * Custom link, Authorize through the provider's real login and consent pages, a second
 * account, Refresh now, a client secret rotated at the provider (every connection needs the
 * link fixed), and the fix. Once in English, once in Japanese chosen with the language
 * switch.
 */
describe('the administrator journey in Chromium, against the test authorization server', {
  timeout: SUITE_TIMEOUT_MS,
}, () => {
  let as: AuthorizationServer;
  let served: ServedOutlink;
  let chromium: LaunchedBrowser;

  before(async () => {
    // Outlink's port first: the redirect URI registered at the provider names it.
    const listener = await openListener();
    const base = listener.base;
    as = await startAuthorizationServer({
      clients: ({ endpoints }) =>
        (['en', 'ja'] as const).map((lang) => ({
          clientId: clientIdOf(lang),
          clientSecret: secretOf(lang),
          redirectUris: [redirectUrlFor(new URL(base), endpoints.authorization)],
        })),
      accounts: [{ email: ALICE }, { email: BOB }],
    });
    served = await serveOutlink({ listener, fetch: as.fetch });
    assert.equal(served.base, base);
    chromium = await launchBrowser({
      // The provider serves the test CA's shared loopback leaf; Outlink a leaf of its own.
      trustCertificates: [served.certPem ?? '', (await testTls()).server.certPem],
    });
  });

  after(async () => {
    await chromium?.close();
    await served?.close();
    await as?.close();
  });

  for (const lang of ['en', 'ja'] as const) {
    describe(lang === 'en' ? 'in English' : 'in Japanese (日本語)', () => {
      const text = TEXT[lang];
      let context: BrowserContext;
      let page: Page;
      let watch: PageWatch;
      let linkUrl = '';

      before(async () => {
        // The browser asks for English; the language switch must win over it.
        context = await chromium.browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
          origin: served.base,
        });
        context.setDefaultTimeout(10_000);
        watch = await watchContext(context);
        page = await context.newPage();
      });

      after(async () => {
        await context?.close();
      });

      /**
       * Authorize (or Authorize another account): the provider's login and consent pages as
       * `email`, back on the callback page, and back to the link.
       */
      const authorizeAs = async (email: string, shot?: string) => {
        // A fresh session at the provider, as after signing out there: the next account signs in.
        await context.clearCookies({ domain: '127.0.0.1' });
        await page.getByTestId('authorize').click();
        await page.getByTestId('authorize-dialog').waitFor();
        await page.getByTestId('authorize-continue').click();
        await page.waitForURL(`${as.issuer}/interaction/**`);
        assert.equal(await page.locator('main').getAttribute('data-prompt'), 'login');
        await page.locator('#email').fill(email);
        await page.locator('#password').fill(DEFAULT_ACCOUNT_PASSWORD);
        await page.locator('#submit').click();
        await page.locator('#allow').waitFor();
        assert.equal(await page.locator('main').getAttribute('data-prompt'), 'consent');
        await page.locator('#allow').click();
        await page.waitForURL(`${served.base}/oauth2/callback/**`);
        assert.equal(await page.locator('html').getAttribute('lang'), lang);
        assert.equal(await page.locator('h1').getAttribute('data-status'), 'succeeded');
        assert.equal(await shownText(page.locator('h1')), text.connected);
        assert.match(await shownText(page.locator('main')), new RegExp(email));
        if (shot) await capture(page, shot);
        assert.equal(await shownText(page.getByTestId('callback-back')), text.backToLink);
        await page.getByTestId('callback-back').click();
        await page.waitForURL(linkUrl);
        assert.equal(await flashText(page, 'success'), text.flowSucceeded);
      };

      const statuses = async () =>
        (await page.getByTestId('connection-status').allTextContents()).map(words);
      const accounts = async () =>
        [...(await page.getByTestId('connection-account').allTextContents())].sort();

      it(`signs in${lang === 'ja' ? ' after choosing 日本語 with the language switch' : ''}`, async () => {
        await page.goto(`${served.base}/`);
        await page.waitForURL(`${served.base}/login`);
        if (lang === 'ja') {
          await page.getByTestId('lang-ja').click();
          await page.waitForURL(`${served.base}/login?lang=ja`);
          assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
          assert.equal(await shownText(page.locator('h1')), text.signIn);
          await capture(page, 'ja-login');
        }
        await signIn(page, served.base);
        assert.equal(await page.locator('html').getAttribute('lang'), lang);
        assert.equal(await shownText(page.locator('h1')), text.links);
      });

      it('creates a Custom link against the provider: the redirect URL it must register', async () => {
        await page.getByTestId('create-link').click();
        await page.getByTestId('link-next').click();
        await page.getByTestId('provider-custom').check();
        await page.getByTestId('link-next').click();
        await page.getByTestId('field-name').fill(`Test provider (${lang})`);
        await page.getByTestId('field-issuer').fill(as.issuer);
        await page.getByTestId('field-authorizationEndpoint').fill(as.endpoints.authorization);
        await page.getByTestId('field-tokenEndpoint').fill(as.endpoints.token);
        const expected = redirectUrlFor(new URL(served.base), as.endpoints.authorization);
        assert.equal(await redirectUrlShown(page), expected);
        await page.getByTestId('redirectUrl-copy').click();
        assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), expected);
        await page.getByTestId('field-clientId').fill(clientIdOf(lang));
        await page.getByTestId('field-clientSecret').fill(secretOf(lang));
        await page.getByTestId('field-scopes').fill('openid email offline_access');
        if (lang === 'ja') await capture(page, 'ja-create-custom');
        await page.getByTestId('link-save').click();
        await page.waitForURL(/\/admin\/applinks\/[0-9a-f-]{36}$/);
        linkUrl = page.url();
        assert.equal(
          await shownText(page.getByTestId('config-provider')),
          lang === 'en' ? 'Custom' : 'カスタム',
        );
        assert.equal(
          (await shownText(page.getByTestId('connections-empty'))).startsWith(
            `○ ${text.notAuthorized}`,
          ),
          true,
        );
      });

      it('authorizes alice through the provider: the link becomes Connected', async () => {
        await authorizeAs(ALICE, `${lang}-callback`);
        assert.deepEqual(await statuses(), [`✓ ${text.connected}`]);
        assert.deepEqual(await accounts(), [ALICE]);
        assert.equal(await shownText(page.getByTestId('authorize')), text.authorizeAnother);
      });

      it('authorizes a second account on the same link: two connections', async () => {
        await authorizeAs(BOB);
        assert.deepEqual(await accounts(), [ALICE, BOB]);
        assert.deepEqual(await statuses(), [`✓ ${text.connected}`, `✓ ${text.connected}`]);
        await capture(page, `${lang}-link-detail-connected`);
      });

      it('refreshes one connection now', async () => {
        const row = page.getByTestId('connection-row').first();
        await loadAfter(page, () => row.getByTestId('refresh-now').click());
        assert.equal(await flashText(page, 'success'), text.refreshed);
        assert.deepEqual(await statuses(), [`✓ ${text.connected}`, `✓ ${text.connected}`]);
      });

      it('after the client secret changed at the provider, marks every connection Re-authorization required with its remedy', async () => {
        await as.setClientSecret(clientIdOf(lang), rotatedSecretOf(lang));
        await loadAfter(page, () => page.getByTestId('refresh-now').first().click());
        // The refresh answers that alice's connection needs re-authorization; why is below.
        assert.match(await flashText(page, 'error'), new RegExp(escapeRegExp(ALICE)));
        const reauth = `✕ ${text.reauthorizationRequired}`;
        assert.deepEqual(await statuses(), [reauth, reauth]);
        const errors = await allShownTexts(page.getByTestId('connection-error'));
        assert.equal(errors.length, 2);
        for (const error of errors) {
          assert.match(
            error,
            new RegExp(`${text.remedyLabel}\\s+${escapeRegExp(text.invalidClientRemedy)}`),
          );
          assert.match(error, /invalid_client/);
        }
        // Once, above the connections: fixing the link is the remedy for all of them.
        assert.match(
          await shownText(page.getByTestId('link-fault')),
          new RegExp(escapeRegExp(text.invalidClientRemedy)),
        );
        await capture(page, `${lang}-link-detail-reauthorization-required`);
        await page.goto(`${served.base}/admin/applinks`);
        const row = page.locator(`tr[data-link-id="${linkUrl.split('/').pop()}"]`);
        const summary = await shownText(row.getByTestId('link-summary'));
        assert.equal(summary, `✕ ${text.twoNeedReauthorization}`);
        await page.goto(linkUrl);
      });

      it('recovers every connection once the link has the new secret, without re-authorizing', async () => {
        await page.getByTestId('edit-link').click();
        await page.getByTestId('field-clientSecret').fill(rotatedSecretOf(lang));
        await loadAfter(page, () => page.getByTestId('link-save').click());
        assert.equal(await flashText(page, 'success'), text.saved);
        assert.deepEqual(await statuses(), [`✓ ${text.connected}`, `✓ ${text.connected}`]);
        assert.equal(await page.getByTestId('link-fault').count(), 0);
        // The provider takes the new secret: a refresh succeeds again.
        await loadAfter(page, () => page.getByTestId('refresh-now').last().click());
        assert.equal(await flashText(page, 'success'), text.refreshed);
      });

      it('removes a connection after a confirmation that Escape cancels', async () => {
        await page.getByTestId('remove-connection').last().click();
        await page.getByTestId('confirm-dialog').waitFor();
        await page.keyboard.press('Escape');
        await page.getByTestId('confirm-dialog').waitFor({ state: 'hidden' });
        assert.equal(await page.getByTestId('connection-row').count(), 2);
        await page.getByTestId('remove-connection').last().click();
        await loadAfter(page, () => page.getByTestId('confirm-ok').click());
        assert.equal(await flashText(page, 'success'), text.removed);
        assert.deepEqual(await accounts(), [ALICE]);
      });

      if (lang === 'ja') {
        it('shows the other pages in Japanese too', async () => {
          await page.goto(`${served.base}/admin/applinks`);
          assert.equal(await shownText(page.locator('h1')), text.links);
          await capture(page, 'ja-links');
          for (const [path, heading] of [
            ['api-tokens', 'API トークン'],
            ['events', 'イベント'],
            ['account', 'アカウント'],
          ] as const) {
            await page.goto(`${served.base}/admin/${path}`);
            assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
            assert.equal(await shownText(page.locator('h1')), heading);
            await capture(page, `ja-${path}`);
          }
        });
      }

      it('signs out', async () => {
        await page.getByTestId('sign-out').click();
        await page.waitForURL(`${served.base}/login?notice=signedOut`);
        assert.equal(await page.getByTestId('login-notice').isVisible(), true);
      });

      it('saw no console error but the expected API answers, and no CSP violation', () => {
        assert.deepEqual(watch.problems, []);
        // The refresh the provider refused (invalid_client) answers an error, as it should.
        assert.deepEqual(
          watch.apiErrors.map((e) => e.replace(/[0-9a-f-]{36}/, ':id')),
          ['409 /api/v1/connections/:id/refresh'],
        );
      });
    });
  }
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
