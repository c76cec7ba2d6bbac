import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOutlinkError } from '../../src/domain/errors.js';
import {
  type ConnectionDirectory,
  defaultPort,
  impliedSecurity,
  type MailConnectionFacts,
  type MailProviderFacts,
  type MailServerPatch,
  type StoredMailServer,
  settleMailServer,
} from '../../src/domain/mail-server.js';

/**
 * The mail server rules without a database: the connections come from a directory in memory,
 * the provider facts from a table. The API tests (test/http/mail-servers.test.ts) hold the
 * same rules to the wire.
 */

const ALICE: MailConnectionFacts = {
  id: 'c-alice',
  linkId: 'l-1',
  account: 'alice@example.com',
  provider: 'google',
  scopes: ['https://mail.google.com/'],
};
const BOB: MailConnectionFacts = { ...ALICE, id: 'c-bob', account: 'bob@example.com', scopes: [] };

const directory: ConnectionDirectory<MailConnectionFacts> = {
  connection: async (id) => [ALICE, BOB].find((c) => c.id === id),
  link: async (id) => (id === 'l-1' ? { id, name: 'Google' } : undefined),
  accountsOfLink: async (linkId) =>
    linkId === 'l-1' ? [ALICE, BOB].map((c) => ({ id: c.id, account: c.account })) : [],
};

const facts: MailProviderFacts<MailConnectionFacts> = {
  neededScopes: (c) => (c.provider === 'google' ? ['https://mail.google.com/'] : []),
  presetOfHost: (host) =>
    host === 'imap.gmail.com' ? { name: 'Gmail', provider: 'google' } : undefined,
};

const settle = (input: MailServerPatch, stored?: StoredMailServer) =>
  settleMailServer(input, stored, directory, facts);

const codeOf = async (work: Promise<unknown>): Promise<string> => {
  try {
    await work;
  } catch (error) {
    assert.ok(isOutlinkError(error), String(error));
    return error.code;
  }
  assert.fail('no error');
};

const imap: MailServerPatch = {
  name: ' Support ',
  protocol: 'imap',
  host: 'Mail.Example.com',
  username: 'alice@example.com',
  authentication: { method: 'oauth2', linkId: 'l-1' },
};

describe('mail server rules', () => {
  it('ports and securities imply each other, never a plain connection', () => {
    assert.equal(defaultPort('pop3', 'tls'), 995);
    assert.equal(defaultPort('smtp', 'starttls'), 587);
    assert.equal(impliedSecurity(587), 'starttls');
    assert.equal(impliedSecurity(2525), 'tls');
    assert.equal(impliedSecurity(undefined), 'tls');
  });

  it("settles a create: defaults, the link's connection of the username, no warnings", async () => {
    const { settings, warnings } = await settle(imap);
    assert.deepEqual(
      { ...settings, connection: settings.connection?.id },
      {
        name: 'Support',
        protocol: 'imap',
        host: 'mail.example.com',
        port: 993,
        security: 'tls',
        username: 'alice@example.com',
        authMethod: 'oauth2',
        connection: 'c-alice',
        password: undefined,
        saslMechanism: null,
        folder: 'INBOX',
        pollIntervalSeconds: 300,
        processedAction: 'seen',
        processedFolder: null,
      },
    );
    assert.deepEqual(warnings, []);
  });

  it("warns about a delegate's token, a missing scope and a preset of another provider", async () => {
    const { warnings } = await settle({
      ...imap,
      host: 'imap.gmail.com',
      authentication: { method: 'oauth2', connectionId: 'c-bob' },
    });
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['delegated_mailbox', 'mail_scope_missing'],
    );
    const custom = await settleMailServer(
      { ...imap, host: 'imap.gmail.com' },
      undefined,
      { ...directory, connection: async (id) => ({ ...ALICE, id, provider: 'custom' }) },
      facts,
    );
    assert.deepEqual(
      custom.warnings.map((w) => w.code),
      ['preset_provider_mismatch'],
    );
  });

  it('refuses what does not apply, and a mailbox the link has no connection for', async () => {
    assert.equal(
      await codeOf(settle({ ...imap, protocol: 'smtp', folder: 'INBOX' })),
      'mail_field_not_applicable',
    );
    assert.equal(
      await codeOf(settle({ ...imap, protocol: 'pop3', processedAction: 'move' })),
      'field_invalid',
    );
    assert.equal(
      await codeOf(settle({ ...imap, authentication: { method: 'password' } })),
      'field_required',
    );
    assert.equal(
      await codeOf(settle({ ...imap, username: 'carol@example.com' })),
      'mailbox_not_authorized',
    );
    assert.equal(
      await codeOf(
        settle({
          ...imap,
          authentication: { method: 'oauth2', linkId: 'l-2', connectionId: 'c-bob' },
        }),
      ),
      'field_invalid',
    );
  });

  it('an update keeps what it does not name, but never changes the protocol', async () => {
    const { settings: created } = await settle(imap);
    const stored: StoredMailServer = {
      ...created,
      connectionId: 'c-alice',
      hasPassword: false,
    };
    const { settings } = await settle({ port: 1993 }, stored);
    assert.equal(settings.port, 1993);
    assert.equal(settings.connection?.id, 'c-alice');
    assert.equal(settings.folder, 'INBOX');
    assert.equal(await codeOf(settle({ protocol: 'pop3' }, stored)), 'protocol_immutable');
  });
});
