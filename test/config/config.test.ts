import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const CWD = '/srv/outlink';
const key = () => randomBytes(32).toString('base64');

function violationsOf(env: Record<string, string>): { variable: string; problem: string }[] {
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
    assert.equal(config.trustProxy, '10.0.0.0/8');
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
      OUTLINK_TRUST_PROXY: 'true',
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
      { OUTLINK_TLS: 'off', OUTLINK_TRUST_PROXY: 'true', OUTLINK_BASE_URL: 'https://o.example' },
      CWD,
    );
    assert.deepEqual(behindProxy.tls, { mode: 'off' });
    assert.equal(behindProxy.trustProxy, true);
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
});
