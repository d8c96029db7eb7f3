/**
 * A host's identity: its own ECDSA P-256 key and a self-signed certificate,
 * made on the room's first start and kept beside its history, so that the
 * fingerprint members pinned stays the same across every restart.
 *
 * A key that cannot be read is never replaced by a new one: that would change
 * the fingerprint, and every member who pinned the old one would be told an
 * impostor is answering. The host stops instead and names the files to delete
 * if making a new key is really what the operator wants.
 */
import { randomBytes, webcrypto, X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BeaconError } from '../shared/errors.ts';
import type { Fingerprint } from '../shared/fingerprint.ts';
import { certificateFingerprint } from '../node/certificate-fingerprint.ts';

export interface TlsIdentity {
  /** PEM of the PKCS#8 private key. */
  key: string;
  /** PEM of the self-signed certificate. */
  cert: string;
  fingerprint: Fingerprint;
}

export const KEY_FILE = 'tls-key.pem';
export const CERT_FILE = 'tls-cert.pem';

/** Long enough to outlive the room; nothing checks it but browsers, which warn about a self-signed one anyway. */
const VALIDITY_YEARS = 20;
const COMMON_NAME = 'Beacon room host';
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/**
 * The identity kept in `dataDir` (made there, 0600 in a 0700 folder, on the
 * first start), or a new one held only in memory for ':memory:'. Rejects with
 * BEACON_ERR_HOST_KEY when the files are there but unusable.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<TlsIdentity> {
  if (dataDir === ':memory:') return createIdentity();
  const keyPath = join(dataDir, KEY_FILE);
  const certPath = join(dataDir, CERT_FILE);
  const hasKey = existsSync(keyPath);
  const hasCert = existsSync(certPath);
  if (hasKey || hasCert) return readIdentity(dataDir, keyPath, certPath);
  const identity = await createIdentity();
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    // Written aside and renamed in, so a crash never leaves half a key under the real name.
    writePrivate(keyPath, identity.key);
    writePrivate(certPath, identity.cert);
  } catch (error) {
    throw new BeaconError('BEACON_ERR_HOST_KEY', `${dataDir}: ${(error as Error).message}`);
  }
  return identity;
}

/** Writes a secret (0600) aside and renames it in, so a crash never leaves half of it under the real name. */
export function writePrivate(path: string, text: string | Uint8Array): void {
  const aside = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(aside, text, { mode: 0o600, flag: 'wx' });
    renameSync(aside, path);
  } finally {
    rmSync(aside, { force: true });
  }
}

function readIdentity(dataDir: string, keyPath: string, certPath: string): TlsIdentity {
  const damaged = (path: string, why: string): BeaconError =>
    new BeaconError(
      'BEACON_ERR_HOST_KEY',
      `${path}: ${why}. To start over with a new key, delete ${KEY_FILE} and ${CERT_FILE} in ${dataDir}; ` +
        'the room then has a new fingerprint, and everyone who joined before is warned it changed',
    );
  const read = (path: string): string => {
    try {
      // Files an older copy or a careless backup left readable to others are tightened first.
      chmodSync(path, 0o600);
      return readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw damaged(path, code === 'ENOENT' ? 'missing' : `cannot be read (${code ?? String(error)})`);
    }
  };
  const key = read(keyPath);
  const cert = read(certPath);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw damaged(keyPath, 'not a private key');
  }
  let certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw damaged(certPath, 'not a certificate');
  }
  if (!certificate.checkPrivateKey(privateKey)) throw damaged(certPath, 'not the certificate of the key beside it');
  return { key, cert, fingerprint: certificateFingerprint(cert) };
}

async function createIdentity(): Promise<TlsIdentity> {
  // Loaded only when a key is made (once per room): reflect-metadata is what @peculiar/x509 needs first.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto as unknown as Crypto;
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive serial number, as RFC 5280 asks
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: `CN=${COMMON_NAME}`,
      // A day back, so a member whose clock runs a little behind does not see a certificate "not yet valid".
      notBefore: new Date(now - 24 * 60 * 60_000),
      notAfter: new Date(now + VALIDITY_YEARS * 365.25 * 24 * 60 * 60_000),
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'localhost' }]),
      ],
    },
    crypto,
  );
  const key = x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  const cert = certificate.toString('pem');
  return { key: `${key}\n`, cert: `${cert}\n`, fingerprint: certificateFingerprint(cert) };
}
