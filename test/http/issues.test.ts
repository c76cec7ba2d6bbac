import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';
import { type SeededIssue, seedIssue } from '../support/issues.js';

/**
 * The issue routes (DESIGN §8, issue 10 item 8): the list with search and paging, an issue in
 * full, attachments as downloads that never run, and every bad input answered with its
 * exact status and catalog code.
 */

interface ErrorJson {
  error: { code: string; message: string; remedy?: string; field?: string };
}
interface Summary {
  key: string;
  summary: string;
  reporter: { address: string; name: string };
  createdAt: string;
  updatedAt: string;
  commentCount: number;
  attachmentCount: number;
}

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const HANA = { address: 'hana@example.jp', name: '山田 花子' };
const BEN = { address: 'ben@example.test', name: 'Ben "The Sender" O\'Neil' };

/** 2026-03-01 plus `n` minutes. */
const at = (n: number) => new Date(Date.UTC(2026, 2, 1, 0, n)).toISOString();

for (const dialect of Dialects) {
  describe(`issues API on ${dialect}`, () => {
    let outlink: TestOutlink;
    let mailServerId: string;
    let first: SeededIssue;
    let plain: SeededIssue;
    const errorOf = (res: LightMyRequestResponse) => (res.json() as ErrorJson).error;
    const get = async (url: string, headers?: Record<string, string>) =>
      outlink.app.inject({
        method: 'GET',
        url,
        headers: headers ?? (await outlink.tokenHeaders()),
      });

    before(async () => {
      outlink = await startOutlink(dialect, { env: { OUTLINK_LOG_LEVEL: 'warn' } });
      const created = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/mail-servers',
        headers: await outlink.adminHeaders(),
        payload: {
          name: 'Support inbox',
          protocol: 'imap',
          host: 'mail.example.test',
          username: 'support@example.test',
          authentication: { method: 'password', password: 'a mail password' },
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      mailServerId = (created.json() as { id: string }).id;
      const db = outlink.services.store.db;
      first = await seedIssue(db, {
        key: 'MAIL-1',
        summary: 'プリンターが動きません',
        description:
          '3階のプリンターが紙詰まりです。\n\n> not a quote, kept as text\nhttps://example.test/x',
        reporter: HANA,
        createdAt: at(0),
        mailServerId,
        messageId: 'first@mail.example.jp',
        attachments: [
          {
            filename: '写真 "1".png',
            contentType: 'image/png',
            content: Buffer.from([137, 80, 78, 71]),
          },
        ],
        comments: [
          {
            author: BEN,
            body: 'Have you tried turning it off and on?',
            createdAt: at(10),
            messageId: 'reply-1@mail.example.test',
            attachments: [
              {
                filename: 'page.html',
                contentType: 'text/html',
                content: Buffer.from('<script>alert(1)</script>'),
              },
            ],
          },
          { author: HANA, body: 'はい、直りました。', createdAt: at(20), messageId: null },
        ],
      });
      plain = await seedIssue(db, {
        key: 'SUPPORT_JP-7',
        summary: '100% discount_code not applied',
        description: '',
        reporter: { address: 'ben@example.test', name: '' },
        createdAt: at(1),
        mailServerId: null,
        messageId: null,
      });
      for (let i = 2; i <= 5; i++) {
        await seedIssue(db, {
          key: `MAIL-${i}`,
          summary: `Question ${i}`,
          description: `Body of question ${i}`,
          reporter: i % 2 ? HANA : BEN,
          createdAt: at(i),
        });
      }
    });
    after(() => outlink?.close());

    describe('GET /api/v1/issues', () => {
      it('lists the issues newest first, with reporter and counts', async () => {
        const res = await get('/api/v1/issues');
        assert.equal(res.statusCode, 200, res.body);
        const { items, nextCursor } = res.json() as { items: Summary[]; nextCursor?: string };
        assert.equal(nextCursor, undefined);
        assert.deepEqual(
          items.map((i) => i.key),
          ['MAIL-5', 'MAIL-4', 'MAIL-3', 'MAIL-2', 'SUPPORT_JP-7', 'MAIL-1'],
        );
        assert.deepEqual(items.at(-1), {
          key: 'MAIL-1',
          summary: 'プリンターが動きません',
          reporter: HANA,
          createdAt: at(0),
          updatedAt: at(20),
          commentCount: 2,
          attachmentCount: 2,
        });
        assert.deepEqual(items[4], {
          key: 'SUPPORT_JP-7',
          summary: '100% discount_code not applied',
          reporter: { address: 'ben@example.test', name: '' },
          createdAt: at(1),
          updatedAt: at(1),
          commentCount: 0,
          attachmentCount: 0,
        });
      });

      it('pages with limit and nextCursor, each issue once', async () => {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const res = await get(
            `/api/v1/issues?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          );
          assert.equal(res.statusCode, 200, res.body);
          const page = res.json() as { items: Summary[]; nextCursor?: string };
          seen.push(...page.items.map((i) => i.key));
          cursor = page.nextCursor;
          pages++;
        } while (cursor);
        assert.equal(pages, 2);
        assert.deepEqual(seen, ['MAIL-5', 'MAIL-4', 'MAIL-3', 'MAIL-2', 'SUPPORT_JP-7', 'MAIL-1']);
      });

      it('finds by text in key, summary, description and reporter name, and by reporter', async () => {
        const keys = async (qs: string) => {
          const res = await get(`/api/v1/issues?${qs}`);
          assert.equal(res.statusCode, 200, `${qs}: ${res.body}`);
          return (res.json() as { items: Summary[] }).items.map((i) => i.key);
        };
        assert.deepEqual(await keys(`q=${encodeURIComponent('プリンター')}`), ['MAIL-1']);
        assert.deepEqual(await keys(`q=${encodeURIComponent('紙詰まり')}`), ['MAIL-1']);
        assert.deepEqual(await keys('q=QUESTION%204'), ['MAIL-4']);
        assert.deepEqual(await keys('q=support_jp'), ['SUPPORT_JP-7']);
        assert.deepEqual(await keys(`q=${encodeURIComponent('山田')}`), [
          'MAIL-5',
          'MAIL-3',
          'MAIL-1',
        ]);
        // LIKE's wildcards are searched for as text.
        assert.deepEqual(await keys('q=100%25'), ['SUPPORT_JP-7']);
        assert.deepEqual(await keys('q=_'), ['SUPPORT_JP-7']);
        assert.deepEqual(await keys('q=%25'), ['SUPPORT_JP-7']);
        assert.deepEqual(await keys('q=nothing-like-this'), []);
        assert.deepEqual(await keys('reporter=HANA%40example.jp'), ['MAIL-5', 'MAIL-3', 'MAIL-1']);
        assert.deepEqual(await keys('reporter=ben%40example.test&q=question'), [
          'MAIL-4',
          'MAIL-2',
        ]);
        assert.deepEqual(await keys('reporter=nobody%40example.test'), []);
        // An empty search (a form's empty field) filters nothing.
        assert.equal((await keys('q=&reporter=')).length, 6);
        assert.deepEqual(await keys(`q=${'x'.repeat(200)}`), []);
      });
    });

    describe('GET /api/v1/issues/:key', () => {
      it('shows an issue with its comments in order, attachments and source', async () => {
        const res = await get('/api/v1/issues/MAIL-1');
        assert.equal(res.statusCode, 200, res.body);
        const [comment1, comment2] = first.comments;
        assert.deepEqual(res.json(), {
          key: 'MAIL-1',
          summary: 'プリンターが動きません',
          description:
            '3階のプリンターが紙詰まりです。\n\n> not a quote, kept as text\nhttps://example.test/x',
          reporter: HANA,
          createdAt: at(0),
          updatedAt: at(20),
          comments: [
            {
              id: comment1?.id,
              author: BEN,
              body: 'Have you tried turning it off and on?',
              createdAt: at(10),
              messageId: 'reply-1@mail.example.test',
            },
            {
              id: comment2?.id,
              author: HANA,
              body: 'はい、直りました。',
              createdAt: at(20),
              messageId: null,
            },
          ],
          attachments: [
            {
              id: first.attachmentIds[0],
              filename: '写真 "1".png',
              contentType: 'image/png',
              size: 4,
              commentId: null,
            },
            {
              id: comment1?.attachmentIds[0],
              filename: 'page.html',
              contentType: 'text/html',
              size: 25,
              commentId: comment1?.id,
            },
          ],
          source: {
            mailServerId,
            mailServerName: 'Support inbox',
            messageId: 'first@mail.example.jp',
          },
        });
      });

      it('finds a key in any case; an issue without a mail server has no name', async () => {
        const res = await get('/api/v1/issues/support_jp-7');
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as {
          key: string;
          source: unknown;
          comments: [];
          description: string;
        };
        assert.equal(body.key, 'SUPPORT_JP-7');
        assert.deepEqual(body.source, { mailServerId: null, messageId: null });
        assert.deepEqual(body.comments, []);
        assert.equal(body.description, '');
        assert.equal(plain.key, 'SUPPORT_JP-7');
      });

      it('answers 404 issue_not_found for an unknown key, in the language asked for', async () => {
        const res = await get('/api/v1/issues/MAIL-999');
        assert.equal(res.statusCode, 404);
        assert.deepEqual(errorOf(res), {
          code: 'issue_not_found',
          message: 'There is no issue MAIL-999.',
          remedy: 'Check the key (for example MAIL-12) in the issue list.',
        });
        const ja = await get('/api/v1/issues/MAIL-999', {
          ...(await outlink.tokenHeaders()),
          'accept-language': 'ja',
        });
        assert.equal(errorOf(ja).message, '課題 MAIL-999 はありません。');
      });
    });

    describe('GET /api/v1/issues/:key/attachments/:id', () => {
      it('sends the bytes as a download that the browser must not render or sniff', async () => {
        const id = first.comments[0]?.attachmentIds[0];
        const res = await get(`/api/v1/issues/MAIL-1/attachments/${id}`);
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.body, '<script>alert(1)</script>');
        assert.equal(res.headers['content-type'], 'application/octet-stream');
        assert.equal(
          res.headers['content-disposition'],
          `attachment; filename="page.html"; filename*=UTF-8''page.html`,
        );
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
        assert.equal(res.headers['content-security-policy'], "default-src 'none'; sandbox");
        assert.equal(res.headers['cache-control'], 'private, no-store');
        assert.equal(res.headers['content-length'], '25');
      });

      it('names a non-ASCII file with an ASCII fallback and its UTF-8 name (RFC 6266)', async () => {
        const res = await get(`/api/v1/issues/mail-1/attachments/${first.attachmentIds[0]}`);
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual([...res.rawPayload], [137, 80, 78, 71]);
        assert.equal(res.headers['content-type'], 'application/octet-stream');
        assert.equal(
          res.headers['content-disposition'],
          `attachment; filename="__ _1_.png"; filename*=UTF-8''%E5%86%99%E7%9C%9F%20%221%22.png`,
        );
      });

      it('answers 404 for an attachment of another issue or none, and for an unknown issue', async () => {
        const other = await get(`/api/v1/issues/MAIL-2/attachments/${first.attachmentIds[0]}`);
        assert.equal(other.statusCode, 404);
        assert.deepEqual(errorOf(other), {
          code: 'attachment_not_found',
          message: `Issue MAIL-2 has no attachment ${first.attachmentIds[0]}.`,
          remedy: 'Open the issue to see the attachments it has.',
        });
        const none = await get(`/api/v1/issues/MAIL-1/attachments/${UNKNOWN_ID}`);
        assert.equal(none.statusCode, 404);
        assert.equal(errorOf(none).code, 'attachment_not_found');
        const noIssue = await get(`/api/v1/issues/MAIL-404/attachments/${first.attachmentIds[0]}`);
        assert.equal(noIssue.statusCode, 404);
        assert.equal(errorOf(noIssue).code, 'issue_not_found');
        assert.equal(none.headers['content-type'], 'application/json; charset=utf-8');
      });
    });

    describe('bad input', () => {
      const cases: [string, string, number, string, string | null][] = [];
      const add = (
        label: string,
        url: string,
        status: number,
        code: string,
        field: string | null,
      ) => cases.push([label, url, status, code, field]);
      for (const [label, key] of [
        ['number 0', 'MAIL-0'],
        ['leading zero', 'MAIL-01'],
        ['no number', 'MAIL-'],
        ['no dash', 'MAIL12'],
        ['prefix with a digit first', '1MAIL-1'],
        ['two numbers', 'MAIL-1-2'],
        ['a dash in the prefix', 'MA-IL-1'],
        ['a space', 'MAIL%20-1'],
        ['a quote', 'MAIL%22-1'],
        ['a script', '%3Cscript%3E-1'],
        ['non-ASCII prefix', '%E8%AA%B2%E9%A1%8C-1'],
        ['negative', 'MAIL--1'],
      ] as const) {
        add(`key ${label}`, `/api/v1/issues/${key}`, 422, 'field_invalid', 'key');
        add(
          `attachment key ${label}`,
          `/api/v1/issues/${key}/attachments/${UNKNOWN_ID}`,
          422,
          'field_invalid',
          'key',
        );
      }
      add('prefix of 11', '/api/v1/issues/ABCDEFGHIJK-1', 422, 'field_invalid', 'key');
      add('number of 11 digits', '/api/v1/issues/MAIL-12345678901', 422, 'field_invalid', 'key');
      add('key too long', `/api/v1/issues/MAIL-${'1'.repeat(40)}`, 422, 'field_too_long', 'key');
      add('key a uuid', `/api/v1/issues/${UNKNOWN_ID}`, 422, 'field_too_long', 'key');
      add(
        'attachment id not a uuid',
        '/api/v1/issues/MAIL-1/attachments/1',
        422,
        'field_invalid',
        'id',
      );
      add(
        'attachment id too long',
        `/api/v1/issues/MAIL-1/attachments/${UNKNOWN_ID}0`,
        422,
        'field_too_long',
        'id',
      );
      const list = '/api/v1/issues';
      add('q too long', `${list}?q=${'x'.repeat(201)}`, 422, 'field_too_long', 'q');
      add('q repeated', `${list}?q=a&q=b`, 422, 'field_type', 'q');
      add(
        'reporter too long',
        `${list}?reporter=${'x'.repeat(321)}`,
        422,
        'field_too_long',
        'reporter',
      );
      add('cursor not issued here', `${list}?cursor=not-a-cursor`, 422, 'field_invalid', 'cursor');
      add(
        'cursor of another list',
        `${list}?cursor=${Buffer.from('42').toString('base64url')}`,
        422,
        'field_invalid',
        'cursor',
      );
      add('cursor too long', `${list}?cursor=${'a'.repeat(513)}`, 422, 'field_too_long', 'cursor');
      add('limit 0', `${list}?limit=0`, 422, 'field_invalid', 'limit');
      add('limit 201', `${list}?limit=201`, 422, 'field_invalid', 'limit');
      add('limit not a number', `${list}?limit=ten`, 422, 'field_type', 'limit');
      add('unknown parameter', `${list}?status=open`, 422, 'unknown_field', 'status');

      it('answers each with its status, code and field', async () => {
        const headers = await outlink.tokenHeaders();
        for (const [label, url, status, code, field] of cases) {
          const res = await get(url, headers);
          assert.equal(res.statusCode, status, `${label}: ${res.statusCode} ${res.body}`);
          const error = errorOf(res);
          assert.equal(error.code, code, `${label}: ${res.body}`);
          assert.equal(error.field ?? null, field, `${label}: ${res.body}`);
          assert.ok(error.message.length > 0, label);
        }
      });

      it('is for administrators: 401 without credentials, 403 for a token:read token', async () => {
        const reader = await outlink.app.inject({
          method: 'POST',
          url: '/api/v1/api-tokens',
          headers: await outlink.adminHeaders(),
          payload: { name: 'reader', scopes: ['token:read'] },
        });
        assert.equal(reader.statusCode, 201, reader.body);
        const readerHeaders = {
          authorization: `Bearer ${(reader.json() as { token: string }).token}`,
        };
        for (const url of [
          '/api/v1/issues',
          '/api/v1/issues/MAIL-1',
          `/api/v1/issues/MAIL-1/attachments/${first.attachmentIds[0]}`,
        ]) {
          const anonymous = await get(url, {});
          assert.equal(anonymous.statusCode, 401, url);
          assert.equal(errorOf(anonymous).code, 'not_authenticated', url);
          const forbidden = await get(url, readerHeaders);
          assert.equal(forbidden.statusCode, 403, url);
          assert.equal(errorOf(forbidden).code, 'forbidden', url);
          assert.doesNotMatch(forbidden.body, /プリンター|PNG|script/, url);
          const cookie = await get(url, await outlink.adminHeaders());
          assert.equal(cookie.statusCode, 200, url);
        }
      });
    });

    it('documents the routes in the OpenAPI document', async () => {
      const res = await outlink.app.inject({ method: 'GET', url: '/api/docs' });
      assert.equal(res.statusCode, 200, res.body.slice(0, 200));
      const doc = res.json() as { paths: Record<string, Record<string, unknown>> };
      for (const path of [
        '/api/v1/issues',
        '/api/v1/issues/{key}',
        '/api/v1/issues/{key}/attachments/{id}',
      ]) {
        assert.ok(doc.paths[path]?.get, path);
      }
      const download = doc.paths['/api/v1/issues/{key}/attachments/{id}']?.get as {
        responses: Record<string, { content?: Record<string, unknown> }>;
      };
      assert.deepEqual(Object.keys(download.responses['200']?.content ?? {}), [
        'application/octet-stream',
      ]);
    });
  });
}
