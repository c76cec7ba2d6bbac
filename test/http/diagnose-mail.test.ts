import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type OutlinkMailWorld, startOutlinkMailWorld } from '../mail/mail-servers-world.js';
import { ALICE, BOB } from '../support/worlds.js';
import { snapshot } from './diagnose-support.js';

/**
 * Diagnose's mail server check (issue 13 item 1, check 12) against Dovecot validating the
 * tokens at oidc-provider: a good server passes, one without TLS is a warning, a token Dovecot
 * refuses (its grant revoked) fails with Dovecot's own words — and nothing is refreshed or
 * recorded: the database is unchanged after the diagnosis.
 */
interface CheckJson {
  id: string;
  status: string;
  subject?: string;
  message: string;
  remedy?: string;
}

describe('diagnose: the mail servers using the link, against Dovecot', () => {
  let world: OutlinkMailWorld;
  const diagnose = async () => {
    const res = await world.api('POST', `/api/v1/links/${world.linkId}/diagnose`);
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { checks: CheckJson[] }).checks.filter((c) => c.id === 'mail_server');
  };

  before(async () => {
    world = await startOutlinkMailWorld();
    const plain = await world.startDovecot({});
    await world.createServer({
      name: 'Alice IMAP',
      protocol: 'imap',
      host: '127.0.0.1',
      port: world.dovecot.ports.imaps,
      security: 'tls',
      username: ALICE,
      authentication: { method: 'oauth2', connectionId: world.alice },
    });
    await world.createServer({
      name: 'Bob plain POP3',
      protocol: 'pop3',
      host: '127.0.0.1',
      port: plain.ports.pop3,
      security: 'none',
      username: BOB,
      authentication: { method: 'oauth2', connectionId: world.bob },
    });
  });
  after(() => world?.close());

  it('passes a good server and warns about one without TLS', async () => {
    const checks = await diagnose();
    assert.deepEqual(
      checks.map((c) => `${c.subject}:${c.status}`),
      ['Alice IMAP:pass', 'Bob plain POP3:warn'],
      JSON.stringify(checks, null, 1),
    );
    assert.match(checks[1]!.message, /without TLS/);
    assert.match(checks[1]!.remedy ?? '', /tls or starttls/);
  });

  it('fails a server that refuses the token, with its words, refreshing nothing', async () => {
    await world.revoke(world.alice, 'access_token');
    const before = await snapshot(world.outlink);
    const [alice] = await diagnose();
    assert.equal(alice?.status, 'fail', JSON.stringify(alice));
    assert.match(alice!.message, /^Alice IMAP \(imap 127\.0\.0\.1:\d+\) failed at /);
    assert.match(alice!.message, /AUTHENTICATIONFAILED|Authentication failed/);
    assert.match(alice!.remedy ?? '', /diagnose does not refresh it\): refresh the connection/);
    assert.deepEqual(await snapshot(world.outlink), before, 'diagnose must change nothing');
  });
});
