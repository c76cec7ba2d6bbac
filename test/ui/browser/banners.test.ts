import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { type LaunchedBrowser, launchBrowser } from '../../peers/chromium.js';
import {
  allShownTexts,
  capture,
  DESKTOP,
  type PageWatch,
  redirectUrlShown,
  type ServedOutlink,
  SUITE_TIMEOUT_MS,
  serveOutlink,
  shownText,
  signIn,
  watchContext,
} from './support.js';

/** What the base URL implies, shown before the administrator types anything. */
describe('the base URL warnings in Chromium', { timeout: SUITE_TIMEOUT_MS }, () => {
  let chromium: LaunchedBrowser;
  /** Serves plain HTTP, with `http://localhost:<port>` as its base URL. */
  let overHttp: ServedOutlink;
  /** Serves HTTPS at `https://127.0.0.1:<port>`, an IP literal. */
  let onIpLiteral: ServedOutlink;

  before(async () => {
    overHttp = await serveOutlink({ scheme: 'http' });
    onIpLiteral = await serveOutlink({ host: '127.0.0.1' });
    chromium = await launchBrowser({ trustCertificates: [onIpLiteral.certPem ?? ''] });
  });

  after(async () => {
    await chromium?.close();
    await overHttp?.close();
    await onIpLiteral?.close();
  });

  /** A signed-in administrator's page on `served`, with its console watched. */
  const session = async (served: ServedOutlink) => {
    const context = await chromium.browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    context.setDefaultTimeout(10_000);
    const watch = await watchContext(context);
    const page = await context.newPage();
    await signIn(page, served.base);
    return { context, watch, page };
  };

  describe('with an http:// base URL', () => {
    let context: BrowserContext;
    let page: Page;
    let watch: PageWatch;

    before(async () => {
      ({ context, page, watch } = await session(overHttp));
    });

    after(async () => {
      await context?.close();
    });

    it('shows the HTTPS banner on the links page, with the base URL and the remedy', async () => {
      const banner = page.locator('#https-banner');
      assert.equal(await banner.isVisible(), true);
      assert.equal(await banner.getAttribute('role'), 'alert');
      const [title, body, remedy] = await allShownTexts(banner.locator('p'));
      assert.equal(title, '✕ The server must run over HTTPS.');
      assert.ok(body?.startsWith(`Outlink's base URL is ${overHttp.base}/.`), body);
      assert.equal(
        remedy,
        'Serve Outlink over HTTPS and set OUTLINK_BASE_URL to its https:// address, then reload this page.',
      );
      await capture(page, 'en-https-banner-links');
    });

    it('blocks the create dialog: the banner inside, every field and Next disabled', async () => {
      await page.getByTestId('create-link').click();
      await page.getByTestId('link-dialog').waitFor();
      const inDialog = page.getByTestId('link-dialog').getByTestId('https-banner');
      assert.equal(await inDialog.isVisible(), true);
      assert.equal(await inDialog.getAttribute('id'), 'link-dialog-https-banner');
      assert.equal(await page.getByTestId('link-next').isDisabled(), true);
      assert.equal(await page.getByTestId('link-save').isDisabled(), true);
      assert.equal(await page.getByTestId('applicationType-external').isDisabled(), true);
      assert.equal(await page.getByTestId('field-name').isDisabled(), true);
      // Closing still works: the administrator is not trapped in a dead form.
      assert.equal(await page.getByTestId('link-cancel').isEnabled(), true);
      await capture(page, 'en-https-banner-dialog');
      await page.keyboard.press('Escape');
      await page.getByTestId('link-dialog').waitFor({ state: 'hidden' });
    });

    it('saw no console error and no CSP violation', () => {
      assert.deepEqual(watch.problems, []);
      assert.deepEqual(watch.apiErrors, []);
    });
  });

  describe('with an IP literal in the https:// base URL', () => {
    let context: BrowserContext;
    let page: Page;
    let watch: PageWatch;

    before(async () => {
      ({ context, page, watch } = await session(onIpLiteral));
    });

    after(async () => {
      await context?.close();
    });

    it('warns, for Google only, that Google refuses a redirect URL on an IP address', async () => {
      await page.getByTestId('create-link').click();
      await page.getByTestId('link-next').click();
      await page.getByTestId('link-next').click();
      await redirectUrlShown(page);
      const warning = page.getByTestId('ip-literal-warning');
      assert.equal(await warning.isVisible(), true);
      assert.match(await shownText(warning), /127\.0\.0\.1/);
      await capture(page, 'en-create-google-ip-literal');
      await page.getByTestId('link-back').click();
      await page.getByTestId('provider-microsoft').check();
      await page.getByTestId('link-next').click();
      await redirectUrlShown(page);
      assert.equal(await warning.isVisible(), false);
    });

    it('saw no console error and no CSP violation', () => {
      assert.deepEqual(watch.problems, []);
      assert.deepEqual(watch.apiErrors, []);
    });
  });
});
