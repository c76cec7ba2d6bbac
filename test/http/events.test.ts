import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createManualClock } from '../../src/domain/clock.js';
import { Dialects, googleLink, startOutlink, type TestOutlink } from '../support/harness.js';

interface EventJson {
  id: string;
  type: string;
  at: string;
  actor: string;
  linkId?: string;
  data: Record<string, unknown>;
}
interface Page {
  items: EventJson[];
  nextCursor?: string;
}

const SECRET = 'GOCSPX-events-secret-7fd1';

for (const dialect of Dialects) {
  describe(`events on ${dialect}`, () => {
    const clock = createManualClock(new Date('2026-03-01T09:00:00.000Z'));
    let outlink: TestOutlink;
    let admin: Record<string, string>;
    let linkA: string;
    let linkB: string;
    const timeline: { type: string; at: string; linkId?: string }[] = [];

    const list = async (query = ''): Promise<Page> => {
      const res = await outlink.app.inject({
        method: 'GET',
        url: `/api/v1/events${query}`,
        headers: admin,
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as Page;
    };
    const step = () => {
      clock.advance(1000);
      return clock.now().toISOString();
    };

    before(async () => {
      outlink = await startOutlink(dialect, { clock });
      admin = await outlink.adminHeaders();
      const inject = async (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => {
        const res = await outlink.app.inject({ method, url, headers: admin, payload });
        assert.ok(res.statusCode < 300, `${method} ${url}: ${res.body}`);
        return res;
      };

      let at = step();
      linkA = (
        (
          await inject('POST', '/api/v1/links', googleLink({ name: 'A', clientSecret: SECRET }))
        ).json() as {
          id: string;
        }
      ).id;
      timeline.push({ type: 'link.created', at, linkId: linkA });

      at = step();
      linkB = (
        (await inject('POST', '/api/v1/links', googleLink({ name: 'B' }))).json() as { id: string }
      ).id;
      timeline.push({ type: 'link.created', at, linkId: linkB });

      at = step();
      await inject('PATCH', `/api/v1/links/${linkA}`, { description: 'one', clientSecret: SECRET });
      timeline.push({ type: 'link.updated', at, linkId: linkA });

      at = step();
      await inject('POST', '/api/v1/api-tokens', { name: 'events-token' });
      timeline.push({ type: 'api_token.created', at });

      at = step();
      await inject('PATCH', `/api/v1/links/${linkB}`, { description: 'two' });
      timeline.push({ type: 'link.updated', at, linkId: linkB });

      at = step();
      const failed = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { username: 'admin', password: 'not-it-at-all' },
      });
      assert.equal(failed.statusCode, 401);
      timeline.push({ type: 'session.login_failed', at });

      at = step();
      await inject('DELETE', `/api/v1/links/${linkA}`);
      timeline.push({ type: 'link.deleted', at, linkId: linkA });
    });
    after(() => outlink.close());

    it('lists events newest first, each with who, what and when', async () => {
      const { items, nextCursor } = await list('?limit=200');
      assert.equal(nextCursor, undefined);
      assert.deepEqual(
        items.map((e) => ({ type: e.type, at: e.at, ...(e.linkId ? { linkId: e.linkId } : {}) })),
        [...timeline].reverse(),
      );
      for (const event of items) {
        assert.match(event.id, /^[0-9a-f-]{36}$/);
        assert.ok(event.actor, `${event.type} has no actor`);
        assert.equal(typeof event.data, 'object');
      }
      assert.deepEqual(
        items.map((e) => e.actor),
        ['admin', 'system', 'admin', 'admin', 'admin', 'admin', 'admin'],
      );
      const created = items.find((e) => e.type === 'link.created' && e.linkId === linkA);
      assert.deepEqual(created?.data, { name: 'A', provider: 'google' });
      const updated = items.find((e) => e.type === 'link.updated' && e.linkId === linkA);
      assert.deepEqual(updated?.data.changed, ['description', 'clientSecret']);
      assert.equal(new Set(items.map((e) => e.id)).size, items.length);
      const body = JSON.stringify(items);
      assert.ok(!body.includes(SECRET), 'an event holds the client secret');
    });

    it('filters by type and by link', async () => {
      const updates = await list('?type=link.updated');
      assert.deepEqual(
        updates.items.map((e) => e.linkId),
        [linkB, linkA],
      );
      assert.ok(updates.items.every((e) => e.type === 'link.updated'));

      const ofA = await list(`?linkId=${linkA}`);
      assert.deepEqual(
        ofA.items.map((e) => e.type),
        ['link.deleted', 'link.updated', 'link.created'],
      );
      const both = await list(`?type=link.created&linkId=${linkB}`);
      assert.deepEqual(
        both.items.map((e) => [e.type, e.linkId]),
        [['link.created', linkB]],
      );
      assert.deepEqual((await list(`?linkId=${randomUUID()}`)).items, []);
      assert.deepEqual((await list('?type=key.rotated')).items, []);
    });

    it('pages with limit and nextCursor, without gaps or duplicates', async () => {
      const all = (await list('?limit=200')).items.map((e) => e.id);
      for (const limit of [1, 2, 3]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await list(
            `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          );
          assert.ok(page.items.length <= limit);
          seen.push(...page.items.map((e) => e.id));
          cursor = page.nextCursor;
          pages += 1;
          assert.ok(pages <= all.length + 1, 'pagination does not end');
        } while (cursor);
        assert.deepEqual(seen, all, `limit ${limit}`);
        assert.equal(pages, Math.ceil(all.length / limit));
      }
      // Filters hold across pages too.
      const first = await list('?type=link.created&limit=1');
      assert.equal(first.items[0]?.linkId, linkB);
      assert.ok(first.nextCursor);
      const second = await list(`?type=link.created&limit=1&cursor=${first.nextCursor}`);
      assert.deepEqual(
        second.items.map((e) => e.linkId),
        [linkA],
      );
      assert.equal(second.nextCursor, undefined);
    });

    it('refuses bad query values with 422', async () => {
      const cases: [string, string, string][] = [
        ['?cursor=not-a-cursor', 'field_invalid', 'cursor'],
        [`?cursor=${Buffer.from('-5').toString('base64url')}`, 'field_invalid', 'cursor'],
        ['?limit=0', 'field_invalid', 'limit'],
        ['?limit=201', 'field_invalid', 'limit'],
        ['?limit=ten', 'field_type', 'limit'],
        ['?type=link.exploded', 'field_invalid', 'type'],
        ['?linkId=not-a-uuid', 'field_invalid', 'linkId'],
        ['?colour=red', 'unknown_field', 'colour'],
      ];
      for (const [query, code, field] of cases) {
        const res = await outlink.app.inject({
          method: 'GET',
          url: `/api/v1/events${query}`,
          headers: admin,
        });
        assert.equal(res.statusCode, 422, `${query}: ${res.body}`);
        const error = (res.json() as { error: { code: string; field?: string } }).error;
        assert.deepEqual({ code: error.code, field: error.field }, { code, field }, query);
      }
    });
  });
}
