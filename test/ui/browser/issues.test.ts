import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { type LaunchedBrowser, launchBrowser } from '../../peers/chromium.js';
import { hostileIssue, PAYLOADS, type SeededIssue, seedIssue } from '../../support/issues.js';
import {
  capture,
  DESKTOP,
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
 * The issues pages in Chromium (issue 10 item 8, "Tests"): an issue whose summary,
 * description, comment, names and attachment names carry HTML and script shows all of it as
 * the very characters the sender typed, on the list and on the issue; nothing of it runs
 * (no script, no handler, no dialog, no CSP report), a URL in it is no link, and an
 * attachment — an HTML file — downloads with the headers that keep it from ever rendering.
 */

/** Whether anything a sender wrote ran, or became an element, in the page. */
const PWNED = `(() => ({
  flag: typeof window.__pwned,
  elements: document.querySelectorAll('main img, main svg, main script, main iframe').length,
  handlers: [...document.querySelectorAll('main *')].filter((el) =>
    [...el.attributes].some((a) => a.name.startsWith('on'))).length,
  outsideLinks: [...document.querySelectorAll('main a[href]')].filter((a) =>
    new URL(a.href).origin !== location.origin).length,
}))()`;
const CLEAN = { flag: 'undefined', elements: 0, handlers: 0, outsideLinks: 0 };

describe('the issues pages in Chromium', { timeout: SUITE_TIMEOUT_MS }, () => {
  let served: ServedOutlink;
  let base: string;
  let chromium: LaunchedBrowser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;
  let issue: SeededIssue;
  const dialogs: string[] = [];
  const { script, img, svg, url } = PAYLOADS;
  const summary = `Printer ${script} ${img}`;

  before(async () => {
    served = await serveOutlink();
    base = served.base;
    const created = await served.outlink.app.inject({
      method: 'POST',
      url: '/api/v1/mail-servers',
      headers: await served.outlink.adminHeaders(),
      payload: {
        name: 'Support inbox',
        protocol: 'imap',
        host: 'mail.example.test',
        username: 'support@example.test',
        authentication: { method: 'password', password: 'a mail password' },
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const mailServerId = (created.json() as { id: string }).id;
    const db = served.outlink.services.store.db;
    await seedIssue(db, {
      key: 'MAIL-1',
      summary: 'An earlier question',
      description: 'Nothing special.',
      reporter: { address: 'hana@example.jp', name: '山田 花子' },
      createdAt: '2026-03-01T00:00:00.000Z',
    });
    issue = await seedIssue(db, hostileIssue('MAIL-2', '2026-03-02T00:00:00.000Z', mailServerId));
    chromium = await launchBrowser({ trustCertificates: [served.certPem ?? ''] });
    context = await chromium.browser.newContext({
      viewport: DESKTOP,
      locale: 'en-US',
      acceptDownloads: true,
    });
    context.setDefaultTimeout(15_000);
    watch = await watchContext(context);
    context.on('page', (p) => {
      p.on('dialog', (dialog) => {
        dialogs.push(`${dialog.type()}: ${dialog.message()}`);
        void dialog.dismiss();
      });
    });
    page = await context.newPage();
    await signIn(page, base);
  });

  after(async () => {
    await chromium?.close();
    await served?.close();
  });

  it('lists the issue with its summary and reporter as text, from the navigation', async () => {
    await loadAfter(page, () => page.getByTestId('nav-issues').click());
    assert.equal(new URL(page.url()).pathname, '/admin/issues');
    const rows = page.getByTestId('issue-row');
    assert.equal(await rows.count(), 2);
    const row = rows.first();
    assert.equal(await row.getAttribute('data-issue-key'), 'MAIL-2');
    assert.equal(await shownText(row.getByTestId('issue-summary')), summary);
    assert.equal(
      await shownText(row.getByTestId('issue-reporter')),
      `${svg} Mallory <mallory@example.test>`,
    );
    assert.equal(await shownText(row.getByTestId('issue-comment-count')), '1');
    assert.deepEqual(await page.evaluate(PWNED), CLEAN);
    await capture(page, 'en-issues');
  });

  it('searches by text and by reporter', async () => {
    await page.getByTestId('issues-q').fill('<script>');
    await loadAfter(page, () => page.getByTestId('issues-apply').click());
    assert.deepEqual(
      await page
        .getByTestId('issue-row')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-issue-key'))),
      ['MAIL-2'],
    );
    assert.equal(await page.getByTestId('issues-q').inputValue(), '<script>');
    await loadAfter(page, () => page.getByTestId('issues-clear').click());
    await page.getByTestId('issues-reporter').fill('hana@example.jp');
    await loadAfter(page, () => page.getByTestId('issues-apply').click());
    assert.deepEqual(
      await page
        .getByTestId('issue-row')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-issue-key'))),
      ['MAIL-1'],
    );
    assert.deepEqual(await page.evaluate(PWNED), CLEAN);
  });

  it('shows the issue: every sender text as typed, preformatted, nothing run', async () => {
    await page.goto(`${base}/admin/issues`);
    await loadAfter(page, () => page.getByTestId('issue-summary').first().click());
    assert.equal(new URL(page.url()).pathname, '/admin/issues/MAIL-2');
    assert.equal(await page.title(), `MAIL-2 ${summary} — Outlink`);
    assert.equal(await shownText(page.getByTestId('issue-summary')), summary);
    const description = page.getByTestId('issue-description');
    assert.equal(
      await description.textContent(),
      `Line one ${svg}\n\n  indented ${script}\nSee ${url}\n${img}`,
    );
    assert.equal(
      await page.evaluate<string>(
        `getComputedStyle(document.querySelector('[data-testid="issue-description"]')).whiteSpace`,
      ),
      'pre-wrap',
    );
    const comment = page.getByTestId('issue-comment');
    assert.equal(await comment.count(), 1);
    assert.equal(
      await comment.getByTestId('comment-body').textContent(),
      `${img}\n${script}\n${url}`,
    );
    assert.equal(
      await shownText(comment.getByTestId('comment-author')),
      `<b>Eve</b> ${img} <eve@example.test>`,
    );
    assert.equal(
      await shownText(page.getByTestId('issue-reporter')),
      `${svg} Mallory <mallory@example.test>`,
    );
    assert.equal(await shownText(page.getByTestId('issue-source')), 'Support inbox');
    assert.deepEqual(await page.getByTestId('attachment-name').allTextContents(), [
      `${svg}.html`,
      `${img}.txt`,
    ]);
    assert.deepEqual(await page.evaluate(PWNED), CLEAN);
    await capture(page, 'en-issue');
  });

  it('downloads an attachment instead of showing it, with headers that keep it inert', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('attachment-link').first().click(),
    ]);
    assert.equal(new URL(page.url()).pathname, '/admin/issues/MAIL-2');
    assert.equal(
      readFileSync(await download.path()).toString('utf8'),
      `<!doctype html>${script}${img}`,
    );
    // Chromium makes its own safe name of what the header offered; the extension stays.
    assert.match(download.suggestedFilename(), /svg onload=alert\(3\)_?\.html$/);

    const href = await page.getByTestId('attachment-link').first().getAttribute('href');
    assert.equal(href, `/api/v1/issues/MAIL-2/attachments/${issue.attachmentIds[0]}`);
    const headers = await page.evaluate<Record<string, string | number | null>>(`(async () => {
      const res = await fetch(${JSON.stringify(href)});
      const h = (name) => res.headers.get(name);
      return {
        status: res.status,
        type: h('content-type'),
        disposition: h('content-disposition'),
        nosniff: h('x-content-type-options'),
        csp: h('content-security-policy'),
        cache: h('cache-control'),
        body: await res.text(),
      };
    })()`);
    assert.deepEqual(headers, {
      status: 200,
      type: 'application/octet-stream',
      disposition: `attachment; filename="_><svg onload=alert(3)>.html"; filename*=UTF-8''%22%3E%3Csvg%20onload%3Dalert%283%29%3E.html`,
      nosniff: 'nosniff',
      csp: "default-src 'none'; sandbox",
      cache: 'private, no-store',
      body: `<!doctype html>${script}${img}`,
    });
    assert.deepEqual(await page.evaluate(PWNED), CLEAN);
  });

  it('shows the issue in Japanese', async () => {
    await page.goto(`${base}/admin/issues/MAIL-2?lang=ja`);
    assert.deepEqual(await page.locator('main h2').allTextContents(), ['説明', 'コメント (1)']);
    assert.equal(await shownText(page.getByTestId('nav-issues')), '課題');
    const labels = await page.locator('[data-testid="issue-facts"] dt').allTextContents();
    assert.deepEqual(labels, ['報告者', '作成日時', '最終更新', 'メール サーバー', 'Message-ID']);
    assert.equal(
      await shownText(page.getByTestId('issue-attachments').locator('h3')),
      '添付ファイル',
    );
    assert.deepEqual(await page.evaluate(PWNED), CLEAN);
    await capture(page, 'ja-issue');
    await page.goto(`${base}/admin/issues?lang=en`);
  });

  it('ran nothing a sender wrote: no dialog, no page error, no CSP report', () => {
    assert.deepEqual(dialogs, []);
    assert.deepEqual(watch.problems, []);
    assert.deepEqual(watch.apiErrors, []);
  });
});
