/**
 * A host's fingerprint: how a person, and a client, tell the real host from an
 * impostor on the same network. Each host makes its own self-signed
 * certificate (src/host/tls-identity.ts); its fingerprint is the first 16 bytes
 * (128 bits) of the SHA-256 of the certificate's DER, the same digest a
 * browser's certificate viewer shows as "SHA-256 fingerprint", so a person can
 * compare the first groups of both by eye.
 *
 * Written for people as eight groups of four hex digits ("3F9A 21C4 …"); in
 * invites and settings as 32 lowercase hex digits. 128 bits: finding another
 * key whose certificate matches is a second-preimage search on SHA-256, far
 * out of reach, while the text stays short enough to read aloud.
 *
 * Browser-safe: no node:crypto here; src/node/tls-pin.ts computes it from a
 * certificate.
 */

/** Hex digits of a fingerprint (16 bytes). */
export const FINGERPRINT_HEX_DIGITS = 32;

/** A fingerprint in its stored form: 32 lowercase hex digits. */
export type Fingerprint = string & { readonly __fingerprint: unique symbol };

/**
 * A fingerprint as someone may have typed or pasted it: any case, with spaces,
 * colons or dashes between digits, or the whole SHA-256 (64 digits, as Node and
 * browsers print it; only its first 32 count). Null when it is not one.
 */
export function parseFingerprint(raw: string): Fingerprint | null {
  if (raw.length > 200) return null;
  const digits = raw.replace(/[\s:-]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(digits)) return null;
  if (digits.length !== FINGERPRINT_HEX_DIGITS && digits.length !== 2 * FINGERPRINT_HEX_DIGITS) return null;
  return digits.slice(0, FINGERPRINT_HEX_DIGITS) as Fingerprint;
}

/** "3F9A 21C4 77B0 5E12 9C0D AA43 1B7F 6E20": for a person to read, compare or read aloud. */
export function formatFingerprint(fingerprint: Fingerprint): string {
  return (fingerprint.toUpperCase().match(/.{4}/g) ?? []).join(' ');
}
