import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAddressPolicy, isCidr, literalAddress } from '../../src/domain/address-policy.js';

const policy = createAddressPolicy();

/** Every spelling of the cloud metadata address that a resolver or URL parser accepts. */
const METADATA_SPELLINGS = [
  '169.254.169.254',
  '2852039166',
  '0xa9fea9fe',
  '0xA9FEA9FE',
  '0251.0376.0251.0376',
  '0xa9.0xfe.0xa9.0xfe',
  '169.254.43518',
  '169.16689662',
  '[::ffff:169.254.169.254]',
  '::ffff:169.254.169.254',
  '::ffff:a9fe:a9fe',
  '0:0:0:0:0:ffff:a9fe:a9fe',
  '::a9fe:a9fe',
  '64:ff9b::a9fe:a9fe',
  'fd00:ec2::254',
  '[fd00:ec2:0:0:0:0:0:254]',
];

describe('address policy: the addresses Outlink refuses (issue 11)', () => {
  for (const host of METADATA_SPELLINGS) {
    it(`refuses the metadata literal ${host}`, () => {
      assert.ok(policy.refusedLiteral(host), `${host} slipped through`);
    });
  }

  it('names the canonical address it refused', () => {
    assert.equal(policy.refusedLiteral('2852039166'), '169.254.169.254');
    assert.equal(policy.refusedLiteral('0xa9fea9fe'), '169.254.169.254');
    assert.equal(policy.refusedLiteral('[fd00:ec2::254]'), 'fd00:ec2::254');
  });

  it('refuses link-local, this-host, multicast and broadcast resolved addresses', () => {
    for (const address of [
      '169.254.0.1',
      '169.254.255.255',
      '0.0.0.0',
      '0.1.2.3',
      '224.0.0.1',
      '239.255.255.250',
      '255.255.255.255',
      '100.100.100.200',
      '::',
      'fe80::1',
      'febf::1',
      'fe80::1%eth0',
      'ff02::1',
      '::ffff:0.0.0.0',
      '::ffff:224.0.0.1',
    ]) {
      assert.equal(policy.refuses(address), true, address);
    }
  });

  it('allows loopback, private and public addresses and names', () => {
    for (const address of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '10.0.0.5',
      '172.16.0.1',
      '192.168.1.10',
      '100.64.0.1',
      'fd00::1',
      'fd00:ec2::253',
      '8.8.8.8',
      '2001:4860:4860::8888',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '169.253.255.255',
      '169.255.0.0',
    ]) {
      assert.equal(policy.refuses(address), false, address);
    }
    for (const host of ['localhost', 'mail.example.com', '169.254.169.254.example', 'a9fea9fe']) {
      assert.equal(policy.refusedLiteral(host), undefined, host);
    }
  });

  it('reads the loose IPv4 spellings the way inet_aton does', () => {
    assert.equal(literalAddress('2852039166'), '169.254.169.254');
    assert.equal(literalAddress('0x7f000001'), '127.0.0.1');
    assert.equal(literalAddress('0177.0.0.1'), '127.0.0.1');
    assert.equal(literalAddress('127.1'), '127.0.0.1');
    assert.equal(literalAddress('4294967296'), undefined);
    assert.equal(literalAddress('256.1.1.1'), undefined);
    assert.equal(literalAddress('08.1.1.1'), undefined);
    assert.equal(literalAddress('mail.example.com'), undefined);
  });

  it('re-allows the ranges the administrator names, in every spelling', () => {
    const allowing = createAddressPolicy(['169.254.169.254/32', 'fe80::/16']);
    assert.equal(allowing.refuses('169.254.169.254'), false);
    assert.equal(allowing.refusedLiteral('2852039166'), undefined);
    assert.equal(allowing.refusedLiteral('::ffff:a9fe:a9fe'), undefined);
    assert.equal(allowing.refuses('169.254.169.253'), true, 'only the range named');
    assert.equal(allowing.refuses('fe80::1'), false);
    assert.equal(allowing.refuses('fd00:ec2::254'), true);
    assert.deepEqual(allowing.allowed, ['169.254.169.254/32', 'fe80::/16']);
  });

  it('reads CIDRs and single addresses, nothing else', () => {
    for (const ok of ['169.254.10.0/24', '169.254.169.254', 'fe80::/10', '::/0', '0.0.0.0/0']) {
      assert.equal(isCidr(ok), true, ok);
    }
    for (const bad of [
      '169.254.10.0/33',
      'fe80::/129',
      'example.com',
      '2852039166',
      '1.2.3.4/',
      '',
    ]) {
      assert.equal(isCidr(bad), false, bad);
    }
  });
});
