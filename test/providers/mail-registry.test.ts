import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  mailPresets,
  presetOfHost,
  presetsForProvider,
} from '../../src/providers/mail-registry.js';

describe('mail server presets', () => {
  it('Gmail and Exchange Online, with the servers of DESIGN §5 and issue 5', () => {
    assert.deepEqual(
      Object.values(mailPresets).map((p) => ({
        id: p.id,
        provider: p.provider,
        servers: p.servers,
      })),
      [
        {
          id: 'gmail',
          provider: 'google',
          servers: {
            imap: [{ host: 'imap.gmail.com', port: 993, security: 'tls' }],
            pop3: [{ host: 'pop.gmail.com', port: 995, security: 'tls' }],
            smtp: [
              { host: 'smtp.gmail.com', port: 465, security: 'tls' },
              { host: 'smtp.gmail.com', port: 587, security: 'starttls' },
            ],
          },
        },
        {
          id: 'exchange_online',
          provider: 'microsoft',
          servers: {
            imap: [{ host: 'outlook.office365.com', port: 993, security: 'tls' }],
            pop3: [{ host: 'outlook.office365.com', port: 995, security: 'tls' }],
            smtp: [{ host: 'smtp.office365.com', port: 587, security: 'starttls' }],
          },
        },
        {
          id: 'exchange_online_us',
          provider: 'microsoft',
          servers: {
            imap: [{ host: 'outlook.office365.us', port: 993, security: 'tls' }],
            pop3: [{ host: 'outlook.office365.us', port: 995, security: 'tls' }],
            smtp: [{ host: 'smtp.office365.us', port: 587, security: 'starttls' }],
          },
        },
        {
          id: 'exchange_online_china',
          provider: 'microsoft',
          servers: {
            imap: [{ host: 'partner.outlook.cn', port: 993, security: 'tls' }],
            pop3: [{ host: 'partner.outlook.cn', port: 995, security: 'tls' }],
            smtp: [{ host: 'smtp.partner.outlook.cn', port: 587, security: 'starttls' }],
          },
        },
      ],
    );
    assert.deepEqual(
      presetsForProvider('microsoft').map((p) => p.id),
      ['exchange_online', 'exchange_online_us', 'exchange_online_china'],
    );
    // A link's cloud picks the servers that accept its tokens.
    for (const [cloud, ids] of [
      ['global', ['exchange_online']],
      ['gcc', ['exchange_online']],
      ['gcc_high', ['exchange_online_us']],
      ['dod', ['exchange_online_us']],
      ['china', ['exchange_online_china']],
    ] as const) {
      assert.deepEqual(
        presetsForProvider('microsoft', cloud).map((p) => p.id),
        ids,
        cloud,
      );
    }
    assert.equal(presetOfHost('OUTLOOK.office365.us')?.id, 'exchange_online_us');
    assert.equal(presetOfHost('smtp.partner.outlook.cn')?.id, 'exchange_online_china');
    assert.deepEqual(presetsForProvider('custom'), []);
    assert.equal(presetOfHost('Smtp.Gmail.com.')?.id, 'gmail');
    assert.equal(presetOfHost('mail.example.com'), undefined);
    assert.ok(Object.isFrozen(mailPresets.gmail.servers.smtp));
  });
});
