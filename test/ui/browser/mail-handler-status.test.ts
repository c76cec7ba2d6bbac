import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { openTestMailbox, type TestMailbox } from '../../handler/mailbox.js';
import type { MailServerJson } from '../../mail/mail-servers-world.js';
import { testTls } from '../../peers/ca.js';
import { type LaunchedBrowser, launchBrowser } from '../../peers/chromium.js';
import type { DovecotPeer } from '../../peers/dovecot.js';
import type { TestOutlink } from '../../support/harness.js';
import { startTestDovecot } from '../../support/mail-world.js';
import { closedPort } from '../../support/ports.js';
import {
  ALICE,
  type AuthorizedWorld,
  startAuthorizedWorld,
  storedTokens,
} from '../../support/worlds.js';
import {
  capture,
  DESKTOP,
  type OutlinkListener,
  openListener,
  type PageWatch,
  type ServedOutlink,
  SUITE_TIMEOUT_MS,
  serveOutlink,
  shownText,
  signIn,
  until,
  watchContext,
} from './support.js';

/**
 * "Check mail now" and the "Mail handler" column of the mail servers page in Chromium
 * (issue 10 items 2 and 9), against real Dovecot validating the test provider's tokens:
 * mail appended to the mailbox becomes issues when the button is clicked, the row says so
 * while it runs and after, the column is brought up to date at once and says the same after
 * a reload — in English and in Japanese — and a mailbox that cannot be reached shows the
 * API's translated message and remedy.
 */
describe('checking mail now on the mail servers page, in Chromium, against Dovecot', {
  timeout: SUITE_TIMEOUT_MS,
}, () => {
  let world: AuthorizedWorld;
  let dovecot: DovecotPeer;
  let outlink: TestOutlink;
  let listener: OutlinkListener;
  let served: ServedOutlink;
  let base: string;
  let mailbox: TestMailbox;
  let unreachable: MailServerJson;
  let chromium: LaunchedBrowser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;

  const api = async (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
    outlink.app.inject({
      method,
      url,
      headers: await outlink.adminHeaders(),
      ...(payload ? { payload } : {}),
    });
  const createServer = async (body: Record<string, unknown>) => {
    const res = await api('POST', '/api/v1/mail-servers', body);
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as MailServerJson;
  };
  const row = (name: string) =>
    page.getByTestId('mail-server-row').filter({ has: page.getByText(name, { exact: true }) });
  /** The "Mail handler" column of a row, part by part, as it reads. */
  const column = async (name: string) => {
    const cell = row(name).getByTestId('mail-handler-status');
    const shown = async (testid: string) => {
      const part = cell.getByTestId(testid);
      return (await part.isVisible()) ? shownText(part) : '';
    };
    return {
      state: await shown('mail-handler-state'),
      enabled: await shown('mail-handler-enabled'),
      lastRun: await shown('mail-handler-last-run'),
      counts: await shown('mail-handler-counts'),
      error: await shown('mail-handler-error'),
    };
  };
  /** A plain message from a customer, with its own subject. */
  const customerMail = (id: string, subject: string) =>
    Buffer.from(
      [
        'From: Dana Customer <dana@example.test>',
        `To: ${ALICE}`,
        `Subject: ${subject}`,
        `Message-ID: <${id}@example.test>`,
        'Date: Fri, 04 Dec 2026 10:00:00 +0000',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        '',
        `About ${subject}.`,
        '',
      ].join('\r\n'),
    );
  /**
   * Clicks "Check mail now" in the row while its request is held back, so the row is seen
   * saying it is checking; then lets it through and returns what the row reports.
   */
  const checkNow = async (name: string, checking: string) => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route('**/api/v1/mail-servers/*/poll', async (route) => {
      await held;
      await route.continue();
    });
    const button = row(name).getByTestId('check-mail-server');
    const report = row(name).getByTestId('mail-handler-check');
    await button.click();
    await until('the row says it is checking', async () => (await shownText(report)) === checking);
    assert.equal(await button.isDisabled(), true);
    release();
    // The button comes back once the row's status is up to date too.
    await until('the check finished', async () => !(await button.isDisabled()), 15_000);
    await page.unroute('**/api/v1/mail-servers/*/poll');
    assert.match((await report.getAttribute('class')) ?? '', /handler-check-(done|failed)/);
    return shownText(report);
  };

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
    outlink = world.outlink;
    dovecot = await startTestDovecot(world, { tls });
    served = await serveOutlink({ listener, outlink });
    mailbox = await openTestMailbox(
      { dovecot, tls, storedTokens: (id) => storedTokens(world, id) },
      world.alice,
    );
    await createServer({
      name: 'Support inbox',
      protocol: 'imap',
      host: '127.0.0.1',
      port: dovecot.ports.imaps!,
      security: 'tls',
      username: ALICE,
      authentication: { method: 'oauth2', connectionId: world.alice },
      handlerEnabled: true,
    });
    unreachable = await createServer({
      name: 'Unreachable',
      protocol: 'pop3',
      host: '127.0.0.1',
      port: await closedPort(),
      security: 'tls',
      username: 'support@example.test',
      authentication: { method: 'password', password: 'a pop3 password' },
    });
    await createServer({
      name: 'Outbox',
      protocol: 'smtp',
      host: 'smtp.example.test',
      username: 'support@example.test',
      authentication: { method: 'password', password: 'an smtp password' },
    });

    chromium = await launchBrowser({ trustCertificates: [listener.certPem ?? ''] });
    context = await chromium.browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    context.setDefaultTimeout(15_000);
    watch = await watchContext(context);
    page = await context.newPage();
    await signIn(page, base);
  });

  after(async () => {
    await mailbox?.close();
    await chromium?.close();
    await served?.close();
    await listener?.close();
    await dovecot?.stop();
    await world?.close();
  });

  it('offers "Check mail now" on incoming servers only, and shows handlers that never ran', async () => {
    await page.goto(`${base}/admin/mail-servers`);
    assert.equal(await row('Support inbox').getByTestId('check-mail-server').count(), 1);
    assert.equal(
      await shownText(row('Support inbox').getByTestId('check-mail-server')),
      'Check mail now Support inbox',
    );
    assert.equal(await row('Unreachable').getByTestId('check-mail-server').count(), 1);
    assert.equal(await row('Outbox').getByTestId('check-mail-server').count(), 0);
    assert.deepEqual(await column('Support inbox'), {
      state: '○ Not run yet',
      enabled: 'On',
      lastRun: '',
      counts: '',
      error: '',
    });
    assert.equal((await column('Unreachable')).enabled, 'Off (paused)');
  });

  it('turns two new messages into two issues, says so, and updates the column at once', async () => {
    await mailbox.append([
      customerMail('printer', 'Printer on fire'),
      customerMail('login', 'Cannot sign in'),
    ]);
    assert.equal(
      await checkNow('Support inbox', 'Checking…'),
      'Checked: 2 created, 0 commented, 0 skipped, 0 failed.',
    );
    const now = await column('Support inbox');
    assert.equal(now.state, '✓ Idle');
    assert.equal(now.counts, '2 created, 0 commented, 0 skipped, 0 failed');
    assert.match(now.lastRun, /^Last run: \S/);
    assert.equal(now.error, '');
    await capture(page, 'en-mail-servers-check-mail');

    // What the script showed is what the server renders.
    await page.reload();
    assert.deepEqual(await column('Support inbox'), now);
    const issues = await outlink.services.store.db
      .selectFrom('issues')
      .select('summary')
      .orderBy('summary')
      .execute();
    assert.deepEqual(
      issues.map((i) => i.summary),
      ['Cannot sign in', 'Printer on fire'],
    );

    assert.equal(await checkNow('Support inbox', 'Checking…'), 'Checked: no new mail.');
    assert.equal(
      (await column('Support inbox')).counts,
      '0 created, 0 commented, 0 skipped, 0 failed',
    );
  });

  it('speaks Japanese: 「今すぐメールを確認」, 課題, コメント', async () => {
    await mailbox.append([
      customerMail('printer-ja', 'プリンターが動かない'),
      customerMail('login-ja', 'ログインできない'),
    ]);
    await page.goto(`${base}/admin/mail-servers?lang=ja`);
    assert.equal(
      await shownText(row('Support inbox').getByTestId('check-mail-server')),
      '今すぐメールを確認 Support inbox',
    );
    assert.equal(
      await checkNow('Support inbox', '確認中…'),
      '確認しました: 課題 2 件作成、コメント 0 件追加、スキップ 0 件、失敗 0 件。',
    );
    await page.reload();
    const after = await column('Support inbox');
    assert.equal(after.state, '✓ 待機中');
    assert.equal(after.enabled, 'オン');
    assert.equal(after.counts, '課題 2 件作成、コメント 0 件追加、スキップ 0 件、失敗 0 件');
    assert.match(after.lastRun, /^前回の実行: \S/);
    await capture(page, 'ja-mail-servers-check-mail');
    await page.goto(`${base}/admin/mail-servers?lang=en`);
  });

  it("shows the API's message and remedy when the mailbox cannot be reached", async () => {
    const shown = await checkNow('Unreachable', 'Checking…');
    const failed = await column('Unreachable');
    assert.equal(failed.state, '✕ Failed');
    assert.match(failed.lastRun, /^Last run: \S/);
    // The same check through the API: its error body is what the row showed.
    const res = await api('POST', `/api/v1/mail-servers/${unreachable.id}/poll`);
    assert.ok(res.statusCode >= 500, res.body);
    const { error } = res.json() as { error: { code: string; message: string; remedy: string } };
    assert.equal(shown, `${error.message} What to do: ${error.remedy} ${error.code}`);
    const status = (await api('GET', `/api/v1/mail-servers/${unreachable.id}/handler`)).json() as {
      lastError: { message: string };
    };
    assert.equal(failed.error, status.lastError.message);
    await capture(page, 'en-mail-servers-check-mail-failed');
    await page.reload();
    assert.deepEqual({ ...(await column('Unreachable')), lastRun: '' }, { ...failed, lastRun: '' });
    // The browser logs the API's 5xx answer; nothing else went wrong.
    const expected = (p: string) =>
      /console error on .*: Failed to load resource: the server responded with a status of 50\d .*\/poll\)$/.test(
        p,
      );
    assert.equal(watch.problems.filter(expected).length, 1, watch.problems.join('\n'));
    watch.problems.splice(0, watch.problems.length, ...watch.problems.filter((p) => !expected(p)));
  });

  it('leaves the rest of the list alone, and had no script errors or CSP violations', async () => {
    assert.equal(
      (await column('Support inbox')).counts,
      '2 created, 0 commented, 0 skipped, 0 failed',
    );
    assert.deepEqual(watch.problems, []);
  });
});
