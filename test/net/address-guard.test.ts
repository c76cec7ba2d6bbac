/**
 * Issue 11, at connect time: a name that resolves to a refused address is refused before any
 * connection, by the mail sockets (IMAP/SMTP), the POP3 client and the guarded `fetch`; the
 * allow setting re-allows it. Names are answered by an injected resolver (no DNS): `0.0.0.0`
 * is refused by default yet, when re-allowed, reaches the local listener (Linux connects
 * 0.0.0.0 to the host itself), so both outcomes are observed on a real listener.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAddressPolicy } from '../../src/domain/address-policy.js';
import { DEFAULT_MAIL_TIMEOUTS } from '../../src/mail/endpoint.js';
import { MailError } from '../../src/mail/mail-error.js';
import { connect as connectPop3Client } from '../../src/mail/pop3/client.js';
import { Pop3Error } from '../../src/mail/pop3/error.js';
import { connectPop3 } from '../../src/mail/pop3/mailbox.js';
import { openSocket, type SocketTarget } from '../../src/mail/socket.js';
import {
  type AddressGuard,
  AddressRefusedError,
  createAddressGuard,
  createGuardedFetch,
  type Resolver,
} from '../../src/net/address-guard.js';

/** A resolver for the test's names only, honouring `all` as `dns.lookup` does. */
function fakeResolver(names: Record<string, string>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = ((hostname, options, callback) => {
    asked.push(hostname);
    const address = names[hostname];
    if (!address) {
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
        code: 'ENOTFOUND',
      });
      return callback(error, '', 0);
    }
    const family = address.includes(':') ? 6 : 4;
    if (options.all) return callback(null, [{ address, family }] as LookupAddress[]);
    callback(null, address, family);
  }) as Resolver & { asked: string[] };
  resolve.asked = asked;
  return resolve;
}

const NAMES = {
  'metadata.test': '169.254.169.254',
  'this-host.test': '0.0.0.0',
  'mapped.test': '::ffff:169.254.169.254',
  'aws6.test': 'fd00:ec2::254',
};

const refusing = (): AddressGuard => createAddressGuard(createAddressPolicy(), fakeResolver(NAMES));
const allowing = (): AddressGuard =>
  createAddressGuard(createAddressPolicy(['0.0.0.0/32']), fakeResolver(NAMES));

describe('address guard at connect time (issue 11)', () => {
  let tcp: Server;
  let http: HttpServer;
  let tcpPort = 0;
  let httpPort = 0;
  let accepted = 0;
  let requests = 0;

  before(async () => {
    tcp = createServer((socket) => {
      accepted += 1;
      // A POP3 greeting, so the POP3 client gets as far as a session when allowed.
      socket.write('+OK ready\r\n');
      socket.on('data', () => socket.write('-ERR no\r\n'));
      socket.on('error', () => undefined);
    });
    http = createHttpServer((_req, res) => {
      requests += 1;
      res.end('reached');
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    tcpPort = (tcp.address() as { port: number }).port;
    httpPort = (http.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise((resolve) => tcp.close(resolve));
    await new Promise((resolve) => http.close(resolve));
  });

  const target = (host: string, guard: AddressGuard, protocol: 'smtp' | 'pop3' = 'smtp') =>
    ({
      endpoint: { protocol, host, port: tcpPort, security: 'none' },
      tls: {},
      timeouts: { ...DEFAULT_MAIL_TIMEOUTS, connectMs: 2_000 },
      guard,
    }) satisfies SocketTarget;

  it('mail sockets: a name resolving to a refused address is refused without connecting', async () => {
    for (const host of ['metadata.test', 'this-host.test', 'mapped.test', 'aws6.test']) {
      const before = accepted;
      await assert.rejects(openSocket(target(host, refusing())), (error: unknown) => {
        assert.ok(error instanceof MailError, String(error));
        assert.equal(error.code, 'address_refused');
        assert.equal(error.step, 'connect');
        assert.match(error.message, new RegExp(`${host} resolves to .+ a refused address`));
        assert.match(error.message, /OUTLINK_ALLOW_ADDRESSES/);
        return true;
      });
      assert.equal(accepted, before, `${host}: a connection was made`);
    }
  });

  it('mail sockets: refused literals in any spelling, with the system resolver', async () => {
    const guard = createAddressGuard(createAddressPolicy());
    for (const host of [
      '169.254.169.254',
      '2852039166',
      '0xa9fea9fe',
      '::ffff:a9fe:a9fe',
      '0.0.0.0',
    ]) {
      const before = accepted;
      await assert.rejects(openSocket(target(host, guard)), (error: unknown) => {
        assert.ok(error instanceof MailError, String(error));
        assert.equal(error.code, 'address_refused', `${host}: ${error.message}`);
        return true;
      });
      assert.equal(accepted, before, `${host}: a connection was made`);
    }
  });

  it('mail sockets: refused with implicit TLS too, before any handshake', async () => {
    for (const host of ['metadata.test', '169.254.169.254', '2852039166']) {
      const before = accepted;
      const tls = {
        ...target(host, refusing()),
        endpoint: { ...target(host, refusing()).endpoint, security: 'tls' as const },
      };
      await assert.rejects(openSocket(tls), { code: 'address_refused', step: 'connect' });
      assert.equal(accepted, before, `${host}: a connection was made`);
    }
  });

  it('mail sockets: the allow setting re-allows the range', async () => {
    const before = accepted;
    const { socket } = await openSocket(target('this-host.test', allowing()));
    socket.destroy();
    assert.equal(accepted, before + 1);
    const literal = await openSocket(target('0.0.0.0', allowing()));
    literal.socket.destroy();
    assert.equal(accepted, before + 2);
    // Only the range named: the metadata address stays refused.
    await assert.rejects(openSocket(target('metadata.test', allowing())), {
      code: 'address_refused',
    });
  });

  it('POP3: refused before connecting; re-allowed reaches the server', async () => {
    const before = accepted;
    await assert.rejects(
      connectPop3Client({
        host: 'metadata.test',
        port: tcpPort,
        security: 'none',
        guard: refusing(),
      }),
      (error: unknown) => {
        assert.ok(error instanceof Pop3Error, String(error));
        assert.equal(error.code, 'connect_failed');
        assert.ok(error.cause instanceof AddressRefusedError);
        return true;
      },
    );
    await assert.rejects(connectPop3(target('2852039166', refusing(), 'pop3')), {
      code: 'address_refused',
    });
    await assert.rejects(connectPop3(target('this-host.test', refusing(), 'pop3')), {
      code: 'address_refused',
    });
    assert.equal(accepted, before);
    const allowed = await connectPop3(target('this-host.test', allowing(), 'pop3'));
    allowed.session.close();
    assert.equal(accepted, before + 1);
  });

  it('fetch: refused names and literals never reach a server; re-allowed ones do', async () => {
    const refused = createGuardedFetch(refusing());
    const allowed = createGuardedFetch(allowing());
    try {
      for (const host of [
        'metadata.test',
        'this-host.test',
        'aws6.test',
        '0.0.0.0',
        '169.254.169.254',
        '2852039166',
        '0xa9fea9fe',
        '[::ffff:a9fe:a9fe]',
        '[fd00:ec2::254]',
      ]) {
        await assert.rejects(
          refused.fetch(`http://${host}:${httpPort}/latest/meta-data`),
          (error: unknown) => {
            assert.ok(error instanceof AddressRefusedError, `${host}: ${String(error)}`);
            return true;
          },
        );
      }
      assert.equal(requests, 0);
      const res = await allowed.fetch(`http://this-host.test:${httpPort}/`);
      assert.equal(await res.text(), 'reached');
      assert.equal(requests, 1);
      await assert.rejects(allowed.fetch(`http://metadata.test:${httpPort}/`), AddressRefusedError);
    } finally {
      await refused.close();
      await allowed.close();
    }
  });
});
