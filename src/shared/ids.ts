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

/** Digits in a join code: with the room's budget of 30 wrong codes a minute, guessing one takes years on average (docs/PROTOCOL.md). */
export const JOIN_CODE_DIGITS = 8;
const CODE_SPACE = 10 ** JOIN_CODE_DIGITS;
/** 2^32 rounded down to a multiple of CODE_SPACE, so the modulo below is unbiased. */
const CODE_LIMIT = Math.floor(2 ** 32 / CODE_SPACE) * CODE_SPACE;

/** A join code people can read out loud and type on a phone: eight digits, uniformly random. */
export function randomJoinCode(
  fill: (buf: Uint32Array) => Uint32Array = (b) => globalThis.crypto.getRandomValues(b),
): string {
  const buf = new Uint32Array(1);
  for (;;) {
    const n = fill(buf)[0]!;
    if (n < CODE_LIMIT) return String(n % CODE_SPACE).padStart(JOIN_CODE_DIGITS, '0');
  }
}

/** Join codes compare without spaces and dashes, so "1234 5678" and "1234-5678" both work. */
export const normalizeJoinCode = (code: string): string => code.replace(/[\s-]/g, '');
