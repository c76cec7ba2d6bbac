import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const CWD = '/srv/outlink';
const key = () => randomBytes(32).toString('base64');

function violationsOf(
  env: Record<string, string>,
): { variable: string; problem: string; code?: string }[] {
  try {
    loadConfig(env, CWD);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.violations];
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({}, CWD);
    assert.equal(config.baseUrl.href, 'https://localhost:8443/');
    assert.equal(config.baseUrlIsHttps, true);
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 8443 });
    assert.equal(config.dataDir, '/srv/outlink/data');
    assert.deepEqual(config.database, { kind: 'sqlite', file: '/srv/outlink/data/outlink.db' });
    assert.deepEqual(config.tls, { mode: 'generated' });
    assert.equal(config.trustProxy, undefined);
    assert.equal(config.masterKeys, undefined);
    assert.equal(config.adminPassword, undefined);
    assert.equal(config.logLevel, 'info');
  });

  it('treats empty variables as unset and ignores variables it does not know', () => {
    const config = loadConfig(
      { OUTLINK_BASE_URL: '', OUTLINK_LISTEN: '', OUTLINK_SOMETHING: 'x', HOME: '/root' },
      CWD,
    );
    assert.equal(config.baseUrl.href, 'https://localhost:8443/');
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 8443 });
  });

  it('reads every variable', () => {
    const [k1, k2] = [key(), key()];
    const config = loadConfig(
      {
        OUTLINK_BASE_URL: 'https://outlink.example.com/base/',
        OUTLINK_LISTEN: '[::1]:9443',
        OUTLINK_DATA_DIR: 'state',
        OUTLINK_DATABASE_URL: 'postgres://outlink@db.example.com:5432/outlink',
        OUTLINK_TLS: 'off',
        OUTLINK_TRUST_PROXY: '10.0.0.0/8',
        OUTLINK_MASTER_KEY: `${k1}, ${k2}`,
        OUTLINK_ADMIN_PASSWORD: 'a-long-enough-password',
        OUTLINK_LOG_LEVEL: 'debug',
      },
      CWD,
    );
    assert.equal(config.baseUrl.href, 'https://outlink.example.com/base');
    assert.deepEqual(config.listen, { host: '::1', port: 9443 });
    assert.equal(config.dataDir, '/srv/outlink/state');
    assert.deepEqual(config.database, {
      kind: 'postgres',
      url: 'postgres://outlink@db.example.com:5432/outlink',
    });
    assert.deepEqual(config.tls, { mode: 'off' });
    assert.deepEqual(config.trustProxy, ['10.0.0.0/8']);
    assert.deepEqual(
      config.masterKeys?.map((k) => k.toString('base64')),
      [k1, k2],
    );
    assert.equal(config.adminPassword, 'a-long-enough-password');
    assert.equal(config.logLevel, 'debug');
  });

  it('takes TLS files given together, resolved against the working directory', () => {
    const config = loadConfig({ OUTLINK_TLS_CERT: 'tls/cert.pem', OUTLINK_TLS_KEY: '/k.pem' }, CWD);
    assert.deepEqual(config.tls, {
      mode: 'files',
      certFile: '/srv/outlink/tls/cert.pem',
      keyFile: '/k.pem',
    });
  });

  it('puts a relative sqlite: path under the working directory', () => {
    const config = loadConfig({ OUTLINK_DATABASE_URL: 'sqlite:db/x.db' }, CWD);
    assert.deepEqual(config.database, { kind: 'sqlite', file: '/srv/outlink/db/x.db' });
  });

  it('reports every violation at once, each naming its variable', () => {
    const violations = violationsOf({
      OUTLINK_LISTEN: 'nowhere',
      OUTLINK_MASTER_KEY: Buffer.alloc(16).toString('base64'),
      OUTLINK_TLS_CERT: '/etc/cert.pem',
      OUTLINK_LOG_LEVEL: 'loud',
      OUTLINK_BASE_URL: 'not a url',
      OUTLINK_DATABASE_URL: 'mysql://db',
      OUTLINK_ADMIN_PASSWORD: 'short',
    });
    const variables = new Set(violations.map((v) => v.variable));
    assert.deepEqual([...variables].sort(), [
      'OUTLINK_ADMIN_PASSWORD',
      'OUTLINK_BASE_URL',
      'OUTLINK_DATABASE_URL',
      'OUTLINK_LISTEN',
      'OUTLINK_LOG_LEVEL',
      'OUTLINK_MASTER_KEY',
      'OUTLINK_TLS_KEY',
    ]);
    for (const v of violations) assert.ok(v.problem.length > 0, v.variable);
  });

  it('reports the TLS-off rules together with the other violations', () => {
    const violations = violationsOf({
      OUTLINK_TLS: 'off',
      OUTLINK_BASE_URL: 'http://outlink.example.com',
      OUTLINK_LISTEN: '127.0.0.1:port',
      OUTLINK_MASTER_KEY: `${key()},${Buffer.alloc(33).toString('base64')}`,
      OUTLINK_LOG_LEVEL: 'verbose',
    });
    assert.deepEqual([...new Set(violations.map((v) => v.variable))].sort(), [
      'OUTLINK_BASE_URL',
      'OUTLINK_LISTEN',
      'OUTLINK_LOG_LEVEL',
      'OUTLINK_MASTER_KEY',
      'OUTLINK_TLS',
    ]);
  });

  it('names the variable in the message of the error', () => {
    try {
      loadConfig({ OUTLINK_LISTEN: 'localhost:99999', OUTLINK_LOG_LEVEL: 'loud' }, CWD);
      assert.fail('accepted');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /OUTLINK_LISTEN: /);
      assert.match(error.message, /OUTLINK_LOG_LEVEL: /);
    }
  });

  it('allows OUTLINK_TLS=off only with a trusted proxy and an https:// base URL', () => {
    const withoutProxy = violationsOf({ OUTLINK_TLS: 'off' });
    assert.deepEqual(
      withoutProxy.map((v) => v.variable),
      ['OUTLINK_TLS'],
    );
    assert.match(withoutProxy[0]!.problem, /OUTLINK_TRUST_PROXY/);

    const httpBase = violationsOf({
      OUTLINK_TLS: 'off',
      OUTLINK_TRUST_PROXY: '127.0.0.1',
      OUTLINK_BASE_URL: 'http://outlink.example.com',
    });
    assert.deepEqual(
      httpBase.map((v) => v.variable),
      ['OUTLINK_BASE_URL'],
    );

    const both = violationsOf({
      OUTLINK_TLS: 'off',
      OUTLINK_BASE_URL: 'http://outlink.example.com',
    });
    assert.deepEqual(both.map((v) => v.variable).sort(), ['OUTLINK_BASE_URL', 'OUTLINK_TLS']);

    const behindProxy = loadConfig(
      {
        OUTLINK_TLS: 'off',
        OUTLINK_TRUST_PROXY: 'loopback',
        OUTLINK_BASE_URL: 'https://o.example',
      },
      CWD,
    );
    assert.deepEqual(behindProxy.tls, { mode: 'off' });
    assert.deepEqual(behindProxy.trustProxy, ['loopback']);
  });

  it('trusts only explicit proxies: addresses, CIDRs and named ranges (issue 11)', () => {
    const config = loadConfig(
      { OUTLINK_TRUST_PROXY: ' 10.0.0.5, 192.168.0.0/16,fd00::/8 , ::1,loopback' },
      CWD,
    );
    assert.deepEqual(config.trustProxy, [
      '10.0.0.5',
      '192.168.0.0/16',
      'fd00::/8',
      '::1',
      'loopback',
    ]);
    assert.ok(Object.isFrozen(config.trustProxy));

    // `true` (every hop) or a hop count would believe any client's X-Forwarded-For.
    for (const value of ['true', 'TRUE', '10.0.0.1,true', '1', '*']) {
      const violations = violationsOf({ OUTLINK_TRUST_PROXY: value });
      assert.deepEqual(
        violations.map((v) => [v.variable, v.code]),
        [['OUTLINK_TRUST_PROXY', 'trust_proxy_not_explicit']],
        value,
      );
      assert.match(violations[0]!.problem, /proxy addresses or CIDRs/);
    }
    for (const value of ['10.0.0.0/33', 'proxy.example.com', '10.0.0.1/8/2', '::1/129', ',']) {
      const violations = violationsOf({ OUTLINK_TRUST_PROXY: value });
      assert.deepEqual(
        violations.map((v) => [v.variable, v.code]),
        [['OUTLINK_TRUST_PROXY', 'trust_proxy_invalid']],
        value,
      );
    }

    // Reported with every other violation at once, code included in the message.
    try {
      loadConfig({ OUTLINK_TRUST_PROXY: 'true', OUTLINK_LISTEN: 'nope' }, CWD);
      assert.fail('accepted');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual([...new Set(error.violations.map((v) => v.variable))].sort(), [
        'OUTLINK_LISTEN',
        'OUTLINK_TRUST_PROXY',
      ]);
      assert.match(error.message, /OUTLINK_TRUST_PROXY: .+ \(trust_proxy_not_explicit\)/);
    }
  });

  it('re-allows refused address ranges only as plain CIDRs or addresses (issue 11)', () => {
    assert.deepEqual(loadConfig({}, CWD).allowAddresses, []);
    const config = loadConfig(
      { OUTLINK_ALLOW_ADDRESSES: ' 169.254.10.0/24, fd00:ec2::254 ,169.254.169.254' },
      CWD,
    );
    assert.deepEqual(config.allowAddresses, [
      '169.254.10.0/24',
      'fd00:ec2::254',
      '169.254.169.254',
    ]);
    assert.ok(Object.isFrozen(config.allowAddresses));
    for (const value of [
      '169.254.0.0/33',
      'metadata.google.internal',
      '2852039166',
      'fe80::/129',
      ',',
    ]) {
      const violations = violationsOf({ OUTLINK_ALLOW_ADDRESSES: value });
      assert.deepEqual(
        violations.map((v) => [v.variable, v.code]),
        [['OUTLINK_ALLOW_ADDRESSES', 'allow_addresses_invalid']],
        value,
      );
      assert.match(violations[0]!.problem, /not an IP address or a CIDR/);
    }
  });

  it('accepts an http:// base URL while TLS is on (links refuse it later, with a reason)', () => {
    const config = loadConfig({ OUTLINK_BASE_URL: 'http://outlink.example.com' }, CWD);
    assert.equal(config.baseUrlIsHttps, false);
  });

  it('refuses other bad values, one variable each', () => {
    const cases: [Record<string, string>, string][] = [
      [{ OUTLINK_TLS_KEY: '/k.pem' }, 'OUTLINK_TLS_CERT'],
      [{ OUTLINK_TLS: 'maybe' }, 'OUTLINK_TLS'],
      [{ OUTLINK_BASE_URL: 'ftp://outlink.example.com' }, 'OUTLINK_BASE_URL'],
      [{ OUTLINK_BASE_URL: 'https://outlink.example.com/?x=1' }, 'OUTLINK_BASE_URL'],
      [{ OUTLINK_BASE_URL: 'https://user:pw@outlink.example.com' }, 'OUTLINK_BASE_URL'],
      [{ OUTLINK_LISTEN: '127.0.0.1:70000' }, 'OUTLINK_LISTEN'],
      [{ OUTLINK_LISTEN: ':8443' }, 'OUTLINK_LISTEN'],
      [
        { OUTLINK_MASTER_KEY: `${key()},${Buffer.alloc(31).toString('base64')}` },
        'OUTLINK_MASTER_KEY',
      ],
      [{ OUTLINK_MASTER_KEY: 'not base64 at all!' }, 'OUTLINK_MASTER_KEY'],
      [{ OUTLINK_DATABASE_URL: 'sqlite:' }, 'OUTLINK_DATABASE_URL'],
      [{ OUTLINK_ADMIN_PASSWORD: 'x'.repeat(257) }, 'OUTLINK_ADMIN_PASSWORD'],
    ];
    for (const [env, variable] of cases) {
      const variables = [...new Set(violationsOf(env).map((v) => v.variable))];
      assert.deepEqual(variables, [variable], JSON.stringify(env));
    }
  });

  it('never echoes a bad master key or admin password in the error', () => {
    const badKey = Buffer.from('sixteen byte key').toString('base64');
    const password = 'tiny-pw';
    try {
      loadConfig({ OUTLINK_MASTER_KEY: badKey, OUTLINK_ADMIN_PASSWORD: password }, CWD);
      assert.fail('accepted');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      const text = `${error.message}${JSON.stringify(error.violations)}`;
      assert.ok(!text.includes(badKey));
      assert.ok(!text.includes(password));
    }
  });

  it('returns a frozen configuration, nested parts included', () => {
    const config = loadConfig({ OUTLINK_MASTER_KEY: key() }, CWD);
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.listen));
    assert.ok(Object.isFrozen(config.database));
    assert.ok(Object.isFrozen(config.tls));
    assert.ok(Object.isFrozen(config.masterKeys));
    assert.throws(() => {
      (config as { logLevel: string }).logLevel = 'trace';
    }, TypeError);
    assert.throws(() => {
      (config.listen as { port: number }).port = 1;
    }, TypeError);
  });

  it('reads the retention settings: 90, 30 and 1 days by default, 0 keeps forever', () => {
    assert.deepEqual(loadConfig({}, CWD).retention, {
      eventsDays: 90,
      webhookDeliveriesDays: 30,
      authorizationFlowsDays: 1,
    });
    const config = loadConfig(
      {
        OUTLINK_RETAIN_EVENTS_DAYS: '0',
        OUTLINK_RETAIN_WEBHOOK_DELIVERIES_DAYS: '7',
        OUTLINK_RETAIN_AUTHORIZATION_FLOWS_DAYS: '36500',
      },
      CWD,
    );
    assert.deepEqual(config.retention, {
      eventsDays: 0,
      webhookDeliveriesDays: 7,
      authorizationFlowsDays: 36500,
    });
    assert.ok(Object.isFrozen(config.retention));
    const problems = violationsOf({
      OUTLINK_RETAIN_EVENTS_DAYS: '-1',
      OUTLINK_RETAIN_WEBHOOK_DELIVERIES_DAYS: '36501',
      OUTLINK_RETAIN_AUTHORIZATION_FLOWS_DAYS: '1.5',
    });
    assert.deepEqual([...new Set(problems.map((p) => p.variable))].sort(), [
      'OUTLINK_RETAIN_AUTHORIZATION_FLOWS_DAYS',
      'OUTLINK_RETAIN_EVENTS_DAYS',
      'OUTLINK_RETAIN_WEBHOOK_DELIVERIES_DAYS',
    ]);
  });
});
