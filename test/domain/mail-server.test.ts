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

/** Mail servers the directory knows besides the one being settled. */
const SERVERS = [
  { id: 'm-smtp', protocol: 'smtp' },
  { id: 'm-pop3', protocol: 'pop3' },
] as const;

const directory: ConnectionDirectory<MailConnectionFacts> = {
  connection: async (id) => [ALICE, BOB].find((c) => c.id === id),
  mailServer: async (id) => SERVERS.find((s) => s.id === id),
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
        handlerEnabled: false,
        issueKeyPrefix: 'MAIL',
        defaultReporter: null,
        maxMessageBytes: 26_214_400,
        acknowledgeWith: null,
        errorFolder: null,
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

describe('mail handler settings rules', () => {
  const handlerOf = async (input: MailServerPatch, stored?: StoredMailServer) => {
    const { settings } = await settle(input, stored);
    const {
      handlerEnabled,
      issueKeyPrefix,
      defaultReporter,
      maxMessageBytes,
      acknowledgeWith,
      errorFolder,
    } = settings;
    return {
      handlerEnabled,
      issueKeyPrefix,
      defaultReporter,
      maxMessageBytes,
      acknowledgeWith,
      errorFolder,
    };
  };
  const NONE = {
    handlerEnabled: null,
    issueKeyPrefix: null,
    defaultReporter: null,
    maxMessageBytes: null,
    acknowledgeWith: null,
    errorFolder: null,
  };

  it('an incoming server starts paused, with MAIL and 25 MiB; an outgoing one has none', async () => {
    const defaults = {
      handlerEnabled: false,
      issueKeyPrefix: 'MAIL',
      defaultReporter: null,
      maxMessageBytes: 26_214_400,
      acknowledgeWith: null,
      errorFolder: null,
    };
    assert.deepEqual(await handlerOf(imap), defaults);
    assert.deepEqual(await handlerOf({ ...imap, protocol: 'pop3' }), defaults);
    assert.deepEqual(await handlerOf({ ...imap, protocol: 'smtp' }), NONE);
    // null is "none" on SMTP, so it is accepted there, as for the other incoming fields.
    assert.deepEqual(
      await handlerOf({ ...imap, protocol: 'smtp', acknowledgeWith: null, errorFolder: null }),
      NONE,
    );
  });

  it('takes what is given: the prefix upper-cased, an outgoing server to acknowledge with', async () => {
    assert.deepEqual(
      await handlerOf({
        ...imap,
        handlerEnabled: true,
        issueKeyPrefix: 'help_2',
        defaultReporter: 'postmaster@example.com',
        maxMessageBytes: 1024,
        acknowledgeWith: 'm-smtp',
        errorFolder: 'Outlink/Failed',
      }),
      {
        handlerEnabled: true,
        issueKeyPrefix: 'HELP_2',
        defaultReporter: 'postmaster@example.com',
        maxMessageBytes: 1024,
        acknowledgeWith: 'm-smtp',
        errorFolder: 'Outlink/Failed',
      },
    );
  });

  it('an update keeps what it does not name, and null clears what may be cleared', async () => {
    const { settings: created } = await settle({
      ...imap,
      handlerEnabled: true,
      issueKeyPrefix: 'HELP',
      defaultReporter: 'postmaster@example.com',
      acknowledgeWith: 'm-smtp',
      errorFolder: 'Failed',
    });
    const stored: StoredMailServer = { ...created, connectionId: 'c-alice', hasPassword: false };
    assert.deepEqual(await handlerOf({ port: 1993 }, stored), {
      handlerEnabled: true,
      issueKeyPrefix: 'HELP',
      defaultReporter: 'postmaster@example.com',
      maxMessageBytes: 26_214_400,
      acknowledgeWith: 'm-smtp',
      errorFolder: 'Failed',
    });
    assert.deepEqual(
      await handlerOf(
        { handlerEnabled: false, defaultReporter: null, acknowledgeWith: null, errorFolder: null },
        stored,
      ),
      {
        handlerEnabled: false,
        issueKeyPrefix: 'HELP',
        defaultReporter: null,
        maxMessageBytes: 26_214_400,
        acknowledgeWith: null,
        errorFolder: null,
      },
    );
  });

  it('refuses what does not apply, a server that cannot acknowledge, and a looping error folder', async () => {
    for (const field of [
      'handlerEnabled',
      'issueKeyPrefix',
      'defaultReporter',
      'maxMessageBytes',
      'acknowledgeWith',
      'errorFolder',
    ] as const) {
      const value = { handlerEnabled: false, maxMessageBytes: 2048 }[field as string] ?? 'x';
      assert.equal(
        await codeOf(settle({ ...imap, protocol: 'smtp', [field]: value })),
        'mail_field_not_applicable',
        field,
      );
    }
    assert.equal(
      await codeOf(settle({ ...imap, protocol: 'pop3', errorFolder: 'Failed' })),
      'mail_field_not_applicable',
    );
    assert.equal(await codeOf(settle({ ...imap, acknowledgeWith: 'm-pop3' })), 'field_invalid');
    assert.equal(await codeOf(settle({ ...imap, acknowledgeWith: 'm-none' })), 'field_invalid');
    assert.equal(await codeOf(settle({ ...imap, errorFolder: 'inbox' })), 'field_invalid');
    assert.equal(
      await codeOf(settle({ ...imap, folder: 'Support', errorFolder: 'Support' })),
      'field_invalid',
    );
    assert.equal(await codeOf(settle({ ...imap, issueKeyPrefix: '1MAIL' })), 'field_invalid');
    assert.equal(await codeOf(settle({ ...imap, maxMessageBytes: 1023 })), 'field_invalid');
  });
});
