import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasMessage, translate } from '../../src/i18n/i18n.js';
import { classifyRefusal, mailRefusalCatalog } from '../../src/providers/mail-refusal-catalog.js';
import { mailPresets } from '../../src/providers/mail-registry.js';

/**
 * The mail servers' half of the catalog (issue 13 item 2): each answer of Gmail, Exchange
 * Online and Dovecot (PEERS.md) is read back as its own entry from its host, with a cause and
 * a remedy in both languages.
 */

const hostOf = (server: string) =>
  server === 'standard'
    ? 'mail.example.test'
    : mailPresets[server as keyof typeof mailPresets].servers.imap[0]!.host;

describe('the mail refusal catalog, entry by entry', () => {
  for (const entry of mailRefusalCatalog) {
    it(`${entry.server}: "${entry.example.answer.slice(0, 50)}" → ${entry.id}`, () => {
      const { example } = entry;
      const found = classifyRefusal(
        {
          responseCode: example.responseCode,
          serverText: example.serverText,
          challenge: example.challenge,
        },
        hostOf(entry.server),
        example.protocol,
      );
      assert.equal(found?.id, entry.id);
    });
    it(`${entry.id}: a cause and a remedy in English and Japanese`, () => {
      for (const key of [`mail.refusals.${entry.id}`, `mail.remedies.${entry.remedy}`]) {
        assert.ok(hasMessage('en', key) && hasMessage('ja', key), key);
        const params = { username: 'u', protocol: 'IMAP', account: 'a' };
        assert.ok(translate('en', key, params).length > 10, key);
        assert.match(translate('ja', key, params), /[\u3040-\u30ff\u4e00-\u9fff]/, key);
      }
    });
  }

  it("reads Dovecot's answers of every protocol (PEERS.md), and not a preset's at another host", () => {
    const dovecot = 'mail.example.test';
    const read = (protocol: 'imap' | 'pop3' | 'smtp', responseCode: string, serverText: string) =>
      classifyRefusal({ responseCode, serverText }, dovecot, protocol)?.id;
    assert.equal(
      read('imap', 'AUTHENTICATIONFAILED', 'Authentication failed.'),
      'server_token_rejected',
    );
    assert.equal(read('pop3', 'AUTH', 'Authentication failed.'), 'server_token_rejected');
    assert.equal(read('smtp', '535 5.7.8', 'Authentication failed.'), 'server_token_rejected');
    assert.equal(
      classifyRefusal({ challenge: { status: 'invalid_token' } }, dovecot, 'imap')?.id,
      'server_token_rejected',
    );
    assert.equal(
      read('imap', 'UNAVAILABLE', 'Temporary authentication failure.'),
      'server_temporary',
    );
    assert.equal(read('pop3', 'SYS/TEMP', 'Temporary authentication failure.'), 'server_temporary');
    assert.equal(
      read('smtp', '454 4.7.0', 'Temporary authentication failure.'),
      'server_temporary',
    );
    // Exchange's wording at a host that is not Exchange Online is not read as Exchange's.
    assert.equal(read('imap', '', 'User is authenticated but not connected.'), undefined);
    assert.equal(
      classifyRefusal(
        { serverText: 'User is authenticated but not connected.' },
        'outlook.office365.com',
        'imap',
      )?.id,
      'exchange_not_connected',
    );
  });

  it("reads Gmail's 400 challenge as a wrong request, its 401 as a refused token", () => {
    const gmail = 'imap.gmail.com';
    const challenge = (status: string) => ({
      challenge: { status, scope: 'https://mail.google.com/' },
      serverText: 'SASL authentication failed',
    });
    assert.equal(classifyRefusal(challenge('400'), gmail, 'imap')?.id, 'gmail_bad_request');
    assert.equal(classifyRefusal(challenge('401'), gmail, 'imap')?.id, 'gmail_token_rejected');
  });
});
