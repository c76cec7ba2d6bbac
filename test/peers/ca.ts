import { type CertificatePair, createCertificate } from '../../src/crypto/tls-certificate.js';

/** A test certificate authority and a server certificate it signed for the loopback. */
export interface TestTls {
  /** The CA certificate that clients trust (PEM). */
  readonly caPem: string;
  /** The CA itself, to sign further leaves with `issueLeaf`. */
  readonly ca: CertificatePair;
  /** A leaf for `127.0.0.1`, `::1` and `localhost`, signed by the CA. */
  readonly server: CertificatePair;
}

/** The hosts every test peer answers on; nothing leaves the loopback. */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'] as const;

let shared: Promise<TestTls> | undefined;

/**
 * The test CA of this process and its loopback leaf. Generated on first use and kept in
 * memory only, so no test run trusts a key another run (or an attacker) left on disk.
 */
export function testTls(): Promise<TestTls> {
  shared ??= createTestTls();
  return shared;
}

/** A fresh CA and loopback leaf, for tests that must not trust the shared one. */
export async function createTestTls(): Promise<TestTls> {
  const ca = await createCertificate({ commonName: 'Outlink Test CA', isCa: true, validDays: 2 });
  const server = await issueLeaf(ca, [...LOOPBACK_HOSTS]);
  return { caPem: ca.certPem, ca, server };
}

/** A server certificate for `hosts` signed by `ca`. */
export function issueLeaf(ca: CertificatePair, hosts: readonly string[]): Promise<CertificatePair> {
  return createCertificate({
    commonName: hosts[0] ?? 'localhost',
    hosts,
    issuer: ca,
    validDays: 2,
  });
}
