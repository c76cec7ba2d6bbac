import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testTls } from './ca.js';
import { DOVECOT_BINARY, type DovecotIntrospection, startDovecot } from './dovecot.js';

/**
 * Stands in for the `dovecot` binary. The first time, it takes the first port of the
 * configuration before Dovecot starts, as another process might in the moment after the
 * test released it: the socket is bound, listening and inherited across exec, so Dovecot's
 * own bind fails with "Address already in use". Afterwards it is Dovecot itself.
 */
const RACING_WRAPPER = `#!/usr/bin/env python3
import os, re, socket, sys
marker = sys.argv[0] + '.raced'
if not os.path.exists(marker):
    open(marker, 'w').close()
    config = open(sys.argv[sys.argv.index('-c') + 1]).read()
    port = int(re.search(r'^\\s*port = ([1-9][0-9]*)$', config, re.M).group(1))
    taken = socket.socket()
    taken.bind(('127.0.0.1', port))
    taken.listen()
    os.set_inheritable(taken.fileno(), True)
os.execv(${JSON.stringify(DOVECOT_BINARY)}, ['dovecot', *sys.argv[1:]])
`;

/** Introspection settings that Dovecot needs to start; no login here uses them. */
async function unusedIntrospection(): Promise<DovecotIntrospection> {
  return {
    url: 'https://127.0.0.1:9/token/introspection',
    clientId: 'dovecot',
    clientSecret: 'unused',
    caPem: (await testTls()).caPem,
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the Dovecot peer', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outlink-dovecot-test-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('starts again on fresh ports when another process took one before it listened', async () => {
    const wrapper = join(dir, 'racing-dovecot');
    await writeFile(wrapper, RACING_WRAPPER, { mode: 0o755 });
    const dovecot = await startDovecot({
      introspection: await unusedIntrospection(),
      binary: wrapper,
    });
    try {
      assert.equal(existsSync(`${wrapper}.raced`), true, 'the first start was not raced');
      for (const port of Object.values(dovecot.ports)) assert.equal(await accepts(port), true);
    } finally {
      await dovecot.stop();
    }
  });

  it('fails, naming scripts/test, when Dovecot is not installed', async () => {
    const missing = join(dir, 'no-such-dovecot');
    await assert.rejects(
      startDovecot({ introspection: await unusedIntrospection(), binary: missing }),
      {
        message: `Dovecot is not installed (no ${missing}): run scripts/test, which installs dovecot-imapd dovecot-pop3d dovecot-submissiond`,
      },
    );
  });
});
