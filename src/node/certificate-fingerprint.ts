import { X509Certificate } from 'node:crypto';
import { type Fingerprint, parseFingerprint } from '../shared/fingerprint.ts';

/**
 * The fingerprint (shared/fingerprint.ts) of a certificate, from its DER bytes
 * (a peer certificate's `raw`) or PEM text: the start of its SHA-256.
 */
export function certificateFingerprint(certificate: Buffer | string): Fingerprint {
  const fingerprint = parseFingerprint(new X509Certificate(certificate).fingerprint256);
  if (!fingerprint) throw new Error('a certificate without a SHA-256 fingerprint');
  return fingerprint;
}
