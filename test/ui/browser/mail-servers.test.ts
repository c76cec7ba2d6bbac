import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { testTls } from '../../peers/ca.js';
import { type LaunchedBrowser, launchBrowser } from '../../peers/chromium.js';
import type { DovecotPeer } from '../../peers/dovecot.js';
import { type AuthorizationServer, DEFAULT_ACCOUNT_PASSWORD } from '../../peers/oidc-provider.js';
import type { TestOutlink } from '../../support/harness.js';
import { startTestDovecot } from '../../support/mail-world.js';
import { closedPort } from '../../support/ports.js';
import {
  ALICE,
  type AuthorizedWorld,
  BOB,
  CAROL,
  startAuthorizedWorld,
} from '../../support/worlds.js';
import {
  capture,
  DESKTOP,
  dialogOpen,
  flashText,
  loadAfter,
  type OutlinkListener,
  openListener,
  type PageWatch,
  type ServedOutlink,
  serveOutlink,
  shownText,
  signIn,
  tabThrough,
  until,
  watchContext,
} from './support.js';

/**
 * The mail servers page in Chromium (issue 5 items 7 and 8), against real peers: the test
 * authorization server (oidc-provider), Dovecot validating its tokens by introspection, and
 * Outlink over HTTPS. Presets of the chosen link's provider, the plain-connection warning,
 * the mailbox's own connection chosen by default and a delegate's shown, an account
 * authorized from the dialog in a popup and selected on return, the connection test's steps
 * when everything works and when the server is not there, the consumers on the link page,
 * editing and deleting.
 */
describe('the mail servers page in Chromium, against Dovecot and the test provider', () => {
  let world: AuthorizedWorld;
  let as: AuthorizationServer;
  let dovecot: DovecotPeer;
  let outlink: TestOutlink;
  let listener: OutlinkListener;
  let served: ServedOutlink;
  let base: string;
  let linkId: string;
  let googleLinkId: string;
  let aliceConnection: string;
  let bobConnection: string;
  let chromium: LaunchedBrowser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;

  before(async () => {
    // Outlink's listener first: the redirect URI registered at the provider names its port.
    listener = await openListener();
    base = listener.base;
    const tls = await testTls();
    world = await startAuthorizedWorld('sqlite', {
      baseUrl: base,
      linkName: 'Test AS',
      outlink: {
        env: { OUTLINK_LOG_LEVEL: 'warn' },
        mailTls: { ca: tls.caPem },
        mailTimeouts: { connectMs: 2_000, tlsMs: 2_000, greetingMs: 2_000, commandMs: 5_000 },
      },
    });
    ({ as, outlink, linkId, alice: aliceConnection, bob: bobConnection } = world);
    dovecot = await startTestDovecot(world, { tls });
    served = await serveOutlink({ listener, outlink });
    const google = await outlink.app.inject({
      method: 'POST',
      url: '/api/v1/links',
      headers: await outlink.adminHeaders(),
      payload: {
        name: 'Gmail',
        provider: 'google',
        clientId: '123-abc.apps.googleusercontent.com',
        clientSecret: 'GOCSPX-browser-test',
      },
    });
    assert.equal(google.statusCode, 201, google.body);
    googleLinkId = (google.json() as { id: string }).id;

    // Outlink has a leaf of its own; the provider serves the test CA's shared loopback leaf.
    chromium = await launchBrowser({
      trustCertificates: [listener.certPem ?? '', tls.server.certPem],
    });
    context = await chromium.browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    context.setDefaultTimeout(15_000);
    watch = await watchContext(context);
    page = await context.newPage();
  });

  after(async () => {
    await chromium?.close();
    await served?.close();
    await listener?.close();
    await dovecot?.stop();
    await world?.close();
  });

  const dialog = () => page.getByTestId('mail-server-dialog');
  const visiblePresets = async () => {
    const out: string[] = [];
    for (const button of await dialog().locator('button.preset').all()) {
      if (await button.isVisible()) out.push((await button.getAttribute('data-testid')) ?? '');
    }
    return out;
  };
  const row = (name: string) =>
    page.getByTestId('mail-server-row').filter({ has: page.getByText(name, { exact: true }) });
  const stepStates = async () => {
    const out: Record<string, string> = {};
    for (const item of await page.getByTestId('ms-test-steps').locator('li').all()) {
      if (!(await item.isVisible())) continue;
      const step = (await item.getAttribute('data-step')) ?? '';
      out[step] =
        `${await item.getAttribute('data-state')} ${await shownText(item.getByTestId('ms-test-state'))}`;
    }
    return out;
  };
  /** Opens the Add dialog and fills in the server's fields (not its authentication). */
  const startCreate = async (fields: {
    protocol: 'imap' | 'pop3' | 'smtp';
    name: string;
    host: string;
    port: number;
    security: 'tls' | 'starttls' | 'none';
    username: string;
  }) => {
    await page.getByTestId('create-mail-server').click();
    await dialog().waitFor();
    await page.getByTestId(`protocol-${fields.protocol}`).check();
    await page.getByTestId('field-name').fill(fields.name);
    await page.getByTestId('field-host').fill(fields.host);
    await page.getByTestId(`security-${fields.security}`).check();
    await page.getByTestId('field-port').fill(String(fields.port));
    await page.getByTestId('field-username').fill(fields.username);
  };
  const runTest = async (name: string, to?: string) => {
    await row(name).getByTestId('test-mail-server').click();
    await page.getByTestId('mail-server-test-dialog').waitFor();
    assert.equal(await shownText(page.getByTestId('ms-test-name')), name);
    if (to) await page.getByTestId('field-to').fill(to);
    await page.getByTestId('ms-test-run').click();
    const summary = page.getByTestId('ms-test-summary');
    await until('the test finished', async () =>
      /banner-(success|error)/.test((await summary.getAttribute('class')) ?? ''),
    );
    return await shownText(summary);
  };

  it('is reached from the navigation and starts empty', async () => {
    await signIn(page, base);
    await page.getByTestId('nav-mail-servers').click();
    await page.waitForURL(`${base}/admin/mail-servers`);
    assert.equal(await shownText(page.locator('h1')), 'Mail servers');
    assert.equal(await page.getByTestId('nav-mail-servers').getAttribute('aria-current'), 'page');
    assert.equal(await page.getByTestId('mail-servers-empty').isVisible(), true);
    await capture(page, 'en-mail-servers-empty');
  });

  it("fills in the presets of the chosen link's provider and warns about a plain connection", async () => {
    await page.getByTestId('create-mail-server').click();
    await dialog().waitFor();
    // Focus starts inside the dialog, on the protocol.
    assert.equal(
      await page.evaluate<string>('document.activeElement.dataset.testid'),
      'protocol-imap',
    );
    await page.getByTestId('field-linkId').selectOption(googleLinkId);
    assert.deepEqual(await visiblePresets(), ['preset-gmail-imap-993']);
    assert.equal(
      await shownText(page.getByTestId('ms-connection-note')),
      "This link has no connections yet: authorize the mailbox's account.",
    );
    await page.getByTestId('protocol-smtp').check();
    assert.deepEqual(await visiblePresets(), ['preset-gmail-smtp-465', 'preset-gmail-smtp-587']);
    await page.getByTestId('preset-gmail-smtp-587').click();
    assert.equal(await page.getByTestId('field-host').inputValue(), 'smtp.gmail.com');
    assert.equal(await page.getByTestId('field-port').inputValue(), '587');
    assert.equal(await page.getByTestId('security-starttls').isChecked(), true);
    assert.equal(await page.getByTestId('ms-plain-warning').isVisible(), false);
    assert.equal(await page.getByTestId('field-folder').isVisible(), false);

    await page.getByTestId('security-none').check();
    assert.equal(await page.getByTestId('ms-plain-warning').isVisible(), true);
    assert.match(await shownText(page.getByTestId('ms-plain-warning')), /Not encrypted/);
    // The port followed the security: 587 is SMTP's port for both STARTTLS and plain.
    assert.equal(await page.getByTestId('field-port').inputValue(), '587');
    await page.getByTestId('security-tls').check();
    assert.equal(await page.getByTestId('field-port').inputValue(), '465');
    assert.equal(await page.getByTestId('ms-plain-warning').isVisible(), false);
    await capture(page, 'en-mail-server-dialog-presets');

    // A password fits any server: every preset of the protocol is offered.
    await page.getByTestId('authMethod-password').check();
    assert.deepEqual(await visiblePresets(), [
      'preset-gmail-smtp-465',
      'preset-gmail-smtp-587',
      'preset-exchange_online-smtp-587',
      'preset-exchange_online_us-smtp-587',
      'preset-exchange_online_china-smtp-587',
    ]);
    await page.getByTestId('authMethod-oauth2').check();
    // A custom link's provider has no presets.
    await page.getByTestId('field-linkId').selectOption(linkId);
    assert.deepEqual(await visiblePresets(), []);
    assert.equal(await page.getByTestId('presets-none').isVisible(), true);

    const focus = await tabThrough(page, '#mail-server-dialog', 30);
    assert.deepEqual(
      focus.filter((f) => f.startsWith('OUTSIDE')),
      [],
      'focus stays in the dialog',
    );
    await page.keyboard.press('Escape');
    assert.equal(await dialogOpen(page, 'mail-server-dialog'), false);
  });

  it('creates an IMAP server with the mailbox’s own connection; a delegate is shown as one', async () => {
    await startCreate({
      protocol: 'imap',
      name: 'Support inbox',
      host: '127.0.0.1',
      port: dovecot.ports.imaps!,
      security: 'tls',
      username: ALICE,
    });
    await page.getByTestId('field-linkId').selectOption(linkId);
    // The default connection is the one whose account is the username.
    assert.equal(await page.getByTestId('field-connectionId').inputValue(), aliceConnection);
    assert.equal(await page.getByTestId('ms-connection-note').isVisible(), false);
    await page.getByTestId('field-connectionId').selectOption(bobConnection);
    assert.equal(
      await shownText(page.getByTestId('ms-connection-note')),
      `Delegate: the token of ${BOB} is used for the mailbox ${ALICE}. ${BOB} needs full access to that mailbox (a shared mailbox), or the server refuses the token.`,
    );
    await capture(page, 'en-mail-server-dialog-delegate');
    await page.getByTestId('field-connectionId').selectOption(aliceConnection);
    assert.equal(await page.getByTestId('ms-connection-note').isVisible(), false);

    // The API's error, next to its field, with its code.
    await page.getByTestId('field-host').fill('');
    await page.getByTestId('mail-server-save').click();
    await page.getByTestId('error-host').waitFor();
    assert.match(await shownText(page.getByTestId('error-host')), /field_empty$/);
    assert.equal(await page.getByTestId('field-host').getAttribute('aria-invalid'), 'true');
    await page.getByTestId('field-host').fill('127.0.0.1');

    await loadAfter(page, () => page.getByTestId('mail-server-save').click());
    assert.equal(
      await flashText(page, 'success'),
      'The mail server was added. Test it to see each step.',
    );
    const created = row('Support inbox');
    assert.equal(await shownText(created.getByTestId('mail-server-protocol')), 'IMAP · Incoming');
    assert.equal(
      await shownText(created.getByTestId('mail-server-endpoint')),
      `127.0.0.1:${dovecot.ports.imaps}`,
    );
    assert.equal(await shownText(created.getByTestId('mail-server-security')), '✓ TLS');
    assert.equal(await shownText(created.getByTestId('mail-server-auth')), `Test AS · ${ALICE}`);
  });

  it('tests it: every step passes, each with what it found', async () => {
    const summary = await runTest('Support inbox');
    assert.equal(summary, 'The test passed: every step succeeded.');
    assert.deepEqual(await stepStates(), {
      connect: 'passed Passed',
      tls: 'passed Passed',
      greeting: 'passed Passed',
      token: 'passed Passed',
      authentication: 'passed Passed',
      folder: 'passed Passed',
    });
    const detail = (step: string) =>
      shownText(page.getByTestId(`ms-test-step-${step}`).getByTestId('ms-test-detail'));
    assert.match(await detail('connect'), /^Connected to 127\.0\.0\.1/);
    assert.match(await detail('token'), new RegExp(`A valid access token of ${ALICE}`));
    assert.match(await detail('folder'), /^Opened the folder INBOX: 0 messages\.$/);
    assert.equal(await page.getByTestId('field-to').isVisible(), false);
    await capture(page, 'en-mail-server-test-passed');
    await page.getByTestId('ms-test-close').click();
  });

  it('authorizes a new account from the dialog and comes back with its connection selected', async () => {
    await startCreate({
      protocol: 'pop3',
      name: "Carol's POP3",
      host: '127.0.0.1',
      port: dovecot.ports.pop3s!,
      security: 'tls',
      username: CAROL,
    });
    await page.getByTestId('field-linkId').selectOption(linkId);
    assert.equal(await page.getByTestId('field-connectionId').inputValue(), '');
    assert.equal(
      await shownText(page.getByTestId('ms-connection-note')),
      `No connection of this link is for ${CAROL}: authorize ${CAROL}, or choose another account as a delegate.`,
    );
    const popupOpened = context.waitForEvent('page');
    await page.getByTestId('ms-authorize').click();
    const popup = await popupOpened;
    await popup.waitForURL(`${as.issuer}/interaction/**`);
    assert.match(
      await shownText(page.getByTestId('ms-authorize-status')),
      /Waiting for the sign-in at the provider in the other window/,
    );
    await popup.locator('#email').fill(CAROL);
    await popup.locator('#password').fill(DEFAULT_ACCOUNT_PASSWORD);
    await popup.locator('#submit').click();
    await popup.locator('#allow').click();
    await popup.waitForURL(`${base}/oauth2/callback/**`);
    await until(
      'the dialog saw the authorization succeed',
      async () => /Authorized/.test(await shownText(page.getByTestId('ms-authorize-status'))),
      15_000,
    );
    assert.equal(
      await shownText(page.getByTestId('ms-authorize-status')),
      `Authorized ${CAROL}: the connection is selected. You can close the sign-in window.`,
    );
    const chosen = await page.getByTestId('field-connectionId').inputValue();
    assert.match(chosen, /^[0-9a-f-]{36}$/);
    assert.equal(
      await shownText(page.getByTestId('field-connectionId').locator('option:checked')),
      `${CAROL} (Connected)`,
    );
    assert.equal(await page.getByTestId('ms-connection-note').isVisible(), false);
    await capture(page, 'en-mail-server-dialog-authorized');
    await popup.close();

    await loadAfter(page, () => page.getByTestId('mail-server-save').click());
    await flashText(page, 'success');
    assert.equal(
      await shownText(row("Carol's POP3").getByTestId('mail-server-auth')),
      `Test AS · ${CAROL}`,
    );
    assert.equal(await runTest("Carol's POP3"), 'The test passed: every step succeeded.');
    assert.match(
      await shownText(page.getByTestId('ms-test-step-folder').getByTestId('ms-test-detail')),
      /^Opened the mailbox: 0 messages/,
    );
    await page.getByTestId('ms-test-close').click();
  });

  it('without a popup, goes to the provider in this window and resumes the dialog on return', async () => {
    // As when a popup blocker refuses the window: the page itself goes to the provider.
    await page.evaluate('window.open = () => null');
    // A fresh session at the provider: the next account signs in.
    await context.clearCookies({ domain: '127.0.0.1' });
    await startCreate({
      protocol: 'imap',
      name: "Bob's inbox",
      host: '127.0.0.1',
      port: dovecot.ports.imaps!,
      security: 'tls',
      username: BOB,
    });
    await page.getByTestId('field-linkId').selectOption(linkId);
    await page.getByTestId('ms-authorize').click();
    await page.waitForURL(`${as.issuer}/interaction/**`);
    await page.locator('#email').fill(BOB);
    await page.locator('#password').fill(DEFAULT_ACCOUNT_PASSWORD);
    await page.locator('#submit').click();
    await page.locator('#allow').click();
    await page.waitForURL(`${base}/oauth2/callback/**`);
    assert.equal(await page.locator('h1').getAttribute('data-status'), 'succeeded');
    // The callback page leads to the link; the pending dialog takes the administrator on.
    await page.getByTestId('callback-back').click();
    await page.waitForURL(`${base}/admin/mail-servers`);
    await dialog().waitFor();
    await until(
      'the resumed dialog saw the authorization succeed',
      async () => /Authorized/.test(await shownText(page.getByTestId('ms-authorize-status'))),
      15_000,
    );
    assert.equal(await page.getByTestId('field-name').inputValue(), "Bob's inbox");
    assert.equal(await page.getByTestId('field-username').inputValue(), BOB);
    assert.equal(await page.getByTestId('protocol-imap').isChecked(), true);
    assert.equal(await page.getByTestId('field-port').inputValue(), String(dovecot.ports.imaps));
    // Bob authorized again: his existing connection, selected.
    assert.equal(await page.getByTestId('field-connectionId').inputValue(), bobConnection);
    await page.getByTestId('mail-server-cancel').click();
    assert.equal(await dialogOpen(page, 'mail-server-dialog'), false);
  });

  it('shows where the test broke, and what to do, for a server on a closed port', async () => {
    const closed = await closedPort();
    await startCreate({
      protocol: 'smtp',
      name: 'Nobody listens',
      host: '127.0.0.1',
      port: closed,
      security: 'none',
      username: CAROL,
    });
    await page.getByTestId('authMethod-password').check();
    await page.getByTestId('field-password').fill('a password');
    assert.equal(await page.getByTestId('ms-plain-warning').isVisible(), true);
    await loadAfter(page, () => page.getByTestId('mail-server-save').click());
    assert.match(await flashText(page, 'warning'), /is not encrypted \(security: none\)/);
    const created = row('Nobody listens');
    assert.equal(
      await shownText(created.getByTestId('mail-server-security')),
      '! None (plain) Not encrypted',
    );
    assert.equal(await shownText(created.getByTestId('mail-server-auth')), 'Password');

    const summary = await runTest('Nobody listens', 'postmaster@example.test');
    assert.equal(summary, 'The test failed at the step "Resolve and connect".');
    assert.deepEqual(await stepStates(), {
      connect: 'failed Failed',
      tls: 'idle Not run',
      greeting: 'idle Not run',
      token: 'idle Not run',
      authentication: 'idle Not run',
      send: 'idle Not run',
    });
    assert.match(
      await shownText(page.getByTestId('ms-test-step-connect').getByTestId('ms-test-detail')),
      /^Cannot connect to the server: /,
    );
    assert.equal(
      await shownText(page.getByTestId('ms-test-remedy')),
      'Check the host name and port, and that Outlink can reach the server (DNS, firewall).',
    );
    assert.equal(await shownText(page.getByTestId('ms-test-code')), 'connect_failed');
    await capture(page, 'en-mail-server-test-failed');
    await page.getByTestId('ms-test-close').click();
  });

  it("names each connection's mail servers on the link page", async () => {
    await page.goto(`${base}/admin/applinks/${linkId}`);
    const usedBy = async (account: string) =>
      shownText(
        page
          .getByTestId('connection-row')
          .filter({ hasText: account })
          .getByTestId('connection-used-by'),
      );
    assert.equal(await usedBy(ALICE), 'Used by: Support inbox');
    assert.equal(await usedBy(CAROL), "Used by: Carol's POP3");
    await capture(page, 'en-link-detail-used-by');
    await page
      .getByTestId('connection-row')
      .filter({ hasText: ALICE })
      .getByTestId('used-by-mail-server')
      .click();
    await page.waitForURL(/\/admin\/mail-servers#mail-server-[0-9a-f-]{36}$/);
  });

  it('edits a server: the protocol stays, the stored password is kept unless replaced', async () => {
    await row('Nobody listens').getByTestId('edit-mail-server').click();
    await dialog().waitFor();
    assert.equal(await page.getByTestId('field-name').inputValue(), 'Nobody listens');
    assert.equal(await page.getByTestId('protocol-smtp').isChecked(), true);
    assert.equal(await page.getByTestId('protocol-smtp').isDisabled(), true);
    assert.equal(await page.getByTestId('ms-password-set').isVisible(), true);
    assert.equal(await page.getByTestId('field-password').inputValue(), '');
    await page.getByTestId('field-name').fill('Nobody listens here');
    await loadAfter(page, () => page.getByTestId('mail-server-save').click());
    assert.match(await flashText(page, 'warning'), /^The mail server was saved\./);
    assert.equal(await row('Nobody listens here').count(), 1);
  });

  it('deletes a server after confirmation', async () => {
    await row('Nobody listens here').getByTestId('delete-mail-server').click();
    await page.getByTestId('confirm-dialog').waitFor();
    assert.equal(await shownText(page.locator('#confirm-title')), 'Delete this mail server?');
    await loadAfter(page, () => page.getByTestId('confirm-ok').click());
    assert.equal(await flashText(page, 'success'), 'The mail server was deleted.');
    assert.equal(await row('Nobody listens here').count(), 0);
    assert.equal(await page.getByTestId('mail-server-row').count(), 2);
  });

  it('speaks Japanese', async () => {
    await page.goto(`${base}/admin/mail-servers?lang=ja`);
    assert.equal(await shownText(page.getByTestId('nav-mail-servers')), 'メール サーバー');
    assert.equal(await shownText(page.locator('h1')), 'メール サーバー');
    assert.equal(
      await runTest('Support inbox'),
      'テストに成功しました。すべてのステップが成功しました。',
    );
    assert.equal(
      await shownText(page.getByTestId('ms-test-step-connect')),
      `✓ 名前解決と接続 成功 ${await shownText(
        page.getByTestId('ms-test-step-connect').getByTestId('ms-test-detail'),
      )}`,
    );
    await capture(page, 'ja-mail-server-test-passed');
    await page.getByTestId('ms-test-close').click();
    await page.getByTestId('create-mail-server').click();
    await page.getByTestId('security-none').check();
    assert.match(await shownText(page.getByTestId('ms-plain-warning')), /暗号化なし/);
    await capture(page, 'ja-mail-server-dialog');
    await page.goto(`${base}/admin/mail-servers?lang=en`);
  });

  it('had no script errors and no Content-Security-Policy violations', () => {
    assert.deepEqual(watch.problems, []);
  });
});
