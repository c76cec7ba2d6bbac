import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { type LaunchedBrowser, launchBrowser } from '../../peers/chromium.js';
import { startOutlink, type TestOutlink } from '../../support/harness.js';
import { startTestProvider, type TestProvider, testLinkBody } from '../../support/worlds.js';
import {
  DESKTOP,
  openListener,
  type PageWatch,
  type ServedOutlink,
  SUITE_TIMEOUT_MS,
  serveOutlink,
  signIn,
  watchContext,
} from './support.js';

/**
 * The Diagnose button of the link page (issue 13 item 1) in Chromium, against oidc-provider:
 * every check listed with its status and message, a remedy under each failure, in the
 * page's language.
 */
describe('the Diagnose button of the link page, in Chromium', { timeout: SUITE_TIMEOUT_MS }, () => {
  let provider: TestProvider;
  let outlink: TestOutlink;
  let served: ServedOutlink;
  let chromium: LaunchedBrowser;
  let page: Page;
  let watch: PageWatch;
  let linkId: string;

  before(async () => {
    const listener = await openListener();
    provider = await startTestProvider({ baseUrl: listener.base });
    outlink = await startOutlink('sqlite', {
      env: { OUTLINK_BASE_URL: listener.base },
      fetch: provider.as.fetch,
    });
    served = await serveOutlink({ listener, outlink });
    const res = await outlink.app.inject({
      method: 'POST',
      url: '/api/v1/links',
      headers: await outlink.adminHeaders(),
      payload: testLinkBody(provider, { name: 'Wrong secret', clientSecret: 'not-the-secret' }),
    });
    assert.equal(res.statusCode, 201, res.body);
    linkId = (res.json() as { id: string }).id;
    chromium = await launchBrowser({ trustCertificates: [served.certPem ?? ''] });
    const context = await chromium.browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    context.setDefaultTimeout(15_000);
    watch = await watchContext(context);
    page = await context.newPage();
    await signIn(page, served.base);
  });

  after(async () => {
    await chromium?.close();
    await served?.close();
    await outlink?.close();
    await provider?.close();
  });

  const rows = async () =>
    page.getByTestId('diagnosis-check').evaluateAll((items) =>
      items.map((li) => ({
        status: li.getAttribute('data-status'),
        check: li.getAttribute('data-check'),
        text: (li.textContent ?? '').trim(),
      })),
    );

  it('lists every check with a remedy under the failure, in English and Japanese', async () => {
    await page.goto(`${served.base}/admin/applinks/${linkId}`);
    assert.equal(await page.getByTestId('diagnosis').isHidden(), true);
    await page.getByTestId('diagnose').click();
    await page.getByTestId('diagnosis-check').first().waitFor();
    const shown = await rows();
    assert.deepEqual(shown[0], {
      status: 'pass',
      check: 'base_url_https',
      text: `pass The base URL ${served.base}/ is https.`,
    });
    const credentials = shown.find((r) => r.check === 'client_credentials');
    assert.equal(credentials?.status, 'fail');
    assert.match(
      credentials!.text,
      /^fail The token endpoint rejects the client credentials: invalid_client/,
    );
    assert.match(credentials!.text, /Copy the client ID and a current client secret/);
    assert.ok(!shown.some((r) => r.text.includes('not-the-secret')));
    assert.match(
      (await page.getByTestId('diagnosis-summary').textContent()) ?? '',
      /^\d+ passed, \d+ warnings, [1-9]\d* failed$/,
    );

    await page.goto(`${served.base}/admin/applinks/${linkId}?lang=ja`);
    await page.getByTestId('diagnose').click();
    await page.getByTestId('diagnosis-check').first().waitFor();
    const ja = (await rows()).find((r) => r.check === 'client_credentials');
    assert.match(ja!.text, /^失敗 トークンエンドポイントがクライアント資格情報を拒否しました/);
    assert.deepEqual(watch.problems, []);
  });
});
