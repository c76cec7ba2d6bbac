import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { testTls } from '../../peers/ca.js';
import { type LaunchedBrowser, launchBrowser } from '../../peers/chromium.js';
import { DEFAULT_ACCOUNT_PASSWORD } from '../../peers/oidc-provider.js';
import { startOutlink, type TestOutlink } from '../../support/harness.js';
import {
  ALICE,
  authorizeAccount,
  startTestProvider,
  type TestProvider,
  testLinkBody,
} from '../../support/worlds.js';
import {
  DESKTOP,
  openListener,
  type PageWatch,
  type ServedOutlink,
  SUITE_TIMEOUT_MS,
  serveOutlink,
  shownText,
  signIn,
  watchContext,
} from './support.js';

/**
 * Issue 13 item 4 in Chromium, against oidc-provider's real login and consent pages: the
 * administrator makes a re-authorization link in the connection's dialog and copies it; the
 * owner, in a browser with no Outlink session, opens it, signs in, and the connection is
 * re-authorized; the link then refuses a second use.
 */
describe('a re-authorization link for the owner, in Chromium', {
  timeout: SUITE_TIMEOUT_MS,
}, () => {
  let provider: TestProvider;
  let outlink: TestOutlink;
  let served: ServedOutlink;
  let chromium: LaunchedBrowser;
  let admin: Page;
  let watch: PageWatch;
  let linkId: string;
  let alice: string;

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
      payload: testLinkBody(provider, { name: 'Mailboxes' }),
    });
    assert.equal(res.statusCode, 201, res.body);
    linkId = (res.json() as { id: string }).id;
    alice = await authorizeAccount(outlink, provider, linkId, ALICE);
    chromium = await launchBrowser({
      // The provider serves the test CA's shared loopback leaf; Outlink a leaf of its own.
      trustCertificates: [served.certPem ?? '', (await testTls()).server.certPem],
    });
    const context = await chromium.browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    context.setDefaultTimeout(15_000);
    watch = await watchContext(context);
    admin = await context.newPage();
    await signIn(admin, served.base);
  });

  after(async () => {
    await chromium?.close();
    await served?.close();
    await outlink?.close();
    await provider?.close();
  });

  it('is made and copied on the link page, and re-authorizes the connection once', async () => {
    await admin.goto(`${served.base}/admin/applinks/${linkId}`);
    const row = admin.locator(`[data-connection-id="${alice}"][data-testid="connection-row"]`);
    await row.getByTestId('invite').click();
    await admin.getByTestId('invite-dialog').waitFor();
    assert.equal(await shownText(admin.getByTestId('invite-account')), ALICE);
    await admin.getByTestId('invite-create').click();
    await admin.getByTestId('invite-result').waitFor();
    const url = await admin.getByTestId('invite-url').inputValue();
    assert.match(url, new RegExp(`^${served.base}/oauth2/reauthorize/[A-Za-z0-9_-]{43}$`));
    const before = await outlink.services.connections.get(alice);

    // The owner: another browser, no Outlink session, never signed in to the admin pages.
    const owner = await chromium.browser.newContext({ viewport: DESKTOP, locale: 'ja-JP' });
    owner.setDefaultTimeout(15_000);
    const ownerWatch = await watchContext(owner);
    const page = await owner.newPage();
    await page.goto(url);
    await page.waitForURL(`${provider.as.issuer}/interaction/**`);
    await page.locator('#email').fill(ALICE);
    await page.locator('#password').fill(DEFAULT_ACCOUNT_PASSWORD);
    await page.locator('#submit').click();
    await page.locator('#allow').click();
    await page.waitForURL(`${served.base}/oauth2/callback/**`);
    assert.equal(await page.locator('h1').getAttribute('data-status'), 'succeeded');
    assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
    assert.equal(await page.getByTestId('callback-back').count(), 0);
    const after = await outlink.services.connections.get(alice);
    assert.notEqual(after.lastRefreshedAt, null);
    assert.ok((after.lastRefreshedAt ?? '') >= (before.lastRefreshedAt ?? ''));

    const again = await page.goto(url);
    assert.equal(again?.status(), 410);
    assert.match(await shownText(page.locator('main')), /1 回だけ使えます/);
    assert.match(await shownText(page.locator('main')), /reauthorization_link_used/);
    await owner.close();
    assert.deepEqual(watch.problems, []);
    assert.deepEqual(
      ownerWatch.problems.filter((p) => !/status of 410/.test(p)),
      [],
    );
  });
});
