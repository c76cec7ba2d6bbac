import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { redirectUrlFor } from '../../../src/domain/link.js';
import { createTestTls } from '../../peers/ca.js';
import { type LaunchedBrowser, launchBrowser } from '../../peers/chromium.js';
import {
  allShownTexts,
  capture,
  DESKTOP,
  dialogOpen,
  type PageWatch,
  redirectUrlShown,
  type ServedOutlink,
  SUITE_TIMEOUT_MS,
  serveOutlink,
  shownText,
  signIn,
  TEXT,
  tabThrough,
  until,
  waitForValue,
  watchContext,
  words,
} from './support.js';

const GOOGLE_AUTHORIZE = 'https://accounts.google.com/o/oauth2/v2/auth';
const GOOGLE_TOKEN = 'https://oauth2.googleapis.com/token';
const MS_AUTHORIZE = 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize';
const MS_TOKEN = 'https://login.microsoftonline.com/common/oauth2/v2.0/token';
const MS_SCOPES = [
  'https://outlook.office.com/IMAP.AccessAsUser.All',
  'https://outlook.office.com/POP.AccessAsUser.All',
  'https://outlook.office.com/SMTP.Send',
  'offline_access',
];

/** The scopes textarea, one scope a line as the dialog writes them. */
const scopesOf = async (page: Page) =>
  (await page.getByTestId('field-scopes').inputValue()).split('\n').filter(Boolean);

describe('the administration UI in Chromium: sign-in, creating links, the other pages', {
  timeout: SUITE_TIMEOUT_MS,
}, () => {
  let served: ServedOutlink;
  let chromium: LaunchedBrowser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;

  before(async () => {
    served = await serveOutlink();
    chromium = await launchBrowser({ trustCertificates: [served.certPem ?? ''] });
    context = await chromium.browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: served.base });
    context.setDefaultTimeout(10_000);
    watch = await watchContext(context);
    page = await context.newPage();
  });

  after(async () => {
    await chromium?.close();
    await served?.close();
  });

  /** Opens the create dialog and walks to the configuration step of `provider`. */
  const openCreate = async (provider: 'google' | 'microsoft' | 'custom') => {
    await page.goto(`${served.base}/admin/applinks`);
    await page.getByTestId('create-link').click();
    await page.getByTestId('link-dialog').waitFor();
    await page.getByTestId('link-next').click();
    await page.getByTestId(`provider-${provider}`).check();
    await page.getByTestId('link-next').click();
    await page.getByTestId('field-name').waitFor();
  };

  it('sends a signed-out visitor to the sign-in page, refuses a wrong password, then signs in', async () => {
    await page.goto(`${served.base}/admin/applinks`);
    assert.equal(page.url(), `${served.base}/login?next=%2Fadmin%2Fapplinks`);
    assert.equal(await shownText(page.locator('h1')), TEXT.en.signIn);
    await capture(page, 'en-login');

    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill('not the password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor();
    assert.match(await shownText(page.getByTestId('login-error')), /invalid_credentials$/);
    await capture(page, 'en-login-error');

    await signIn(page, served.base);
    assert.equal(await shownText(page.locator('h1')), TEXT.en.links);
    assert.equal(await page.getByTestId('links-empty').isVisible(), true);
  });

  it('creates a Google link: endpoints and scope pre-filled, the redirect URL copied to the clipboard', async () => {
    await page.getByTestId('create-link').click();
    await page.getByTestId('link-dialog').waitFor();
    // The dialog has its own address, so a reload or a shared link opens it again.
    assert.equal(page.url(), `${served.base}/admin/applinks/new`);
    await capture(page, 'en-create-step1-application');
    await page.getByTestId('link-next').click();
    assert.equal(await page.getByTestId('provider-google').isChecked(), true);
    await capture(page, 'en-create-step2-provider');
    await page.getByTestId('link-next').click();

    const redirectUrl = await redirectUrlShown(page);
    assert.equal(redirectUrl, redirectUrlFor(new URL(served.base), GOOGLE_AUTHORIZE));
    assert.equal(
      await page.getByTestId('field-authorizationEndpoint').inputValue(),
      GOOGLE_AUTHORIZE,
    );
    assert.equal(await page.getByTestId('field-tokenEndpoint').inputValue(), GOOGLE_TOKEN);
    assert.deepEqual(await scopesOf(page), ['https://mail.google.com/']);
    for (const protocol of ['imap', 'pop3', 'smtp']) {
      assert.equal(await page.getByTestId(`protocol-${protocol}`).isChecked(), true, protocol);
    }
    // Fields that belong to other providers stay out of the way.
    assert.equal(await page.getByTestId('field-tenant').isVisible(), false);
    assert.equal(await page.getByTestId('field-issuer').isVisible(), false);

    await page.getByTestId('redirectUrl-copy').click();
    assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), redirectUrl);
    assert.equal(await shownText(page.getByTestId('redirectUrl-copy')), 'Copied');
    await capture(page, 'en-create-google');

    await page.getByTestId('field-name').fill('Gmail for support');
    await page.getByTestId('field-clientId').fill('123-abc.apps.googleusercontent.com');
    await page.getByTestId('field-clientSecret').fill('GOCSPX-browser-test');
    await page.getByTestId('link-save').click();
    await page.waitForURL(/\/admin\/applinks\/[0-9a-f-]{36}$/);
    await page.getByTestId('flash').locator('.banner-success').waitFor();
    assert.equal(await shownText(page.getByTestId('link-title')), 'Gmail for support');
    assert.equal(
      await shownText(page.getByTestId('config-authorization-endpoint')),
      GOOGLE_AUTHORIZE,
    );
    assert.equal(await shownText(page.getByTestId('config-token-endpoint')), GOOGLE_TOKEN);
    assert.equal(await shownText(page.getByTestId('config-scopes')), 'https://mail.google.com/');
    assert.equal(await page.getByTestId('detail-redirect-url').inputValue(), redirectUrl);
    // The secret is write-only: the page says it is set and never shows it.
    assert.doesNotMatch(await page.content(), /GOCSPX-browser-test/);
    assert.equal(await page.getByTestId('connections-empty').isVisible(), true);
  });

  it('creates a Microsoft link: endpoints follow the tenant, scopes follow the cloud and protocols', async () => {
    await openCreate('microsoft');
    const redirectUrl = await redirectUrlShown(page);
    assert.equal(redirectUrl, redirectUrlFor(new URL(served.base), MS_AUTHORIZE));
    assert.equal(await page.getByTestId('field-authorizationEndpoint').inputValue(), MS_AUTHORIZE);
    assert.equal(await page.getByTestId('field-tokenEndpoint').inputValue(), MS_TOKEN);
    assert.deepEqual(await scopesOf(page), MS_SCOPES);
    assert.equal(await page.getByTestId('field-tenant').inputValue(), 'common');
    assert.equal(await page.getByTestId('cloud-global').isChecked(), true);
    await page.getByTestId('redirectUrl-copy').click();
    assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), redirectUrl);
    await capture(page, 'en-create-microsoft');

    await page.getByTestId('field-tenant').fill('contoso.onmicrosoft.com');
    const tenantAuthorize =
      'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize';
    await redirectUrlShown(page, redirectUrlFor(new URL(served.base), tenantAuthorize));
    assert.equal(
      await page.getByTestId('field-authorizationEndpoint').inputValue(),
      tenantAuthorize,
    );
    assert.equal(
      await page.getByTestId('field-tokenEndpoint').inputValue(),
      'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
    );
    await page.getByTestId('redirectUrl-copy').click();
    assert.equal(
      await page.evaluate<string>('navigator.clipboard.readText()'),
      redirectUrlFor(new URL(served.base), tenantAuthorize),
    );

    await page.getByTestId('cloud-gcc').check();
    await waitForValue(page, 'field-scopes', (v) =>
      v.includes('https://outlook.office365.com/SMTP.Send'),
    );
    await page.getByTestId('protocol-pop3').uncheck();
    assert.deepEqual(await scopesOf(page), [
      'https://outlook.office365.com/IMAP.AccessAsUser.All',
      'https://outlook.office365.com/SMTP.Send',
      'offline_access',
    ]);

    // Saving with the required fields empty shows the API's error next to its field.
    await page.getByTestId('link-save').click();
    await page.getByTestId('error-name').waitFor({ state: 'visible' });
    assert.match(await shownText(page.getByTestId('error-name')), /field_empty$/);
    assert.equal(await page.getByTestId('field-name').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate<string>('document.activeElement.id'), 'name');
    await capture(page, 'en-create-microsoft-errors');

    await page.getByTestId('field-name').fill('Exchange Online (GCC)');
    await page.getByTestId('field-clientId').fill('00000000-1111-2222-3333-444444444444');
    await page.getByTestId('field-clientSecret').fill('ms-browser-test-secret');
    await page.getByTestId('link-save').click();
    await page.waitForURL(/\/admin\/applinks\/[0-9a-f-]{36}$/);
    assert.equal(
      await shownText(page.getByTestId('config-authorization-endpoint')),
      tenantAuthorize,
    );
    assert.deepEqual(await page.getByTestId('config-scopes').locator('li').allTextContents(), [
      'https://outlook.office365.com/IMAP.AccessAsUser.All',
      'https://outlook.office365.com/SMTP.Send',
      'offline_access',
    ]);
  });

  it('shows a Custom link its redirect URL only once the authorization endpoint is typed', async () => {
    await openCreate('custom');
    assert.equal(await page.getByTestId('redirectUrl').inputValue(), '');
    assert.equal(await page.getByTestId('redirectUrl-copy').isDisabled(), true);
    assert.notEqual(await shownText(page.getByTestId('redirect-pending')), '');
    await capture(page, 'en-create-custom');
    await page
      .getByTestId('field-authorizationEndpoint')
      .fill('https://idp.example.test/authorize');
    assert.equal(
      await redirectUrlShown(page),
      redirectUrlFor(new URL(served.base), 'https://idp.example.test/authorize'),
    );
    assert.equal(await page.getByTestId('redirectUrl-copy').isDisabled(), false);
    await capture(page, 'en-create-custom-filled');
  });

  it('keeps focus inside the open dialog, both ways, and closes it with Escape', async () => {
    await openCreate('google');
    await redirectUrlShown(page);
    // Two rounds through every control: focus never lands outside the dialog; between
    // rounds it may rest on the browser's own UI ("none"), as a modal dialog allows.
    const forward = await tabThrough(page, '#link-dialog', 40);
    assert.deepEqual(
      forward.filter((f) => f.startsWith('OUTSIDE')),
      [],
      forward.join('\n'),
    );
    const first = forward.find((f) => f.startsWith('inside'));
    assert.ok(first && forward.filter((f) => f === first).length >= 2, forward.join('\n'));
    assert.ok(forward.includes('inside button#link-save[link-save]'), forward.join('\n'));
    assert.ok(forward.includes('inside button[link-dialog-close]'), forward.join('\n'));
    const backward = await tabThrough(page, '#link-dialog', 40, true);
    assert.deepEqual(
      backward.filter((f) => f.startsWith('OUTSIDE')),
      [],
      backward.join('\n'),
    );

    await page.keyboard.press('Escape');
    await page.waitForURL(`${served.base}/admin/applinks`);
    assert.equal(await dialogOpen(page, 'link-dialog'), false);
    // The page is usable again: Tab reaches its controls (the dialog no longer holds focus).
    const afterClose = await tabThrough(page, '#link-dialog', 3);
    assert.ok(
      afterClose.some((f) => f.startsWith('OUTSIDE')),
      afterClose.join(),
    );
  });

  it('opens the dialog from its address and closes it with the browser Back button', async () => {
    await page.goto(`${served.base}/admin/applinks/new`);
    assert.equal(await dialogOpen(page, 'link-dialog'), true);
    await page.getByTestId('link-dialog-close').click();
    await page.waitForURL(`${served.base}/admin/applinks`);
    assert.equal(await dialogOpen(page, 'link-dialog'), false);
    await page.getByTestId('create-link').click();
    assert.equal(await dialogOpen(page, 'link-dialog'), true);
    await page.goBack();
    await until('Back closed the dialog', async () => !(await dialogOpen(page, 'link-dialog')));
    assert.equal(page.url(), `${served.base}/admin/applinks`);
  });

  it('lists the links with their connections at a glance', async () => {
    await page.goto(`${served.base}/admin/applinks`);
    const names = await allShownTexts(page.getByTestId('link-name'));
    assert.deepEqual([...names].sort(), ['Exchange Online (GCC)', 'Gmail for support']);
    const summaries = (await page.getByTestId('link-summary').allTextContents()).map(words);
    // Status in words and a shape, not colour alone.
    assert.deepEqual(summaries, [`○ ${TEXT.en.notAuthorized}`, `○ ${TEXT.en.notAuthorized}`]);
    await capture(page, 'en-links');
    await page.getByTestId('link-name').first().click();
    await page.waitForURL(/\/admin\/applinks\/[0-9a-f-]{36}$/);
    await page.getByTestId('edit-link').click();
    assert.equal(await dialogOpen(page, 'link-dialog'), true);
    // Editing never shows the stored secret; the field stays empty and says it is set.
    assert.equal(await page.getByTestId('field-clientSecret').inputValue(), '');
    assert.equal(await page.getByTestId('secret-set').isVisible(), true);
    await capture(page, 'en-edit-link');
    await page.keyboard.press('Escape');
    await until('Escape closed the dialog', async () => !(await dialogOpen(page, 'link-dialog')));
  });

  it('creates an API token, shown once, and revokes it after a confirmation', async () => {
    await page.getByTestId('nav-api-tokens').click();
    await page.waitForURL(`${served.base}/admin/api-tokens`);
    await page.getByTestId('field-name').fill('backup job');
    await page.getByTestId('token-scope-read').check();
    assert.equal(await page.getByTestId('token-links').isVisible(), true);
    await page.getByTestId('token-create').click();
    await page.getByTestId('token-created').waitFor();
    const token = await page.getByTestId('new-token').inputValue();
    assert.match(token, /^olk_/);
    await capture(page, 'en-api-tokens-created');
    await page.getByTestId('token-done').click();
    await page.getByTestId('token-row').waitFor();
    assert.doesNotMatch(await page.content(), new RegExp(token));
    await capture(page, 'en-api-tokens');

    await page.getByTestId('revoke-token').click();
    assert.equal(await dialogOpen(page, 'confirm-dialog'), true);
    await page.keyboard.press('Escape');
    await until(
      'Escape closed the confirmation',
      async () => !(await dialogOpen(page, 'confirm-dialog')),
    );
    assert.equal(await page.getByTestId('token-row').count(), 1);
    await page.getByTestId('revoke-token').click();
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('tokens-empty').waitFor();
  });

  it('shows the events and the account pages', async () => {
    await page.getByTestId('nav-events').click();
    await page.waitForURL(`${served.base}/admin/events`);
    assert.ok((await page.getByTestId('event-row').count()) >= 2);
    await capture(page, 'en-events');
    await page.getByTestId('nav-account').click();
    await page.waitForURL(`${served.base}/admin/account`);
    await page.getByTestId('field-currentPassword').fill('wrong password 1');
    await page.getByTestId('field-newPassword').fill('new password 123');
    await page.getByTestId('field-confirmPassword').fill('new password 124');
    await page.getByTestId('password-submit').click();
    await page.getByTestId('error-confirmPassword').waitFor({ state: 'visible' });
    await page.getByTestId('field-confirmPassword').fill('new password 123');
    await page.getByTestId('password-submit').click();
    await page.getByTestId('error-currentPassword').waitFor({ state: 'visible' });
    assert.match(await shownText(page.getByTestId('error-currentPassword')), /password_incorrect$/);
    await capture(page, 'en-account');
  });

  it('reaches nothing past the loopback and trusts only the pinned certificates', async () => {
    // A context of its own: closing a page that shows a certificate interstitial can hang
    // (Chromium 156 with playwright-core 1.65), closing its context does not.
    const probeContext = await chromium.browser.newContext();
    probeContext.setDefaultTimeout(10_000);
    const probe = await probeContext.newPage();
    try {
      await assert.rejects(probe.goto('https://example.com/'), /ERR_NAME_NOT_RESOLVED/);
      // A server whose certificate comes from another CA: refused, not waved through.
      const rogue = (await createTestTls()).server;
      const server = createServer({ key: rogue.keyPem, cert: rogue.certPem }, (_req, res) =>
        res.end('should not load'),
      );
      // Every TCP socket, also those still in (or after a refused) TLS handshake, which
      // `closeAllConnections` does not know: Chromium may keep one open, and `close` waits.
      const sockets = new Set<Socket>();
      server.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as { port: number };
        await assert.rejects(
          probe.goto(`https://127.0.0.1:${port}/`),
          /ERR_CERT_AUTHORITY_INVALID/,
        );
      } finally {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
      }
    } finally {
      await probeContext.close();
    }
  });

  it('saw no console error but the expected API answers, and no CSP violation', async () => {
    assert.deepEqual(watch.problems, []);
    assert.deepEqual(watch.apiErrors, [
      '401 /api/v1/session',
      '422 /api/v1/links',
      '403 /api/v1/session/password',
    ]);
    // The watch itself works: an inline script, which the policy forbids, is reported.
    await page.evaluate(
      `document.body.append(Object.assign(document.createElement('script'), { textContent: '1' }))`,
    );
    await until('the violation is reported', async () =>
      watch.problems.some((p) => p.startsWith('CSP violation')),
    );
    assert.match(watch.problems.join('\n'), /CSP violation on .*: script-src-elem blocked inline/);
    assert.match(watch.problems.join('\n'), /console error on .*Content Security Policy/);
    watch.problems.length = 0;
  });
});
