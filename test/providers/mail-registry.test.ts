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
      ],
    );
    assert.deepEqual(
      presetsForProvider('microsoft').map((p) => p.id),
      ['exchange_online'],
    );
    assert.deepEqual(presetsForProvider('custom'), []);
    assert.equal(presetOfHost('Smtp.Gmail.com.')?.id, 'gmail');
    assert.equal(presetOfHost('mail.example.com'), undefined);
    assert.ok(Object.isFrozen(mailPresets.gmail.servers.smtp));
  });
});
