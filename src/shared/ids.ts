/**
 * Random identifiers. Uses getRandomValues because crypto.randomUUID exists
 * only in secure contexts, and the web client is served over plain http on a LAN.
 */
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

export function randomId(prefix = '', length = 16): string {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  let id = prefix;
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return id;
}

/** A join code people can read out loud: six digits. */
export function randomJoinCode(): string {
  const bytes = new Uint32Array(1);
  globalThis.crypto.getRandomValues(bytes);
  return String(bytes[0]! % 1_000_000).padStart(6, '0');
}
