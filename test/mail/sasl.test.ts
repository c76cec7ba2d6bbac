import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  chooseMechanism,
  decodeErrorChallenge,
  errorChallengeReply,
  initialResponse,
  MAX_ERROR_CHALLENGE_LENGTH,
  oauthBearerInitialResponse,
  type SaslChallengeErrorCode,
  type SaslMechanism,
  xoauth2InitialResponse,
} from '../../src/mail/sasl.js';
import { type MailWorld, startMailWorld } from '../support/mail-world.js';
import { ALICE, BOB } from '../support/worlds.js';
import { lineClient } from './line-client.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const decoded = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');

describe('SASL initial client responses', () => {
  it('XOAUTH2 matches the example of Google\'s "XOAUTH2 protocol" page byte for byte', () => {
    assert.equal(
      xoauth2InitialResponse({
        user: 'someuser@example.com',
        accessToken: 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg',
      }),
      'dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==',
    );
  });

  it('OAUTHBEARER matches RFC 7628 §4.1 byte for byte (host and port included)', () => {
    const response = oauthBearerInitialResponse(
      { user: 'user@example.com', accessToken: 'vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==' },
      { host: 'server.example.com', port: 143 },
    );
    assert.equal(
      response,
      'bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB',
    );
  });

  it('OAUTHBEARER leaves host and port out when not given and escapes "," and "=" in the user (RFC 5801 §4)', () => {
    assert.equal(
      decoded(oauthBearerInitialResponse({ user: 'a,b=c@example.test', accessToken: 'tok' })),
      'n,a=a=2Cb=3Dc@example.test,\x01auth=Bearer tok\x01\x01',
    );
  });

  it('initialResponse() dispatches on the mechanism', () => {
    const credentials = { user: ALICE, accessToken: 'abc.DEF-123_~+/=' };
    assert.equal(
      decoded(initialResponse('XOAUTH2', credentials)),
      `user=${ALICE}\x01auth=Bearer abc.DEF-123_~+/=\x01\x01`,
    );
    assert.equal(
      decoded(
        initialResponse('OAUTHBEARER', credentials, { host: 'mail.example.test', port: 995 }),
      ),
      `n,a=${ALICE},\x01host=mail.example.test\x01port=995\x01auth=Bearer abc.DEF-123_~+/=\x01\x01`,
    );
  });

  it('refuses arguments that would corrupt the response, with one message shape', () => {
    const cases: [() => string, string][] = [
      [
        () => xoauth2InitialResponse({ user: '', accessToken: 't' }),
        '"user" must be a non-empty string',
      ],
      [
        () => xoauth2InitialResponse({ user: 'a\x01auth=Bearer x', accessToken: 't' }),
        '"user" must not contain control characters',
      ],
      [
        () => xoauth2InitialResponse({ user: ALICE, accessToken: 'tok\x01\x01' }),
        '"accessToken" must be a bearer token (RFC 6750 §2.1 b64token)',
      ],
      [
        () => xoauth2InitialResponse({ user: ALICE, accessToken: 'two words' }),
        '"accessToken" must be a bearer token (RFC 6750 §2.1 b64token)',
      ],
      [
        () => xoauth2InitialResponse({ user: ALICE, accessToken: '' }),
        '"accessToken" must be a bearer token (RFC 6750 §2.1 b64token)',
      ],
      [
        () => oauthBearerInitialResponse({ user: ALICE, accessToken: 't' }, { host: 'a b' }),
        '"host" must be a host name without spaces or control characters',
      ],
      [
        () => oauthBearerInitialResponse({ user: ALICE, accessToken: 't' }, { port: 0 }),
        '"port" must be an integer from 1 to 65535',
      ],
      [
        () => oauthBearerInitialResponse({ user: ALICE, accessToken: 't' }, { port: 1.5 }),
        '"port" must be an integer from 1 to 65535',
      ],
    ];
    for (const [run, message] of cases) {
      assert.throws(run, (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.equal(error.message, message);
        return true;
      });
    }
  });
});

describe('SASL mechanism choice', () => {
  const table: [readonly string[] | undefined, SaslMechanism | undefined, string][] = [
    [['XOAUTH2', 'OAUTHBEARER'], undefined, 'OAUTHBEARER'],
    [['PLAIN', 'XOAUTH2'], undefined, 'XOAUTH2'],
    [['oauthbearer'], undefined, 'OAUTHBEARER'],
    [['XOAUTH2', 'OAUTHBEARER'], 'XOAUTH2', 'XOAUTH2'],
    [['XOAUTH2'], 'OAUTHBEARER', 'not_offered'],
    [['PLAIN', 'LOGIN'], undefined, 'not_offered'],
    [[], undefined, 'not_offered'],
    [undefined, undefined, 'XOAUTH2'],
    [undefined, 'OAUTHBEARER', 'OAUTHBEARER'],
  ];
  for (const [offered, override, expected] of table) {
    it(`offered ${JSON.stringify(offered)}, override ${override ?? 'none'} → ${expected}`, () => {
      const choice = chooseMechanism(offered, override);
      if (expected === 'not_offered') {
        assert.deepEqual(choice, { ok: false, reason: 'not_offered', offered });
      } else {
        assert.deepEqual(choice, { ok: true, mechanism: expected });
      }
    });
  }
});

describe('SASL error challenge (RFC 7628 §3.2.2)', () => {
  it('decodes the example of RFC 7628 §4.3', () => {
    assert.deepEqual(
      decodeErrorChallenge(
        'eyJzdGF0dXMiOiI0MDEiLCJzY29wZSI6ImV4YW1wbGVfc2NvcGUiLCJvcGVuaWQtY29uZmlndXJhdGlvbiI6Imh0dHBzOi8vZXhhbXBsZS5jb20vLndlbGwta25vd24vb3BlbmlkLWNvbmZpZ3VyYXRpb24ifQ==',
      ),
      {
        ok: true,
        challenge: {
          status: '401',
          scope: 'example_scope',
          openidConfiguration: 'https://example.com/.well-known/openid-configuration',
        },
      },
    );
  });

  it("decodes Gmail's and Dovecot's challenges (PEERS.md), ignoring unknown members", () => {
    assert.deepEqual(
      decodeErrorChallenge(
        b64('{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}'),
      ),
      {
        ok: true,
        challenge: { status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' },
      },
    );
    assert.deepEqual(
      decodeErrorChallenge('eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0='),
      { ok: true, challenge: { status: '401', schemes: 'bearer', scope: 'mail' } },
    );
    assert.deepEqual(decodeErrorChallenge('eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0='), {
      ok: true,
      challenge: { status: 'invalid_token' },
    });
    assert.deepEqual(decodeErrorChallenge(b64('{"status":"400","x-extra":[1,{"a":null}]}')), {
      ok: true,
      challenge: { status: '400' },
    });
  });

  const valid = b64('{"status":"401","schemes":"bearer","scope":"mail"}');
  const malformed: [string, string, SaslChallengeErrorCode, string][] = [
    ['empty', '', 'challenge_not_base64', 'the error challenge is empty'],
    [
      'truncated base64',
      valid.slice(0, 30),
      'challenge_not_base64',
      'the error challenge is truncated base64 (its length is not a multiple of 4)',
    ],
    [
      'not base64',
      'this is not base64!!',
      'challenge_not_base64',
      'the error challenge is not base64 (RFC 4648 §4)',
    ],
    [
      'base64url alphabet',
      'eyJzdGF0dXMiOiI0MDEi_-__',
      'challenge_not_base64',
      'the error challenge is not base64 (RFC 4648 §4)',
    ],
    [
      'JSON truncated at a base64 boundary',
      valid.slice(0, 28),
      'challenge_not_json',
      'the error challenge is not JSON (truncated or garbled)',
    ],
    [
      'oversized',
      'A'.repeat(MAX_ERROR_CHALLENGE_LENGTH + 4),
      'challenge_too_large',
      `the error challenge is ${MAX_ERROR_CHALLENGE_LENGTH + 4} characters long; at most ${MAX_ERROR_CHALLENGE_LENGTH} are accepted`,
    ],
    [
      'not UTF-8',
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'),
      'challenge_not_utf8',
      'the error challenge is not UTF-8 text',
    ],
    [
      'an array',
      b64('["401"]'),
      'challenge_not_object',
      'the error challenge is not a JSON object',
    ],
    ['null', b64('null'), 'challenge_not_object', 'the error challenge is not a JSON object'],
    ['a string', b64('"401"'), 'challenge_not_object', 'the error challenge is not a JSON object'],
    [
      'no status',
      b64('{"scope":"mail"}'),
      'challenge_status_missing',
      'the error challenge has no "status" member',
    ],
    [
      'a numeric status',
      b64('{"status":401}'),
      'challenge_member_invalid',
      'the error challenge\'s "status" member is not a string',
    ],
    [
      'a non-string scope',
      b64('{"status":"401","scope":["a","b"]}'),
      'challenge_member_invalid',
      'the error challenge\'s "scope" member is not a string',
    ],
  ];
  for (const [name, input, code, message] of malformed) {
    it(`reports ${name} as ${code}`, () => {
      const result = decodeErrorChallenge(input);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.error.name, 'SaslChallengeError');
      assert.equal(result.error.code, code);
      assert.equal(result.error.message, message);
    });
  }

  it('accepts a challenge exactly at the size limit', () => {
    const wrapper = '{"status":"401","p":""}';
    const padding = 'x'.repeat((MAX_ERROR_CHALLENGE_LENGTH / 4) * 3 - wrapper.length);
    const input = b64(`{"status":"401","p":"${padding}"}`);
    assert.equal(input.length, MAX_ERROR_CHALLENGE_LENGTH);
    assert.deepEqual(decodeErrorChallenge(input), { ok: true, challenge: { status: '401' } });
  });

  it('answers the challenge as each mechanism requires (RFC 7628 §3.2.3)', () => {
    assert.equal(errorChallengeReply('XOAUTH2'), '');
    assert.equal(errorChallengeReply('OAUTHBEARER'), 'AQ==');
    assert.deepEqual([...Buffer.from(errorChallengeReply('OAUTHBEARER'), 'base64')], [0x01]);
  });
});

describe('SASL against Dovecot (IMAP and SMTP submission on the wire)', () => {
  let world: MailWorld;
  let aliceToken: string;
  let bobToken: string;

  before(async () => {
    world = await startMailWorld();
    [aliceToken, bobToken] = await Promise.all([world.accessToken(ALICE), world.accessToken(BOB)]);
  });
  after(async () => {
    await world?.close();
  });

  const expectedChallenge = (mechanism: SaslMechanism) => ({
    ok: true,
    challenge:
      mechanism === 'XOAUTH2'
        ? {
            status: '401',
            schemes: 'bearer',
            scope: 'mail',
            openidConfiguration: world.as.endpoints.discovery,
          }
        : { status: 'invalid_token', openidConfiguration: world.as.endpoints.discovery },
  });

  for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
    it(`IMAP AUTHENTICATE ${mechanism} with a token the AS issued is accepted`, async () => {
      const imap = await lineClient(world.dovecot.ports.imap);
      try {
        assert.match(await imap.line(), /^\* OK \[CAPABILITY .*AUTH=XOAUTH2 AUTH=OAUTHBEARER\]/);
        const response = initialResponse(
          mechanism,
          { user: ALICE, accessToken: aliceToken },
          { host: '127.0.0.1', port: world.dovecot.ports.imap },
        );
        imap.send(`a1 AUTHENTICATE ${mechanism} ${response}`);
        const lines = await imap.until(/^a1 /);
        assert.match(lines.at(-1)!, /^a1 OK \[CAPABILITY [^\]]+\] Logged in$/);
      } finally {
        imap.close();
      }
    });

    it(`IMAP ${mechanism} with another user's token: challenge decoded, answered, then NO`, async () => {
      const imap = await lineClient(world.dovecot.ports.imap);
      try {
        await imap.line();
        imap.send(
          `a1 AUTHENTICATE ${mechanism} ${initialResponse(mechanism, { user: ALICE, accessToken: bobToken })}`,
        );
        const challenge = await imap.line();
        assert.match(challenge, /^\+ /);
        assert.deepEqual(decodeErrorChallenge(challenge.slice(2)), expectedChallenge(mechanism));
        imap.send(errorChallengeReply(mechanism));
        assert.equal(await imap.line(), 'a1 NO [AUTHENTICATIONFAILED] Authentication failed.');
      } finally {
        imap.close();
      }
    });

    it(`SMTP submission AUTH ${mechanism}: 235 with a good token; 334 challenge then 535 with a bad one`, async () => {
      const smtp = await lineClient(world.dovecot.ports.submission);
      try {
        assert.equal(await smtp.line(), '220 mail.example.test Dovecot (Debian) ready.');
        smtp.send('EHLO client.example.test');
        const ehlo = await smtp.until(/^250 /);
        assert.ok(ehlo.includes('250-AUTH XOAUTH2 OAUTHBEARER'), ehlo.join('\n'));
        smtp.send(
          `AUTH ${mechanism} ${initialResponse(mechanism, { user: ALICE, accessToken: 'not-a-token' })}`,
        );
        const challenge = await smtp.line();
        assert.match(challenge, /^334 /);
        assert.deepEqual(decodeErrorChallenge(challenge.slice(4)), expectedChallenge(mechanism));
        smtp.send(errorChallengeReply(mechanism));
        assert.equal(await smtp.line(), '535 5.7.8 Authentication failed.');
        smtp.send(
          `AUTH ${mechanism} ${initialResponse(mechanism, { user: ALICE, accessToken: aliceToken })}`,
        );
        assert.equal(await smtp.line(), '235 2.7.0 Logged in.');
      } finally {
        smtp.close();
      }
    });
  }
});
