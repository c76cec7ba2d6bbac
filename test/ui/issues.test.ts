import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { escapeHtml } from '../../src/ui/html.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';
import { hostileIssue, PAYLOADS, type SeededIssue, seedIssue } from '../support/issues.js';

/**
 * The issues pages (DESIGN §8 UI routes, issue 10 item 8) as the server renders them: the
 * list with search and paging, an issue with its comments and attachments, in English and
 * Japanese, under the CSP — and everything a sender wrote escaped, as text.
 */

/** Catalog keys that leaked into a page untranslated, e.g. `ui.issues.title`. */
const rawKeys = (body: string) =>
  body.match(/\b(ui|errors|warnings|providerErrors|callback)\.[a-zA-Z_]+\.[\w.]+/g) ?? [];

/** What every page must satisfy: HTML in the language, catalog texts only, CSP, no inline code. */
function assertPage(res: LightMyRequestResponse, locale: 'en' | 'ja', where: string, status = 200) {
  assert.equal(res.statusCode, status, `${where}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/, where);
  assert.equal(res.headers['cache-control'], 'no-store', where);
  assert.match(res.body, new RegExp(`<html lang="${locale}">`), where);
  assert.deepEqual(rawKeys(res.body), [], `${where}: untranslated keys`);
  assert.doesNotMatch(res.body, /\{(count|key|name|time)\}/, `${where}: placeholder`);
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'/, where);
  assert.doesNotMatch(csp, /unsafe-inline/, where);
  assert.doesNotMatch(res.body, /<script(?![^>]*\ssrc=)[^>]*>/, `${where}: inline script`);
  assert.doesNotMatch(res.body, /\sstyle="/, `${where}: inline style`);
  assert.doesNotMatch(res.body, /<(img|svg)\b/i, `${where}: markup from a sender`);
  // Attribute values emptied first: an escaped " onload=" inside value="…" is text.
  const tags = res.body.replace(/"[^"]*"/g, '""');
  assert.doesNotMatch(tags, /<[a-z][^>]*\son[a-z]+=/i, `${where}: an event handler attribute`);
}

/** The element with `data-testid="<testid>"` and what follows up to its closing tag. */
function byTestId(body: string, testid: string, tag = 'div'): string {
  const start = body.indexOf(`data-testid="${testid}"`);
  assert.ok(start >= 0, `no ${testid}`);
  const from = body.lastIndexOf(`<${tag}`, start);
  return body.slice(from, body.indexOf(`</${tag}>`, start) + tag.length + 3);
}

/** 2026-03-01 plus `n` minutes. */
const at = (n: number) => new Date(Date.UTC(2026, 2, 1, 0, n)).toISOString();

for (const dialect of Dialects) {
  describe(`the issues pages on ${dialect}`, () => {
    let outlink: TestOutlink;
    let hostile: SeededIssue;
    let mailServerId: string;
    const page = async (url: string, locale: 'en' | 'ja' = 'en') =>
      outlink.app.inject({
        method: 'GET',
        url,
        headers: { cookie: (await outlink.adminHeaders()).cookie!, 'accept-language': locale },
      });

    before(async () => {
      outlink = await startOutlink(dialect, { env: { OUTLINK_LOG_LEVEL: 'warn' } });
    });
    after(() => outlink?.close());

    it('sends a signed-out browser to the login page and back', async () => {
      for (const url of ['/admin/issues', '/admin/issues/MAIL-1']) {
        const res = await outlink.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 302, url);
        assert.equal(res.headers.location, `/login?next=${encodeURIComponent(url)}`);
      }
    });

    it('shows an empty list with what makes issues, and the navigation entry in both languages', async () => {
      for (const locale of ['en', 'ja'] as const) {
        const res = await page('/admin/issues', locale);
        assertPage(res, locale, `${locale} empty list`);
        const nav = locale === 'en' ? 'Issues' : '課題';
        assert.match(
          res.body,
          new RegExp(
            `<a href="/admin/issues" data-testid="nav-issues" aria-current="page">${nav}</a>`,
          ),
        );
        assert.match(res.body, /data-testid="issues-empty"/);
        assert.match(res.body, locale === 'en' ? /No issues yet\./ : /課題はまだありません。/);
      }
      const links = await page('/admin/applinks', 'ja');
      assert.match(links.body, /<a href="\/admin\/issues" data-testid="nav-issues">課題<\/a>/);
    });

    it('lists issues with key, summary, reporter, times and comment count, sender text escaped', async () => {
      const created = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/mail-servers',
        headers: await outlink.adminHeaders(),
        payload: {
          name: 'Support <inbox>',
          protocol: 'imap',
          host: 'mail.example.test',
          username: 'support@example.test',
          authentication: { method: 'password', password: 'a mail password' },
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      mailServerId = (created.json() as { id: string }).id;
      hostile = await seedIssue(
        outlink.services.store.db,
        hostileIssue('MAIL-1', at(0), mailServerId),
      );
      for (let i = 2; i <= 55; i++) {
        await seedIssue(outlink.services.store.db, {
          key: `MAIL-${i}`,
          summary: i === 2 ? '' : `Question ${i}`,
          description: `Body ${i}`,
          reporter:
            i % 2
              ? { address: 'hana@example.jp', name: '山田 花子' }
              : { address: 'ben@example.test', name: '' },
          createdAt: at(i),
        });
      }
      for (const locale of ['en', 'ja'] as const) {
        const res = await page('/admin/issues', locale);
        assertPage(res, locale, `${locale} list`);
        const rows = res.body.split('data-testid="issue-row"').length - 1;
        assert.equal(rows, 50);
        assert.match(res.body, /data-testid="issues-older"/);
        assert.doesNotMatch(res.body, /data-testid="issues-newest"/);
      }
      const res = await page('/admin/issues');
      const row = byTestId(res.body, 'issue-row', 'tr');
      assert.match(row, /data-issue-key="MAIL-55"/);
      assert.match(
        row,
        /<a href="\/admin\/issues\/MAIL-55" data-testid="issue-key"><code>MAIL-55<\/code><\/a>/,
      );
      assert.match(row, /Question 55<\/a>/);
      assert.match(
        row,
        /<span class="person-name">山田 花子<\/span> <span class="person-address muted small">&lt;hana@example.jp&gt;<\/span>/,
      );
      assert.match(row, /href="\/admin\/issues\?reporter=hana%40example.jp"/);
      assert.match(row, /data-testid="issue-comment-count">0</);
    });

    it('pages to the oldest issue, keeping the search, and shows the hostile one as text', async () => {
      const first = await page('/admin/issues');
      const older = /href="([^"]+)" data-testid="issues-older"/.exec(first.body)?.[1];
      assert.ok(older);
      const second = await page(older.replace(/&amp;/g, '&'));
      assertPage(second, 'en', 'second page');
      assert.equal(second.body.split('data-testid="issue-row"').length - 1, 5);
      assert.match(second.body, /data-testid="issues-newest"/);
      assert.doesNotMatch(second.body, /data-testid="issues-older"/);
      const row = byTestId(
        second.body.slice(second.body.indexOf('data-issue-key="MAIL-1"') - 40),
        'issue-row',
        'tr',
      );
      assert.ok(row.includes(escapeHtml(`Printer ${PAYLOADS.script} ${PAYLOADS.img}`)), row);
      assert.ok(
        row.includes(`<span class="person-name">${escapeHtml(`${PAYLOADS.svg} Mallory`)}</span>`),
        row,
      );
      assert.match(row, /data-testid="issue-comment-count">1</);
      assert.match(row, /2 attachments/);
      // A mail without a subject still gets a link to follow.
      const empty = byTestId(
        second.body.slice(second.body.indexOf('data-issue-key="MAIL-2"') - 40),
        'issue-row',
        'tr',
      );
      assert.match(empty, /\(no subject\)<\/a>/);
      assert.match(empty, /<span class="person-address">ben@example.test<\/span>/);

      const searched = await page('/admin/issues?q=question&reporter=ben%40example.test');
      assertPage(searched, 'en', 'search');
      const keys = [...searched.body.matchAll(/data-issue-key="([^"]+)"/g)].map((m) => m[1]);
      assert.equal(keys.length, 26);
      assert.ok(keys.every((k) => Number(k?.slice(5)) % 2 === 0));
      assert.match(searched.body, /id="issues-q"[^>]*value="question"/);
      assert.match(searched.body, /value="ben@example.test"/);
      assert.match(searched.body, /data-testid="issues-clear"/);
      const none = await page(`/admin/issues?q=${encodeURIComponent(PAYLOADS.svg)}x`);
      assertPage(none, 'en', 'no match');
      assert.match(none.body, /data-testid="issues-no-match"/);
      assert.ok(none.body.includes(`value="${escapeHtml(`${PAYLOADS.svg}x`)}"`));
      // A stale cursor or an overlong search shows a page, not an error.
      const stale = await page('/admin/issues?cursor=not-a-cursor');
      assertPage(stale, 'en', 'stale cursor');
      assert.match(stale.body, /data-issue-key="MAIL-55"/);
      const long = await page(`/admin/issues?q=${'Question 5'.repeat(30)}`);
      assertPage(long, 'en', 'long search');
    });

    it('shows an issue: facts, description and comments as preformatted text, attachments as downloads', async () => {
      for (const locale of ['en', 'ja'] as const) {
        const res = await page('/admin/issues/mail-1', locale);
        assertPage(res, locale, `${locale} issue`);
        assert.match(
          res.body,
          /<a href="\/admin\/issues" data-testid="nav-issues" aria-current="page">/,
        );
      }
      const res = await page('/admin/issues/MAIL-1');
      const { script, img, svg, url } = PAYLOADS;
      assert.ok(
        res.body.includes(
          `<title>MAIL-1 ${escapeHtml(`Printer ${script} ${img}`)} — Outlink</title>`,
        ),
      );
      assert.ok(
        res.body.includes(
          `<div class="mail-text" data-testid="issue-description">${escapeHtml(
            `Line one ${svg}\n\n  indented ${script}\nSee ${url}\n${img}`,
          )}</div>`,
        ),
      );
      assert.ok(
        res.body.includes(
          `<div class="mail-text" data-testid="comment-body">${escapeHtml(`${img}\n${script}\n${url}`)}</div>`,
        ),
      );
      // A URL in the text stays text.
      assert.doesNotMatch(res.body, /href="https:\/\/evil/);
      const facts = byTestId(res.body, 'issue-facts', 'dl');
      assert.ok(facts.includes(escapeHtml(`${svg} Mallory`)));
      assert.ok(
        facts.includes(
          `<a href="/admin/mail-servers#mail-server-${mailServerId}">Support &lt;inbox&gt;</a>`,
        ),
      );
      assert.ok(facts.includes('<code>hostile@example.test</code>'));
      const [issueFile] = hostile.attachmentIds;
      const [commentFile] = hostile.comments[0]?.attachmentIds ?? [];
      const issueAttachments = byTestId(res.body, 'issue-attachments');
      assert.ok(
        issueAttachments.includes(
          `<a href="/api/v1/issues/MAIL-1/attachments/${issueFile}" download="" rel="noopener" data-testid="attachment-link"><span aria-hidden="true">📎 </span><span class="attachment-name" data-testid="attachment-name">${escapeHtml(`${svg}.html`)}</span>`,
        ),
        issueAttachments,
      );
      assert.match(issueAttachments, /95 bytes · <code>text\/html<\/code>/);
      const commentAttachments = byTestId(res.body, 'comment-attachments');
      assert.ok(commentAttachments.includes(`/attachments/${commentFile}"`));
      assert.ok(commentAttachments.includes(escapeHtml(`${img}.txt`)));
      const ja = await page('/admin/issues/MAIL-1', 'ja');
      for (const word of ['報告者', '説明', 'コメント', '添付ファイル', 'メール サーバー']) {
        assert.ok(ja.body.includes(word), word);
      }
    });

    it('says so when an issue has no description, comments or mail server', async () => {
      const res = await page('/admin/issues/MAIL-2');
      assertPage(res, 'en', 'plain issue');
      assert.match(res.body, /data-testid="issue-no-comments"/);
      assert.match(res.body, /data-testid="issue-source"><span class="muted">None<\/span>/);
      assert.doesNotMatch(res.body, /data-testid="issue-attachments"/);
    });

    it('answers an unknown or malformed key with the not-found page', async () => {
      for (const url of [
        '/admin/issues/MAIL-999',
        '/admin/issues/MAIL-0',
        `/admin/issues/${encodeURIComponent('<script>')}`,
        `/admin/issues/MAIL-${'1'.repeat(30)}`,
      ]) {
        const res = await page(url, 'ja');
        assertPage(res, 'ja', url, 404);
        assert.doesNotMatch(res.body, /&lt;script/);
      }
    });
  });
}
