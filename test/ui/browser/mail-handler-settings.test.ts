import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { MailServerJson } from '../../mail/mail-servers-world.js';
import { type LaunchedBrowser, launchBrowser } from '../../peers/chromium.js';
import {
  capture,
  DESKTOP,
  flashText,
  loadAfter,
  type PageWatch,
  type ServedOutlink,
  SUITE_TIMEOUT_MS,
  serveOutlink,
  shownText,
  signIn,
  watchContext,
} from './support.js';

/**
 * The mail handler's settings in the mail server dialog, in Chromium (issue 10 item 1): the
 * section shows for incoming servers only (the error folder and moving for IMAP only), what
 * is set through it is what the API then stores — the size limit typed in MiB and stored in
 * bytes, the acknowledging SMTP server chosen by name — an edit changes only what was
 * changed, the API's errors appear next to their fields, and all of it in Japanese too. The
 * servers log in with passwords: settings need no token.
 */
describe('the mail handler settings in the mail server dialog, in Chromium', {
  timeout: SUITE_TIMEOUT_MS,
}, () => {
  let served: ServedOutlink;
  let base: string;
  let chromium: LaunchedBrowser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;
  let outbox: MailServerJson;
  let otherOutbox: MailServerJson;

  const api = async (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
    served.outlink.app.inject({
      method,
      url,
      headers: await served.outlink.adminHeaders(),
      ...(payload ? { payload } : {}),
    });
  const createSmtp = async (name: string) => {
    const res = await api('POST', '/api/v1/mail-servers', {
      name,
      protocol: 'smtp',
      host: 'smtp.example.test',
      username: 'support@example.test',
      authentication: { method: 'password', password: 'an smtp password' },
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as MailServerJson;
  };
  /** The stored server named `name`, as the API shows it. */
  const stored = async (name: string) => {
    const res = await api('GET', '/api/v1/mail-servers?limit=200');
    const found = (res.json() as { items: MailServerJson[] }).items.find((s) => s.name === name);
    assert.ok(found, `no mail server ${name}`);
    return found;
  };
  const handlerOf = (s: MailServerJson) => ({
    handlerEnabled: s.handlerEnabled,
    issueKeyPrefix: s.issueKeyPrefix,
    defaultReporter: s.defaultReporter,
    maxMessageBytes: s.maxMessageBytes,
    acknowledgeWith: s.acknowledgeWith,
    errorFolder: s.errorFolder,
    pollIntervalSeconds: s.pollIntervalSeconds,
    processedAction: s.processedAction,
    processedFolder: s.processedFolder,
  });
  const field = (name: string) => page.getByTestId(`field-${name}`);
  const section = () => page.getByTestId('ms-handler');
  const row = (name: string) =>
    page.getByTestId('mail-server-row').filter({ has: page.getByText(name, { exact: true }) });
  /** Opens the Add dialog and fills in a password server's own fields. */
  const startCreate = async (protocol: 'imap' | 'pop3', name: string) => {
    await page.getByTestId('create-mail-server').click();
    await page.getByTestId('mail-server-dialog').waitFor();
    await page.getByTestId(`protocol-${protocol}`).check();
    await field('name').fill(name);
    await field('host').fill('mail.example.test');
    await field('username').fill('support@example.test');
    await page.getByTestId('authMethod-password').check();
    await field('password').fill('a mail password');
  };

  before(async () => {
    served = await serveOutlink();
    base = served.base;
    outbox = await createSmtp('Support outbox');
    otherOutbox = await createSmtp('Other outbox');
    chromium = await launchBrowser({ trustCertificates: [served.certPem ?? ''] });
    context = await chromium.browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    context.setDefaultTimeout(15_000);
    watch = await watchContext(context);
    page = await context.newPage();
    await signIn(page, base);
  });

  after(async () => {
    await chromium?.close();
    await served?.close();
  });

  it('shows the section for incoming servers only; the error folder and moving for IMAP only', async () => {
    await page.goto(`${base}/admin/mail-servers`);
    await startCreate('imap', 'Support inbox');
    assert.equal(await section().isVisible(), true);
    assert.equal(await shownText(section().locator('legend')), 'Mail handler');
    assert.equal(
      await shownText(section().locator('label[for="handlerEnabled"]')),
      'Create issues from this mailbox',
    );
    // Off by default: a new mailbox is never read by surprise.
    assert.equal(await field('handlerEnabled').isChecked(), false);
    assert.deepEqual(await field('acknowledgeWith').locator('option').allTextContents(), [
      "Don't acknowledge",
      'Other outbox',
      'Support outbox',
    ]);
    assert.equal(await field('errorFolder').isVisible(), true);
    assert.equal(await field('processedFolder').isVisible(), false);
    await field('processedAction').selectOption('move');
    assert.equal(await field('processedFolder').isVisible(), true);

    await page.getByTestId('protocol-smtp').check();
    assert.equal(await section().isVisible(), false);
    await page.getByTestId('protocol-pop3').check();
    assert.equal(await section().isVisible(), true);
    assert.equal(await field('errorFolder').isVisible(), false);
    // POP3 has no folders: moving is not offered, and the choice went back to "read".
    assert.equal(await field('processedAction').inputValue(), 'seen');
    assert.equal(await field('processedAction').locator('option[value="move"]').isDisabled(), true);
    assert.equal(await field('processedFolder').isVisible(), false);
    await page.getByTestId('protocol-imap').check();
    assert.equal(await field('errorFolder').isVisible(), true);
  });

  it('stores what is set: MiB as bytes, the prefix upper-cased, the chosen SMTP server', async () => {
    // The API's error appears next to its field first.
    await field('issueKeyPrefix').fill('1AB');
    await page.getByTestId('mail-server-save').click();
    await page.getByTestId('error-issueKeyPrefix').waitFor();
    assert.match(await shownText(page.getByTestId('error-issueKeyPrefix')), /field_invalid$/);
    assert.equal(await field('issueKeyPrefix').getAttribute('aria-invalid'), 'true');
    await field('issueKeyPrefix').fill('help');
    await field('maxMessageMiB').fill('200');
    await page.getByTestId('mail-server-save').click();
    await page.getByTestId('error-maxMessageMiB').waitFor();
    assert.match(
      await shownText(page.getByTestId('error-maxMessageMiB')),
      /maxMessageBytes.*field_invalid$/,
    );

    await field('handlerEnabled').check();
    await field('maxMessageMiB').fill('10');
    await field('defaultReporter').fill('postmaster@example.test');
    await field('acknowledgeWith').selectOption({ label: 'Support outbox' });
    await field('pollIntervalSeconds').fill('60');
    await field('processedAction').selectOption('move');
    await field('processedFolder').fill('Support/Done');
    await field('errorFolder').fill('Support/Failed');
    await capture(page, 'en-mail-server-dialog-handler');
    await loadAfter(page, () => page.getByTestId('mail-server-save').click());
    assert.equal(
      await flashText(page, 'success'),
      'The mail server was added. Test it to see each step.',
    );
    assert.deepEqual(handlerOf(await stored('Support inbox')), {
      handlerEnabled: true,
      issueKeyPrefix: 'HELP',
      defaultReporter: 'postmaster@example.test',
      maxMessageBytes: 10 * 1024 * 1024,
      acknowledgeWith: outbox.id,
      errorFolder: 'Support/Failed',
      pollIntervalSeconds: 60,
      processedAction: 'move',
      processedFolder: 'Support/Done',
    });
  });

  it('edits: loads what is stored, and saves only what changed', async () => {
    const before = await stored('Support inbox');
    await row('Support inbox').getByTestId('edit-mail-server').click();
    await page.getByTestId('mail-server-dialog').waitFor();
    assert.equal(await field('handlerEnabled').isChecked(), true);
    assert.equal(await field('issueKeyPrefix').inputValue(), 'HELP');
    assert.equal(await field('maxMessageMiB').inputValue(), '10');
    assert.equal(await field('acknowledgeWith').inputValue(), outbox.id);
    assert.equal(await field('processedFolder').inputValue(), 'Support/Done');
    assert.equal(await field('errorFolder').inputValue(), 'Support/Failed');

    // Nothing changed: nothing is sent, and the dialog just closes.
    await page.getByTestId('mail-server-save').click();
    assert.equal(await page.getByTestId('mail-server-dialog').isVisible(), false);
    assert.equal((await stored('Support inbox')).updatedAt, before.updatedAt);

    await row('Support inbox').getByTestId('edit-mail-server').click();
    await page.getByTestId('mail-server-dialog').waitFor();
    await field('handlerEnabled').uncheck();
    await field('maxMessageMiB').fill('0.5');
    await field('acknowledgeWith').selectOption({ label: 'Other outbox' });
    await field('errorFolder').fill('');
    await field('processedAction').selectOption('seen');
    await loadAfter(page, () => page.getByTestId('mail-server-save').click());
    assert.equal(await flashText(page, 'success'), 'The mail server was saved.');
    const after = await stored('Support inbox');
    assert.deepEqual(handlerOf(after), {
      ...handlerOf(before),
      handlerEnabled: false,
      maxMessageBytes: 512 * 1024,
      acknowledgeWith: otherOutbox.id,
      errorFolder: null,
      processedAction: 'seen',
      processedFolder: null,
    });
    const [event] = await served.outlink.services.store.db
      .selectFrom('events')
      .select('data')
      .where('mail_server_id', '=', after.id)
      .where('type', '=', 'mail_server.updated')
      .execute();
    assert.deepEqual((JSON.parse(event!.data) as { changed: string[] }).changed.sort(), [
      'acknowledgeWith',
      'errorFolder',
      'handlerEnabled',
      'maxMessageBytes',
      'processedAction',
    ]);
  });

  it('refuses to delete the SMTP server that acknowledges, saying which servers use it', async () => {
    await row('Other outbox').getByTestId('delete-mail-server').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await page.getByTestId('confirm-ok').click();
    assert.equal(
      await flashText(page, 'error'),
      'The mail server is used by mail servers to acknowledge new issues: Support inbox. Change the acknowledgement of those mail servers first (another outgoing mail server, or none).',
    );
    assert.equal(await row('Other outbox').count(), 1);
  });

  it('speaks Japanese, and stores what is set there too', async () => {
    await page.goto(`${base}/admin/mail-servers?lang=ja`);
    await startCreate('pop3', 'POP3 受信箱');
    assert.equal(await shownText(section().locator('legend')), 'メール ハンドラー');
    assert.equal(
      await shownText(section().locator('label[for="handlerEnabled"]')),
      'このメールボックスから課題を作成する',
    );
    assert.equal(
      await shownText(page.locator('#handlerEnabled-help')),
      'オフの場合、メールボックスには手を付けません (一時停止)。メッセージの読み取り、既読化、移動は行いません。新しいメール サーバーではオフになっているため、オンにするまでメールボックスは変わりません。',
    );
    assert.equal(await shownText(field('acknowledgeWith').locator('option:checked')), '通知しない');
    assert.equal(await shownText(page.locator('label[for="maxMessageMiB"]')), 'サイズの上限 (MiB)');
    await field('handlerEnabled').check();
    await field('issueKeyPrefix').fill('pop');
    await field('maxMessageMiB').fill('1');
    await field('acknowledgeWith').selectOption({ label: 'Support outbox' });
    await field('processedAction').selectOption('delete');
    await capture(page, 'ja-mail-server-dialog-handler');
    await loadAfter(page, () => page.getByTestId('mail-server-save').click());
    assert.equal(
      await flashText(page, 'success'),
      'メール サーバーを追加しました。テストで各ステップを確認してください。',
    );
    assert.deepEqual(handlerOf(await stored('POP3 受信箱')), {
      handlerEnabled: true,
      issueKeyPrefix: 'POP',
      defaultReporter: null,
      maxMessageBytes: 1024 * 1024,
      acknowledgeWith: outbox.id,
      errorFolder: null,
      pollIntervalSeconds: 300,
      processedAction: 'delete',
      processedFolder: null,
    });
    await page.goto(`${base}/admin/mail-servers?lang=en`);
  });

  it('had no script errors and no Content-Security-Policy violations', () => {
    assert.deepEqual(watch.problems, []);
  });
});
