/**
 * A mail server's refusal in the mail handler's status (issue 13 item 2), against real Dovecot:
 * the status shows what the server said, the error catalog's cause and the remedy next to the
 * handler's message, never only a generic "the last run failed", on SQLite and PostgreSQL (the
 * failure is kept in the handler's state row).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { translate } from '../../src/i18n/i18n.js';
import { type OutlinkMailWorld, startOutlinkMailWorld } from '../mail/mail-servers-world.js';
import { Dialects } from '../support/harness.js';
import { closedPort } from '../support/ports.js';
import { ALICE, BOB } from '../support/worlds.js';

interface StatusJson {
  status: string;
  lastError: {
    code: string;
    message: string;
    serverResponse?: string;
    serverCode?: string;
    refusal?: string;
    cause?: string;
    remedy?: string;
  } | null;
}

for (const dialect of Dialects) {
  describe(`mail handler status: a Dovecot refusal read by the error catalog, on ${dialect}`, () => {
    let world: OutlinkMailWorld;
    let counter = 0;
    before(async () => {
      world = await startOutlinkMailWorld({ dialect });
    });
    after(async () => {
      await world?.close();
    });

    const imapServer = (connectionId: string, port: number) =>
      world.createServer({
        name: `Refused ${++counter}`,
        protocol: 'imap',
        host: '127.0.0.1',
        port,
        security: 'tls',
        username: ALICE,
        authentication: { method: 'oauth2', connectionId },
        handlerEnabled: true,
        issueKeyPrefix: `RF${counter}`,
      });
    const pollAndStatus = async (id: string, lang = 'en') => {
      const polled = await world.api('POST', `/api/v1/mail-servers/${id}/poll`);
      assert.equal(polled.statusCode >= 500, true, polled.body);
      const res = await world.api('GET', `/api/v1/mail-servers/${id}/handler?lang=${lang}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as StatusJson;
    };

    it("a token of another account: Dovecot's words, the catalog's cause, the remedy", async () => {
      const server = await imapServer(world.bob, world.dovecot.ports.imaps!);
      const status = await pollAndStatus(server.id);
      assert.equal(status.status, 'failed');
      assert.deepEqual(status.lastError, {
        code: 'auth_failed',
        message: translate('en', 'handler.lastError.other', { code: 'auth_failed' }),
        serverResponse: 'Authentication failed.',
        serverCode: 'AUTHENTICATIONFAILED',
        refusal: 'server_token_rejected',
        cause: translate('en', 'mail.refusals.server_token_rejected'),
        remedy: translate('en', 'mail.remedies.wrong_account', { account: BOB, username: ALICE }),
      });
      const ja = await pollAndStatus(server.id, 'ja');
      assert.equal(ja.lastError?.cause, translate('ja', 'mail.refusals.server_token_rejected'));
      assert.match(ja.lastError?.remedy ?? '', /フル アクセス/);
      // No token in what the status shows.
      const tokens = await world.storedTokens(world.bob);
      assert.ok(!JSON.stringify(ja).includes(tokens.accessToken));
    });

    it('Dovecot cannot check tokens: the temporary entry and its remedy', async () => {
      const port = await closedPort();
      const broken = await world.startDovecot({
        tls: world.tls,
        introspection: { url: `https://127.0.0.1:${port}/token/introspection` },
      });
      const server = await imapServer(world.alice, broken.ports.imaps!);
      const status = await pollAndStatus(server.id);
      assert.equal(status.lastError?.code, 'auth_temporary');
      assert.equal(status.lastError?.refusal, 'server_temporary');
      assert.equal(status.lastError?.serverCode, 'UNAVAILABLE');
      assert.match(status.lastError?.serverResponse ?? '', /^Temporary authentication failure\./);
      assert.equal(status.lastError?.remedy, translate('en', 'mail.remedies.server_temporary'));
    });
  });
}
