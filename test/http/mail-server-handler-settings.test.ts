import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { MailServerJson } from '../mail/mail-servers-world.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';

/**
 * The mail handler's settings of a mail server through the API (issue 10 item 1): the
 * defaults of each protocol, every field set and updated, the outgoing server that
 * acknowledges new issues (an SMTP one, which cannot be deleted while it does), and every
 * bad input answered with its exact code and field, the database untouched. The servers log
 * in with passwords: no token is needed to keep settings.
 */

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const MISSING = Symbol('missing');

interface ErrorJson {
  error: { code: string; message: string; remedy?: string; field?: string };
}

/** The handler fields of a mail server as the API shows them. */
const handlerOf = (s: MailServerJson) => ({
  handlerEnabled: s.handlerEnabled,
  issueKeyPrefix: s.issueKeyPrefix,
  defaultReporter: s.defaultReporter,
  maxMessageBytes: s.maxMessageBytes,
  acknowledgeWith: s.acknowledgeWith,
  acknowledgeWithName: s.acknowledgeWithName,
  errorFolder: s.errorFolder,
});

const INCOMING_DEFAULTS = {
  handlerEnabled: false,
  issueKeyPrefix: 'MAIL',
  defaultReporter: null,
  maxMessageBytes: 26_214_400,
  acknowledgeWith: null,
  acknowledgeWithName: null,
  errorFolder: null,
};
const OUTGOING = {
  handlerEnabled: null,
  issueKeyPrefix: null,
  defaultReporter: null,
  maxMessageBytes: null,
  acknowledgeWith: null,
  acknowledgeWithName: null,
  errorFolder: null,
};

/** Every table a mail server request could write to, rows sorted for exact comparison. */
const TABLES = ['mail_servers', 'events'] as const;

for (const dialect of Dialects) {
  describe(`mail handler settings through the API on ${dialect}`, () => {
    let outlink: TestOutlink;
    let counter = 0;
    const name = (what = 'Mailbox') => `${what} ${++counter}`;

    const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
      outlink.app.inject({
        method,
        url,
        headers: await outlink.adminHeaders(),
        ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
      });
    const errorOf = (res: LightMyRequestResponse) => (res.json() as ErrorJson).error;
    const body = (protocol: 'imap' | 'pop3' | 'smtp', more: Record<string, unknown> = {}) => ({
      name: name(protocol.toUpperCase()),
      protocol,
      host: 'mail.example.test',
      username: 'support@example.test',
      authentication: { method: 'password', password: 'a mail password' },
      ...more,
    });
    const create = async (
      protocol: 'imap' | 'pop3' | 'smtp',
      more: Record<string, unknown> = {},
    ): Promise<MailServerJson> => {
      const res = await call('POST', '/api/v1/mail-servers', body(protocol, more));
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as MailServerJson;
    };
    const patch = async (id: string, change: Record<string, unknown>) => {
      const res = await call('PATCH', `/api/v1/mail-servers/${id}`, change);
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as MailServerJson;
    };
    const snapshot = async () => {
      const out: Record<string, string[]> = {};
      for (const table of TABLES) {
        const rows = await outlink.services.store.db.selectFrom(table).selectAll().execute();
        out[table] = rows.map((r) => JSON.stringify(r)).sort();
      }
      return out;
    };

    let smtp: MailServerJson;
    let otherSmtp: MailServerJson;

    before(async () => {
      outlink = await startOutlink(dialect, { env: { OUTLINK_LOG_LEVEL: 'warn' } });
      smtp = await create('smtp', { name: 'Support outbox' });
      otherSmtp = await create('smtp', { name: 'Other outbox' });
    });
    after(() => outlink?.close());

    describe('defaults', () => {
      it('an incoming server starts paused, with the key prefix MAIL and a 25 MiB limit', async () => {
        for (const protocol of ['imap', 'pop3'] as const) {
          const created = await create(protocol);
          assert.deepEqual(handlerOf(created), INCOMING_DEFAULTS, protocol);
          const fetched = (await call('GET', `/api/v1/mail-servers/${created.id}`)).json();
          assert.deepEqual(handlerOf(fetched as MailServerJson), INCOMING_DEFAULTS, protocol);
        }
      });

      it('an outgoing server has no handler settings', async () => {
        assert.deepEqual(handlerOf(smtp), OUTGOING);
        const row = await outlink.services.store.db
          .selectFrom('mail_servers')
          .select(['handler_enabled', 'issue_key_prefix', 'max_message_bytes'])
          .where('id', '=', smtp.id)
          .executeTakeFirstOrThrow();
        assert.deepEqual(row, {
          handler_enabled: 0,
          issue_key_prefix: null,
          max_message_bytes: null,
        });
      });

      it('an incoming server stored before the handler existed reads as the defaults', async () => {
        const created = await create('imap');
        await outlink.services.store.db
          .updateTable('mail_servers')
          .set({ issue_key_prefix: null, max_message_bytes: null })
          .where('id', '=', created.id)
          .execute();
        const fetched = (await call('GET', `/api/v1/mail-servers/${created.id}`)).json();
        assert.deepEqual(handlerOf(fetched as MailServerJson), INCOMING_DEFAULTS);
        // Its next update stores them.
        await patch(created.id, { name: name('Renamed') });
        const row = await outlink.services.store.db
          .selectFrom('mail_servers')
          .select(['issue_key_prefix', 'max_message_bytes'])
          .where('id', '=', created.id)
          .executeTakeFirstOrThrow();
        assert.deepEqual(row, { issue_key_prefix: 'MAIL', max_message_bytes: 26_214_400 });
      });
    });

    describe('set and update', () => {
      it('takes every field on create; the prefix is upper-cased, the acknowledging server named', async () => {
        const created = await create('imap', {
          handlerEnabled: true,
          issueKeyPrefix: 'help_jp',
          defaultReporter: 'postmaster@example.test',
          maxMessageBytes: 1024,
          acknowledgeWith: smtp.id,
          errorFolder: 'Outlink/Failed',
        });
        const expected = {
          handlerEnabled: true,
          issueKeyPrefix: 'HELP_JP',
          defaultReporter: 'postmaster@example.test',
          maxMessageBytes: 1024,
          acknowledgeWith: smtp.id,
          acknowledgeWithName: 'Support outbox',
          errorFolder: 'Outlink/Failed',
        };
        assert.deepEqual(handlerOf(created), expected);
        const listed = (await call('GET', '/api/v1/mail-servers?limit=200')).json() as {
          items: MailServerJson[];
        };
        const item = listed.items.find((s) => s.id === created.id);
        assert.ok(item);
        assert.deepEqual(handlerOf(item), expected);
        const row = await outlink.services.store.db
          .selectFrom('mail_servers')
          .select([
            'handler_enabled',
            'issue_key_prefix',
            'default_reporter',
            'max_message_bytes',
            'ack_mail_server_id',
            'error_folder',
          ])
          .where('id', '=', created.id)
          .executeTakeFirstOrThrow();
        assert.deepEqual(row, {
          handler_enabled: 1,
          issue_key_prefix: 'HELP_JP',
          default_reporter: 'postmaster@example.test',
          max_message_bytes: 1024,
          ack_mail_server_id: smtp.id,
          error_folder: 'Outlink/Failed',
        });
      });

      it('updates each field alone, keeps the others, and records what changed', async () => {
        const created = await create('imap');
        const steps: [change: Record<string, unknown>, effect: Record<string, unknown>][] = [
          [{ handlerEnabled: true }, { handlerEnabled: true }],
          [{ issueKeyPrefix: 'SUP' }, { issueKeyPrefix: 'SUP' }],
          [{ defaultReporter: 'help@example.test' }, { defaultReporter: 'help@example.test' }],
          [{ maxMessageBytes: 104_857_600 }, { maxMessageBytes: 104_857_600 }],
          [
            { acknowledgeWith: smtp.id },
            { acknowledgeWith: smtp.id, acknowledgeWithName: 'Support outbox' },
          ],
          [
            { acknowledgeWith: otherSmtp.id },
            { acknowledgeWith: otherSmtp.id, acknowledgeWithName: 'Other outbox' },
          ],
          [{ errorFolder: 'Failed' }, { errorFolder: 'Failed' }],
          [
            {
              handlerEnabled: false,
              defaultReporter: null,
              acknowledgeWith: null,
              errorFolder: null,
            },
            {
              handlerEnabled: false,
              defaultReporter: null,
              acknowledgeWith: null,
              acknowledgeWithName: null,
              errorFolder: null,
            },
          ],
        ];
        let expected: Record<string, unknown> = handlerOf(created);
        for (const [change, effect] of steps) {
          const updated = await patch(created.id, change);
          expected = { ...expected, ...effect };
          assert.deepEqual(handlerOf(updated), expected, JSON.stringify(change));
          assert.equal(updated.port, created.port);
        }
        const events = await outlink.services.store.db
          .selectFrom('events')
          .select(['data'])
          .where('mail_server_id', '=', created.id)
          .where('type', '=', 'mail_server.updated')
          .orderBy('seq')
          .execute();
        assert.deepEqual(
          events.map((e) => (JSON.parse(e.data) as { changed: string[] }).changed),
          steps.map(([change]) => Object.keys(change)),
        );
      });

      it('a POP3 server acknowledges too, but has no error folder', async () => {
        const created = await create('pop3', { acknowledgeWith: smtp.id, handlerEnabled: true });
        assert.deepEqual(handlerOf(created), {
          ...INCOMING_DEFAULTS,
          handlerEnabled: true,
          acknowledgeWith: smtp.id,
          acknowledgeWithName: 'Support outbox',
        });
        // null is "none", which a POP3 server has anyway.
        assert.equal((await patch(created.id, { errorFolder: null })).errorFolder, null);
      });

      it('shows the new name of a renamed acknowledging server', async () => {
        const outbox = await create('smtp', { name: 'Renamed outbox' });
        const inbox = await create('imap', { acknowledgeWith: outbox.id });
        await patch(outbox.id, { name: 'Renamed outbox 2' });
        const fetched = (await call('GET', `/api/v1/mail-servers/${inbox.id}`)).json();
        assert.equal((fetched as MailServerJson).acknowledgeWithName, 'Renamed outbox 2');
      });
    });

    describe('an outgoing server that acknowledges', () => {
      it('is not deleted while incoming servers use it; the answer names them', async () => {
        const outbox = await create('smtp', { name: `Acks ${dialect}` });
        const zeta = await create('imap', { name: `Zeta ${dialect}`, acknowledgeWith: outbox.id });
        const alpha = await create('pop3', {
          name: `Alpha ${dialect}`,
          acknowledgeWith: outbox.id,
        });
        const before = await snapshot();
        const refused = await call('DELETE', `/api/v1/mail-servers/${outbox.id}`);
        assert.equal(refused.statusCode, 409, refused.body);
        assert.deepEqual(errorOf(refused), {
          code: 'mail_server_in_use',
          message: `The mail server is used by mail servers to acknowledge new issues: Alpha ${dialect}, Zeta ${dialect}.`,
          remedy:
            'Change the acknowledgement of those mail servers first (another outgoing mail server, or none).',
        });
        const japanese = await outlink.app.inject({
          method: 'DELETE',
          url: `/api/v1/mail-servers/${outbox.id}`,
          headers: { ...(await outlink.adminHeaders()), 'accept-language': 'ja' },
        });
        assert.deepEqual(errorOf(japanese), {
          code: 'mail_server_in_use',
          message: `このメール サーバーは次のメール サーバーの新しい課題の受付通知に使用されています: Alpha ${dialect}, Zeta ${dialect}。`,
          remedy:
            '先にそれらのメール サーバーの受付通知を変更してください (別の送信メール サーバー、または通知しない)。',
        });
        assert.deepEqual(await snapshot(), before, 'nothing deleted, nothing recorded');

        await patch(alpha.id, { acknowledgeWith: null });
        const still = await call('DELETE', `/api/v1/mail-servers/${outbox.id}`);
        assert.equal(
          errorOf(still).message,
          `The mail server is used by mail servers to acknowledge new issues: Zeta ${dialect}.`,
        );
        // Deleting the incoming server frees the outgoing one too.
        assert.equal((await call('DELETE', `/api/v1/mail-servers/${zeta.id}`)).statusCode, 204);
        assert.equal((await call('DELETE', `/api/v1/mail-servers/${outbox.id}`)).statusCode, 204);
      });
    });

    describe('bad input: exact codes, the database untouched', () => {
      type Case = readonly [
        label: string,
        body: () => Record<string, unknown>,
        code: string,
        field: string,
      ];
      const on =
        (protocol: 'imap' | 'pop3' | 'smtp', field: string, value: unknown) =>
        (): Record<string, unknown> => {
          const out: Record<string, unknown> = body(protocol);
          if (value === MISSING) delete out[field];
          else out[field] = value;
          return out;
        };
      const imap = (field: string, value: unknown) => on('imap', field, value);
      const createCases: Case[] = [
        ['handlerEnabled: a string', imap('handlerEnabled', 'yes'), 'field_type', 'handlerEnabled'],
        ['handlerEnabled: a number', imap('handlerEnabled', 1), 'field_type', 'handlerEnabled'],
        ['handlerEnabled: null', imap('handlerEnabled', null), 'field_type', 'handlerEnabled'],
        [
          'handlerEnabled: SMTP',
          on('smtp', 'handlerEnabled', false),
          'mail_field_not_applicable',
          'handlerEnabled',
        ],
        ['issueKeyPrefix: empty', imap('issueKeyPrefix', ''), 'field_empty', 'issueKeyPrefix'],
        [
          'issueKeyPrefix: a digit first',
          imap('issueKeyPrefix', '1MAIL'),
          'field_invalid',
          'issueKeyPrefix',
        ],
        [
          'issueKeyPrefix: a hyphen',
          imap('issueKeyPrefix', 'MAIL-'),
          'field_invalid',
          'issueKeyPrefix',
        ],
        [
          'issueKeyPrefix: not ASCII',
          imap('issueKeyPrefix', 'メール'),
          'field_invalid',
          'issueKeyPrefix',
        ],
        [
          'issueKeyPrefix: 11 characters',
          imap('issueKeyPrefix', 'ABCDEFGHIJK'),
          'field_too_long',
          'issueKeyPrefix',
        ],
        ['issueKeyPrefix: null', imap('issueKeyPrefix', null), 'field_type', 'issueKeyPrefix'],
        [
          'issueKeyPrefix: SMTP',
          on('smtp', 'issueKeyPrefix', 'MAIL'),
          'mail_field_not_applicable',
          'issueKeyPrefix',
        ],
        [
          'defaultReporter: not an address',
          imap('defaultReporter', 'postmaster'),
          'field_invalid',
          'defaultReporter',
        ],
        [
          'defaultReporter: a display name',
          imap('defaultReporter', 'Help <help@example.test>'),
          'field_invalid',
          'defaultReporter',
        ],
        ['defaultReporter: empty', imap('defaultReporter', ''), 'field_empty', 'defaultReporter'],
        [
          'defaultReporter: too long',
          imap('defaultReporter', `${'a'.repeat(310)}@example.test`),
          'field_too_long',
          'defaultReporter',
        ],
        ['defaultReporter: a number', imap('defaultReporter', 7), 'field_type', 'defaultReporter'],
        [
          'defaultReporter: SMTP',
          on('smtp', 'defaultReporter', 'help@example.test'),
          'mail_field_not_applicable',
          'defaultReporter',
        ],
        [
          'maxMessageBytes: under 1 KiB',
          imap('maxMessageBytes', 1023),
          'field_invalid',
          'maxMessageBytes',
        ],
        [
          'maxMessageBytes: over 100 MiB',
          imap('maxMessageBytes', 104_857_601),
          'field_invalid',
          'maxMessageBytes',
        ],
        [
          'maxMessageBytes: a fraction',
          imap('maxMessageBytes', 2048.5),
          'field_type',
          'maxMessageBytes',
        ],
        [
          'maxMessageBytes: a string',
          imap('maxMessageBytes', '2048'),
          'field_type',
          'maxMessageBytes',
        ],
        ['maxMessageBytes: null', imap('maxMessageBytes', null), 'field_type', 'maxMessageBytes'],
        [
          'maxMessageBytes: SMTP',
          on('smtp', 'maxMessageBytes', 2048),
          'mail_field_not_applicable',
          'maxMessageBytes',
        ],
        [
          'acknowledgeWith: not a uuid',
          imap('acknowledgeWith', 'Support outbox'),
          'field_invalid',
          'acknowledgeWith',
        ],
        [
          'acknowledgeWith: an unknown server',
          imap('acknowledgeWith', UNKNOWN_ID),
          'field_invalid',
          'acknowledgeWith',
        ],
        [
          'acknowledgeWith: SMTP',
          () => ({ ...body('smtp'), acknowledgeWith: smtp.id }),
          'mail_field_not_applicable',
          'acknowledgeWith',
        ],
        ['errorFolder: empty', imap('errorFolder', ''), 'field_empty', 'errorFolder'],
        ['errorFolder: control', imap('errorFolder', 'Fail\ned'), 'field_invalid', 'errorFolder'],
        [
          'errorFolder: the folder read',
          imap('errorFolder', 'INBOX'),
          'field_invalid',
          'errorFolder',
        ],
        [
          'errorFolder: POP3',
          on('pop3', 'errorFolder', 'Failed'),
          'mail_field_not_applicable',
          'errorFolder',
        ],
        [
          'errorFolder: SMTP',
          on('smtp', 'errorFolder', 'Failed'),
          'mail_field_not_applicable',
          'errorFolder',
        ],
      ];

      let incoming: MailServerJson;
      let pop3: MailServerJson;
      let baseline: Record<string, string[]>;
      before(async () => {
        incoming = await create('imap', { folder: 'Support', acknowledgeWith: smtp.id });
        pop3 = await create('pop3');
        baseline = await snapshot();
      });
      const expectError = async (res: LightMyRequestResponse, code: string, field: string) => {
        assert.equal(res.statusCode, 422, res.body);
        const error = errorOf(res);
        assert.deepEqual({ code: error.code, field: error.field }, { code, field }, res.body);
        assert.ok(error.message.length > 0);
        assert.deepEqual(await snapshot(), baseline, 'the database must be untouched');
      };

      for (const [label, make, code, field] of createCases) {
        it(`POST ${label} → 422 ${code}`, async () => {
          await expectError(await call('POST', '/api/v1/mail-servers', make()), code, field);
        });
      }

      const patchCases: readonly [
        label: string,
        target: () => MailServerJson,
        change: () => Record<string, unknown>,
        code: string,
        field: string,
      ][] = [
        [
          'an incoming server as the acknowledging one',
          () => incoming,
          () => ({ acknowledgeWith: pop3.id }),
          'field_invalid',
          'acknowledgeWith',
        ],
        [
          'itself as the acknowledging one',
          () => incoming,
          () => ({ acknowledgeWith: incoming.id }),
          'field_invalid',
          'acknowledgeWith',
        ],
        [
          'the error folder as the folder read',
          () => incoming,
          () => ({ errorFolder: 'Support' }),
          'field_invalid',
          'errorFolder',
        ],
        [
          'the folder read as the error folder',
          () => incoming,
          () => ({ errorFolder: 'Failed', folder: 'Failed' }),
          'field_invalid',
          'errorFolder',
        ],
        [
          'a prefix with a space',
          () => incoming,
          () => ({ issueKeyPrefix: 'MA IL' }),
          'field_invalid',
          'issueKeyPrefix',
        ],
        [
          'a size limit of 0',
          () => incoming,
          () => ({ maxMessageBytes: 0 }),
          'field_invalid',
          'maxMessageBytes',
        ],
        [
          'an error folder for POP3',
          () => pop3,
          () => ({ errorFolder: 'Failed' }),
          'mail_field_not_applicable',
          'errorFolder',
        ],
        [
          'the handler of an outgoing server',
          () => smtp,
          () => ({ handlerEnabled: true }),
          'mail_field_not_applicable',
          'handlerEnabled',
        ],
        [
          'an acknowledging server for an outgoing server',
          () => smtp,
          () => ({ acknowledgeWith: otherSmtp.id }),
          'mail_field_not_applicable',
          'acknowledgeWith',
        ],
      ];
      for (const [label, target, change, code, field] of patchCases) {
        it(`PATCH ${label} → 422 ${code}`, async () => {
          await expectError(
            await call('PATCH', `/api/v1/mail-servers/${target().id}`, change()),
            code,
            field,
          );
        });
      }
    });
  });
}
