import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { type OutlinkMailWorld, startOutlinkMailWorld } from '../mail/mail-servers-world.js';
import { Dialects } from '../support/harness.js';
import { ALICE, BOB } from '../support/worlds.js';

/**
 * Issue 13: a re-authorization link emailed to the mailbox's owner through an outgoing mail
 * server — Dovecot submission, logged in with XOAUTH2 by ALICE's connection, the real test
 * provider's token checked by introspection — reaches Dovecot's relay sink carrying the link,
 * and the link in the email opens the dance. Its secret stays out of the events.
 */
for (const dialect of Dialects)
  describe(`re-authorization links by email (${dialect})`, () => {
    let world: OutlinkMailWorld;
    let outbox: { id: string; name: string };

    before(async () => {
      world = await startOutlinkMailWorld({ dialect });
      outbox = await world.createServer({
        name: 'Notices',
        protocol: 'smtp',
        host: '127.0.0.1',
        port: world.dovecot.ports.submissions!,
        security: 'tls',
        username: ALICE,
        authentication: { method: 'oauth2', connectionId: world.alice },
      });
    });
    after(() => world?.close());

    it("emails the link to the connection's account, and the emailed link works", async () => {
      const res = await world.api('POST', `/api/v1/connections/${world.bob}/reauthorization`, {
        mailServer: outbox.name,
      });
      assert.equal(res.statusCode, 201, res.body);
      const created = res.json() as { id: string; url: string; emailedTo: string };
      assert.equal(created.emailedTo, BOB);

      const [relayed] = await world.dovecot.waitForRelayed(1, 10_000);
      assert.ok(relayed);
      assert.deepEqual(relayed.to, [BOB]);
      assert.equal(relayed.from, ALICE);
      const mail = await simpleParser(relayed.data);
      assert.match(mail.subject ?? '', new RegExp(`re-authorize Outlink's access to ${BOB}`));
      assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
      assert.ok(mail.text?.includes(created.url), `the email lacks the link: ${mail.text}`);
      assert.match(mail.text ?? '', /works once/);

      const secret = new URL(created.url).pathname.split('/').pop() ?? '';
      const opened = await world.outlink.app.inject({
        method: 'GET',
        url: new URL(created.url).pathname,
      });
      assert.equal(opened.statusCode, 303, opened.body);
      assert.ok(String(opened.headers.location).startsWith(world.as.endpoints.authorization));

      const events = await world.outlink.services.store.db
        .selectFrom('events')
        .selectAll()
        .where('type', 'like', 'connection.reauthorization_link_%')
        .execute();
      const made = events.find((e) => e.type === 'connection.reauthorization_link_created');
      assert.ok(made);
      assert.equal(JSON.parse(made.data).emailedTo, BOB);
      assert.ok(!JSON.stringify(events).includes(secret), 'the secret is in an event');
      assert.ok(!world.outlink.logLines.join('\n').includes(secret), 'the secret is logged');
    });

    it('emails in Japanese to another address when asked', async () => {
      const before = world.dovecot.relayed().length;
      const res = await world.api('POST', `/api/v1/connections/${world.alice}/reauthorization`, {
        mailServer: outbox.id,
        to: 'owner@example.net',
        language: 'ja',
      });
      assert.equal(res.statusCode, 201, res.body);
      const created = res.json() as { url: string };
      const all = await world.dovecot.waitForRelayed(before + 1, 10_000);
      const mail = await simpleParser(all[before]!.data);
      assert.deepEqual(all[before]!.to, ['owner@example.net']);
      assert.match(mail.subject ?? '', /再認可してください/);
      assert.ok(mail.text?.includes(created.url));
    });

    it('refuses an incoming mail server, and a failed email leaves no usable link', async () => {
      const inbox = await world.createServer({
        name: 'Inbox',
        protocol: 'imap',
        host: '127.0.0.1',
        port: world.dovecot.ports.imaps!,
        security: 'tls',
        username: ALICE,
        authentication: { method: 'oauth2', connectionId: world.alice },
      });
      const refused = await world.api('POST', `/api/v1/connections/${world.bob}/reauthorization`, {
        mailServer: inbox.id,
      });
      assert.equal(refused.statusCode, 422, refused.body);
      assert.equal(
        (refused.json() as { error: { code: string } }).error.code,
        'reauthorization_mail_server_not_outgoing',
      );
      const listed = await world.api('GET', `/api/v1/connections/${world.bob}/reauthorization`);
      const items = (listed.json() as { items: { status: string }[] }).items;
      assert.ok(
        items.every((i) => i.status !== 'active'),
        JSON.stringify(items),
      );
    });
  });
