import 'reflect-metadata';
import { createHash, createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;

export interface CertificatePair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateRequest {
  readonly commonName: string;
  /** DNS names and IP addresses for the subjectAltName (RFC 5280 §4.2.1.6). */
  readonly hosts?: readonly string[];
  readonly isCa?: boolean;
  /** Signs with this CA; self-signed when absent. */
  readonly issuer?: CertificatePair;
  readonly validDays?: number;
}

/** Makes an ECDSA P-256 certificate: a CA, a leaf signed by one, or a self-signed leaf. */
export async function createCertificate(request: CertificateRequest): Promise<CertificatePair> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(request.isCa ?? false, undefined, true),
    new x509.KeyUsagesExtension(
      request.isCa
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
        : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (!request.isCa)
    extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]));
  if (request.hosts?.length) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        request.hosts.map((h) => (isIP(h) ? { type: 'ip', value: h } : { type: 'dns', value: h })),
      ),
    );
  }
  const params = {
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '7'),
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + (request.validDays ?? 365) * DAY),
    signingAlgorithm: ALGORITHM,
    extensions,
  };
  const subject = `CN=${request.commonName}`;
  let cert: x509.X509Certificate;
  if (request.issuer) {
    const issuerCert = new x509.X509Certificate(request.issuer.certPem);
    const issuerKey = await importKey(request.issuer.keyPem);
    cert = await x509.X509CertificateGenerator.create({
      ...params,
      subject,
      issuer: issuerCert.subject,
      publicKey: keys.publicKey,
      signingKey: issuerKey,
    });
  } else {
    cert = await x509.X509CertificateGenerator.createSelfSigned({ ...params, name: subject, keys });
  }
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certPem: cert.toString('pem'),
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
  };
}

async function importKey(pem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, [
    'sign',
  ]) as Promise<webcrypto.CryptoKey>;
}

/** SHA-256 fingerprint as browsers show it: colon-separated upper-case hex. */
export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

export const GENERATED_CERT_FILE = 'tls-cert.pem';
export const GENERATED_KEY_FILE = 'tls-key.pem';

/**
 * The certificate `serve` uses without `OUTLINK_TLS_CERT`: generated once into the data dir
 * for the base URL's host, and reused while it is valid for that host for 30 more days.
 */
export async function ensureGeneratedCertificate(
  dataDir: string,
  host: string,
): Promise<CertificatePair & { generated: boolean }> {
  const certFile = join(dataDir, GENERATED_CERT_FILE);
  const keyFile = join(dataDir, GENERATED_KEY_FILE);
  if (existsSync(certFile) && existsSync(keyFile)) {
    const certPem = readFileSync(certFile, 'utf8');
    const cert = new X509Certificate(certPem);
    const fresh = Date.parse(cert.validTo) - Date.now() > 30 * DAY;
    if (fresh && (cert.checkHost(host) !== undefined || cert.checkIP(host) !== undefined)) {
      return { certPem, keyPem: readFileSync(keyFile, 'utf8'), generated: false };
    }
  }
  const hosts = [...new Set([host, 'localhost', '127.0.0.1'])];
  const pair = await createCertificate({ commonName: host, hosts, validDays: 397 });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
  writeFileSync(certFile, pair.certPem, { mode: 0o644 });
  return { ...pair, generated: true };
}

/** A short id for log lines: never the key. */
export function certificateId(certPem: string): string {
  return createHash('sha256').update(certPem).digest('hex').slice(0, 12);
}
