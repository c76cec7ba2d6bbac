import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { NoticeKinds } from '../../src/domain/notices.js';
import { createNoticeWords } from '../../src/presenters/notifications.js';

const words = createNoticeWords(new URL('https://outlink.example.test'));
const data = {
  linkId: 'l1',
  linkName: 'Gmail',
  account: 'alice@example.test',
  reason: 'aadsts_7000222',
  mailServerId: 'm1',
  mailServerName: 'Support',
  status: 'failed',
  error: 'mail_server_failed',
  expiresAt: '2026-04-01T00:00:00.000Z',
  daysLeft: 14,
  threshold: 14,
  url: 'https://outlink.example.test/admin/applinks/l1',
};

describe('notice words', () => {
  it('word every notice in English and in Japanese, with every placeholder filled', () => {
    for (const kind of NoticeKinds) {
      const en = words('en', kind, data);
      const ja = words('ja', kind, data);
      for (const text of [en.subject, en.text, ja.subject, ja.text]) {
        assert.doesNotMatch(text, /\{\w+\}/, `${kind}: ${text}`);
      }
      assert.notEqual(en.subject, ja.subject, kind);
      assert.match(ja.text, /[\u3040-\u30ff]/, `${kind} in Japanese`);
      assert.match(en.text, /https:\/\/outlink\.example\.test\/admin\/events/);
    }
  });

  it("give the provider's cause and remedy from the catalog, and the date alone", () => {
    const en = words('en', 'connection_reauthorization_required', data);
    assert.match(en.text, /client secret has expired at Microsoft \(AADSTS7000222\)/);
    const ja = words('ja', 'client_secret_expiring', data);
    assert.equal(ja.subject, '[Outlink] クライアントシークレットの期限まであと 14 日: Gmail');
    assert.match(ja.text, /2026-04-01 に期限切れ/);
    const unknown = words('en', 'connection_failing', { ...data, reason: '' });
    assert.match(unknown.text, /reason: \(no provider answer recorded\)/);
  });
});

describe('notification settings', () => {
  it('take a mail server and addresses together, English by default', () => {
    const config = loadConfig({
      OUTLINK_NOTIFY_MAIL_SERVER: 'Notices',
      OUTLINK_NOTIFY_EMAILS: 'ops@example.test, oncall@example.test',
    });
    assert.deepEqual(config.notifications, {
      mailServer: 'Notices',
      recipients: ['ops@example.test', 'oncall@example.test'],
      language: 'en',
    });
    assert.equal(loadConfig({ OUTLINK_NOTIFY_LANGUAGE: 'ja' }).notifications.language, 'ja');
  });

  it('refuse one without the other, and what is not an address', () => {
    assert.throws(
      () => loadConfig({ OUTLINK_NOTIFY_MAIL_SERVER: 'Notices' }),
      (error: { violations: { variable: string; code?: string }[] }) =>
        error.violations.some(
          (v) => v.variable === 'OUTLINK_NOTIFY_EMAILS' && v.code === 'notify_settings_incomplete',
        ),
    );
    assert.throws(
      () =>
        loadConfig({ OUTLINK_NOTIFY_MAIL_SERVER: 'Notices', OUTLINK_NOTIFY_EMAILS: 'ops, x@y' }),
      (error: { violations: { code?: string }[] }) =>
        error.violations.some((v) => v.code === 'notify_emails_invalid'),
    );
  });
});
