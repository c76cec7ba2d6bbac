import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { MailSteps } from '../../src/domain/mail-server.js';
import { translate } from '../../src/i18n/i18n.js';
import {
  type MailServerJson,
  type OutlinkMailWorld,
  startOutlinkMailWorld,
} from '../mail/mail-servers-world.js';
import { Dialects } from '../support/harness.js';
import { ALICE, BOB, CAROL } from '../support/worlds.js';

/**
 * The mail servers page (DESIGN §8 UI routes, issue 5 items 7 and 8) as the server renders
 * it: the list with security warnings and delegated connections, the create / edit dialog
 * with presets and the link's connections, the test dialog's steps, and each connection's
 * consumers on the link detail page — in English and Japanese, escaped, under the CSP.
 */

/** Catalog keys that leaked into a page untranslated, e.g. `ui.mailServers.title`. */
function rawKeys(body: string): string[] {
  const keys = /\b(ui|errors|warnings|providerErrors|callback)\.[a-zA-Z_]+\.[\w.]+/g;
  const mail = /\bmail\.(steps|details|errors|remedies|testMessage)\.[\w.]+/g;
  return [...(body.match(keys) ?? []), ...(body.match(mail) ?? [])];
}

/** What every page must satisfy: HTML in the language, catalog texts only, CSP, no inline code. */
function assertPage(res: LightMyRequestResponse, locale: 'en' | 'ja', where: string) {
  assert.equal(res.statusCode, 200, `${where}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/, where);
  assert.equal(res.headers['cache-control'], 'no-store', where);
  assert.match(res.body, new RegExp(`<html lang="${locale}">`), where);
  assert.deepEqual(rawKeys(res.body), [], `${where}: untranslated keys`);
  assert.doesNotMatch(
    res.body,
    /\{(name|count|account|username|host|port|security|step|status|preset)\}/,
    `${where}: placeholder`,
  );
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'/, where);
  assert.match(csp, /style-src 'self'/, where);
  assert.doesNotMatch(csp, /unsafe-inline/, where);
  assert.doesNotMatch(res.body, /<script(?![^>]*\ssrc=)[^>]*>/, `${where}: inline script`);
  assert.doesNotMatch(res.body, /\sstyle="/, `${where}: inline style`);
  assert.doesNotMatch(res.body, /<style\b/, `${where}: style element`);
  assert.doesNotMatch(res.body, /\son[a-z]+="/, `${where}: inline handler`);
}

/** Every form control's id has a `<label for>` (or the control is labelled otherwise). */
function unlabelled(body: string): string[] {
  const labels = new Set([...body.matchAll(/<label for="([^"]+)"/g)].map((m) => m[1]));
  const out: string[] = [];
  for (const m of body.matchAll(/<(input|select|textarea)\b([^>]*)>/g)) {
    const tag = m[2] ?? '';
    if (/type="(radio|checkbox|hidden)"/.test(tag) || /readonly/.test(tag)) continue;
    const id = /\sid="([^"]+)"/.exec(tag)?.[1];
    if (!id || (!labels.has(id) && !/aria-label(ledby)?="/.test(tag))) out.push(m[0]);
  }
  return out;
}

/** The `<tr>` of the row whose attributes include `marker`. */
function rowOf(body: string, marker: string): string {
  const start = body.indexOf(marker);
  assert.ok(start >= 0, `no row with ${marker}`);
  const from = body.lastIndexOf('<tr', start);
  return body.slice(from, body.indexOf('</tr>', start));
}

/** Text without tags, whitespace collapsed. */
const text = (fragment: string) =>
  fragment
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

const decodeEntities = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

for (const dialect of Dialects) {
  describe(`the mail servers pages on ${dialect}`, () => {
    let world: OutlinkMailWorld;
    let googleLinkId: string;
    const page = async (url: string, locale: 'en' | 'ja' = 'en') =>
      world.outlink.app.inject({
        method: 'GET',
        url,
        headers: {
          cookie: (await world.outlink.adminHeaders()).cookie!,
          'accept-language': locale,
        },
      });

    before(async () => {
      world = await startOutlinkMailWorld({ dialect });
      const google = await world.api('POST', '/api/v1/links', {
        name: 'Google <Workspace>',
        provider: 'google',
        clientId: '123-abc.apps.googleusercontent.com',
        clientSecret: 'GOCSPX-test-secret',
      });
      assert.equal(google.statusCode, 201, google.body);
      googleLinkId = (google.json() as { id: string }).id;
    });
    after(() => world?.close());

    it('sends a signed-out browser to the login page and back', async () => {
      const res = await world.outlink.app.inject({ method: 'GET', url: '/admin/mail-servers' });
      assert.equal(res.statusCode, 302);
      assert.equal(res.headers.location, '/login?next=%2Fadmin%2Fmail-servers');
    });

    it('shows an empty list, the navigation entry in both languages, and the dialogs', async () => {
      for (const locale of ['en', 'ja'] as const) {
        const res = await page('/admin/mail-servers', locale);
        assertPage(res, locale, `${locale} empty list`);
        const nav = locale === 'en' ? 'Mail servers' : 'メール サーバー';
        assert.match(
          res.body,
          new RegExp(
            `<a href="/admin/mail-servers" data-testid="nav-mail-servers" aria-current="page">${nav}</a>`,
          ),
        );
        assert.match(res.body, /data-testid="mail-servers-empty"/);
        assert.match(res.body, /<dialog id="mail-server-dialog"/);
        assert.match(res.body, /<dialog id="mail-server-test-dialog"/);
        assert.deepEqual(unlabelled(res.body), [], `${locale}: unlabelled controls`);
      }
      // Every other page offers the entry too, not marked current.
      const links = await page('/admin/applinks');
      assert.match(links.body, /<a href="\/admin\/mail-servers" data-testid="nav-mail-servers">/);
    });

    it("offers each preset's servers with what they fill in, for the preset's provider", async () => {
      const res = await page('/admin/mail-servers');
      const presets = [...res.body.matchAll(/<button [^>]*class="[^"]*\bpreset\b[^"]*"[^>]*>/g)]
        .map((m) => m[0])
        .map((tag) => {
          const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(tag)?.[1];
          return [
            attr('data-preset-provider'),
            attr('data-protocol'),
            `${attr('data-host')}:${attr('data-port')}`,
            attr('data-security'),
          ].join(' ');
        });
      assert.deepEqual(presets, [
        'google imap imap.gmail.com:993 tls',
        'google pop3 pop.gmail.com:995 tls',
        'google smtp smtp.gmail.com:465 tls',
        'google smtp smtp.gmail.com:587 starttls',
        'microsoft imap outlook.office365.com:993 tls',
        'microsoft pop3 outlook.office365.com:995 tls',
        'microsoft smtp smtp.office365.com:587 starttls',
        'microsoft imap outlook.office365.us:993 tls',
        'microsoft pop3 outlook.office365.us:995 tls',
        'microsoft smtp smtp.office365.us:587 starttls',
        'microsoft imap partner.outlook.cn:993 tls',
        'microsoft pop3 partner.outlook.cn:995 tls',
        'microsoft smtp smtp.partner.outlook.cn:587 starttls',
      ]);
      assert.match(
        res.body,
        /data-testid="preset-gmail-smtp-587">Gmail: smtp\.gmail\.com:587, STARTTLS<\/button>/,
      );
      const ja = await page('/admin/mail-servers', 'ja');
      assert.match(
        ja.body,
        /data-testid="preset-exchange_online-smtp-587">Exchange Online: smtp\.office365\.com:587、STARTTLS<\/button>/,
      );
    });

    it('lists every link with its provider and connections for the picker, names escaped', async () => {
      const res = await page('/admin/mail-servers');
      const options = [
        ...res.body.matchAll(
          /<option value="([^"]+)" data-provider="(\w+)" data-connections="([^"]*)">([^<]*)<\/option>/g,
        ),
      ];
      const byId = new Map(options.map((m) => [m[1], m]));
      const custom = byId.get(world.linkId);
      assert.ok(custom, 'the custom link is offered');
      assert.equal(custom[2], 'custom');
      assert.deepEqual(
        (
          JSON.parse(decodeEntities(custom[3] ?? '')) as {
            id: string;
            account: string;
            status: string;
          }[]
        )
          .map((c) => [c.id, c.account, c.status])
          .sort(),
        [
          [world.alice, ALICE, 'valid'],
          [world.bob, BOB, 'valid'],
        ].sort(),
      );
      const google = byId.get(googleLinkId);
      assert.ok(google);
      assert.equal(google[2], 'google');
      assert.equal(decodeEntities(google[3] ?? ''), '[]');
      assert.equal(google[4], 'Google &lt;Workspace&gt; (Google)');
      assert.doesNotMatch(res.body, /Google <Workspace>/);
    });

    it('lists every step of the connection test in the reader’s language', async () => {
      for (const locale of ['en', 'ja'] as const) {
        const res = await page('/admin/mail-servers', locale);
        for (const step of MailSteps) {
          assert.match(
            res.body,
            new RegExp(
              `data-testid="ms-test-step-${step}"><span class="step-icon" aria-hidden="true">○</span><span class="step-body"><span class="step-head"><span class="step-label">${translate(locale, `mail.steps.${step}`)}</span>`,
            ),
            `${locale} ${step}`,
          );
        }
      }
    });

    it('keeps the scripts’ texts free of raw placeholders and in the page language', async () => {
      const res = await page('/admin/mail-servers', 'ja');
      const raw = /id="mail-server-strings" hidden data-strings="([^"]*)"/.exec(res.body)?.[1];
      assert.ok(raw);
      const strings = JSON.parse(decodeEntities(raw)) as Record<string, string>;
      assert.equal(strings.deleted, 'メール サーバーを削除しました。');
      assert.equal(strings['status.valid'], '接続済み');
      assert.match(
        strings.delegateNote ?? '',
        /^代理: %account% のトークンをメールボックス %username% に使います。/,
      );
      for (const [key, value] of Object.entries(strings)) {
        assert.doesNotMatch(value, /[{}]/, key);
      }
    });

    describe('with mail servers', () => {
      let own: MailServerJson;
      let delegated: MailServerJson;
      let withPassword: MailServerJson;

      before(async () => {
        own = await world.createServer({
          name: 'Support <b>inbox</b>',
          protocol: 'imap',
          host: '127.0.0.1',
          port: world.dovecot.ports.imaps!,
          security: 'tls',
          username: ALICE,
          authentication: { method: 'oauth2', connectionId: world.alice },
        });
        delegated = await world.createServer({
          name: 'Shared POP3',
          protocol: 'pop3',
          host: '127.0.0.1',
          port: world.dovecot.ports.pop3,
          security: 'none',
          username: ALICE,
          authentication: { method: 'oauth2', connectionId: world.bob },
        });
        withPassword = await world.createServer({
          name: 'Outgoing with a password',
          protocol: 'smtp',
          host: 'smtp.example.test',
          port: 587,
          security: 'starttls',
          username: CAROL,
          authentication: { method: 'password', password: 'a secret password' },
        });
      });

      it('renders the list in English and Japanese without raw keys, names escaped', async () => {
        for (const locale of ['en', 'ja'] as const) {
          const res = await page('/admin/mail-servers', locale);
          assertPage(res, locale, `${locale} list`);
          assert.match(res.body, /Support &lt;b&gt;inbox&lt;\/b&gt;/);
          assert.doesNotMatch(res.body, /<b>inbox<\/b>/);
          assert.doesNotMatch(res.body, /a secret password/);
          assert.equal(res.body.split('data-testid="mail-server-row"').length - 1, 3);
        }
      });

      it('shows protocol, server, security, and whose token logs in', async () => {
        const res = await page('/admin/mail-servers');
        const ownRow = text(rowOf(res.body, `data-mail-server-id="${own.id}"`));
        assert.match(ownRow, /Support <b>inbox<\/b>|Support &lt;b&gt;inbox&lt;\/b&gt;/);
        assert.match(ownRow, /IMAP · Incoming/);
        assert.match(ownRow, new RegExp(`127\\.0\\.0\\.1:${own.port}`));
        assert.match(ownRow, /✓ TLS/);
        assert.ok(ownRow.includes(`Test mail AS · ${ALICE}`), ownRow);
        assert.doesNotMatch(ownRow, /Delegate/);

        const shared = rowOf(res.body, `data-mail-server-id="${delegated.id}"`);
        assert.match(shared, /data-testid="plain-warning">Not encrypted</);
        assert.match(text(shared), /! None \(plain\) Not encrypted/);
        assert.match(text(shared), /POP3 · Incoming/);
        assert.match(shared, /data-testid="mail-server-delegated"/);
        assert.ok(
          text(shared).includes(
            `Test mail AS · ${BOB} ⇄ Delegate Token of ${BOB} for the mailbox ${ALICE}: a delegate with full access to a shared mailbox.`,
          ),
          text(shared),
        );
        assert.match(shared, new RegExp(`href="/admin/applinks/${world.linkId}"`));

        const smtp = text(rowOf(res.body, `data-mail-server-id="${withPassword.id}"`));
        assert.match(smtp, /SMTP · Outgoing/);
        assert.match(smtp, /smtp\.example\.test:587/);
        assert.match(smtp, /✓ STARTTLS/);
        assert.match(smtp, /Password/);

        const ja = await page('/admin/mail-servers', 'ja');
        const jaShared = text(rowOf(ja.body, `data-mail-server-id="${delegated.id}"`));
        assert.match(jaShared, /なし \(平文\) 暗号化なし/);
        assert.match(jaShared, /⇄ 代理/);
        assert.match(
          text(rowOf(ja.body, `data-mail-server-id="${withPassword.id}"`)),
          /SMTP · 送信/,
        );
      });

      it('offers Edit, Test and Delete on each row, named for screen readers, Delete confirmed', async () => {
        const res = await page('/admin/mail-servers');
        const row = rowOf(res.body, `data-mail-server-id="${own.id}"`);
        for (const action of ['edit', 'test', 'delete']) {
          assert.match(
            row,
            new RegExp(
              `data-action="${action}-mail-server" data-mail-server-id="${own.id}"[^>]*>[^<]+<span class="visually-hidden"> Support &lt;b&gt;inbox&lt;/b&gt;</span>`,
            ),
            action,
          );
        }
        assert.match(row, /data-confirm-title="Delete this mail server\?"/);
        assert.match(
          row,
          /data-confirm-message="The mail server &quot;Support &lt;b&gt;inbox&lt;\/b&gt;&quot; will be deleted\. The link and its connection stay\."/,
        );
        assert.match(row, new RegExp(`id="mail-server-${own.id}"`));
        assert.match(row, new RegExp(`data-username="${ALICE}"`));
      });

      it("names each connection's consumers on the link detail page", async () => {
        for (const locale of ['en', 'ja'] as const) {
          const res = await page(`/admin/applinks/${world.linkId}`, locale);
          assertPage(res, locale, `${locale} link detail`);
          const label = locale === 'en' ? 'Used by:' : '使用中のメール サーバー:';
          const rows = res.body.split('data-testid="connection-row"').slice(1);
          const alice = rows.find((r) => r.includes(ALICE))!;
          const bob = rows.find((r) => r.includes(BOB))!;
          assert.match(
            alice,
            new RegExp(
              `data-testid="connection-used-by"><span class="muted">${label}</span> <a href="/admin/mail-servers#mail-server-${own.id}" data-testid="used-by-mail-server">Support &lt;b&gt;inbox&lt;/b&gt;</a></div>`,
            ),
          );
          assert.match(
            bob,
            new RegExp(
              `data-testid="connection-used-by"><span class="muted">${label}</span> <a href="/admin/mail-servers#mail-server-${delegated.id}" data-testid="used-by-mail-server">Shared POP3</a></div>`,
            ),
          );
        }
        const google = await page(`/admin/applinks/${googleLinkId}`);
        assertPage(google, 'en', 'link without connections');
        assert.doesNotMatch(google.body, /used-by-mail-server/);
      });

      it('says nothing of consumers for a connection no mail server uses', async () => {
        const res = await world.api('DELETE', `/api/v1/mail-servers/${delegated.id}`);
        assert.equal(res.statusCode, 204);
        const detail = await page(`/admin/applinks/${world.linkId}`);
        const rows = detail.body.split('data-testid="connection-row"').slice(1);
        assert.doesNotMatch(rows.find((r) => r.includes(BOB))!, /connection-used-by/);
        assert.match(rows.find((r) => r.includes(ALICE))!, /connection-used-by/);
      });

      it('shows the first page when the cursor is stale', async () => {
        const res = await page('/admin/mail-servers?cursor=not-a-cursor');
        assertPage(res, 'en', 'stale cursor');
        assert.match(res.body, /data-testid="mail-servers-table"/);
      });
    });

    it('serves the three client modules the page loads', async () => {
      for (const file of ['mail-servers.js', 'mail-server-dialog.js', 'mail-handler-fields.js']) {
        const res = await world.outlink.app.inject({ method: 'GET', url: `/static/${file}` });
        assert.equal(res.statusCode, 200, file);
        assert.match(String(res.headers['content-type']), /^text\/javascript/);
      }
      const app = await world.outlink.app.inject({ method: 'GET', url: '/static/app.js' });
      assert.match(app.body, /from '\.\/mail-servers\.js'/);
    });
  });
}
