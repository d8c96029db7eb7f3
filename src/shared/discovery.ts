/**
 * Rooms nearby: what a host announces on the local network with DNS-SD over
 * multicast DNS, and what a browsing app makes of it. Discovery is a hint,
 * the address is the truth: joining a room found here goes through the same
 * address, code and fingerprint checks as one typed by hand (the
 * announcement's fingerprint becomes the pin, as an invite's would).
 *
 * Browser-safe: types, names and the TXT record's rules only; the announcer
 * (src/host) and the browser (src/node) are the Node sides.
 */
import type { Fingerprint } from './fingerprint.ts';

/** DNS-SD service type: `_beacon._tcp.local`. */
export const SERVICE_TYPE = 'beacon';
export const SERVICE_PROTOCOL = 'tcp';

/**
 * The TXT record's keys. Every value is short text; a browser ignores keys it
 * does not know and drops an announcement whose known keys do not parse.
 *   v    protocol version (PROTOCOL_VERSION), digits
 *   room the room's name (at most WIRE_LIMITS.roomNameChars characters)
 *   host the hosting person's display name (at most WIRE_LIMITS.nameChars)
 *   code "1" when a join code is needed, "0" when the room is open
 *   fp   the TLS fingerprint (32 lowercase hex); absent for an --insecure host
 */
export const TXT_KEYS = { version: 'v', room: 'room', host: 'host', code: 'code', fingerprint: 'fp' } as const;

/** A browser keeps at most this many rooms: thousands of fake announcements cannot grow it further. */
export const MAX_NEARBY_ROOMS = 200;

/** The full DNS-SD service name browsers ask for. */
export const SERVICE_NAME = `_${SERVICE_TYPE}._${SERVICE_PROTOCOL}.local`;

/**
 * The timing both sides keep (PROTOCOL.md, Discovery):
 *   recordTtlSeconds  the TTL of every announced record: short, so a browser that caches by TTL
 *                     (another DNS-SD client) forgets a host that vanished without a goodbye soon
 *   queryIntervalMs   how often a browser asks again; each host answers every time
 *   silenceMs         a room not heard for this long is dropped (about three missed answers)
 */
export const DISCOVERY_TIMING = { recordTtlSeconds: 10, queryIntervalMs: 3_000, silenceMs: 9_000 } as const;

/** A TXT record longer than this (in bytes, all strings) is malformed: ours is under 300. */
export const MAX_TXT_BYTES = 1_300;

/** A room a browsing app has heard announced, as the start screen lists it. */
export interface NearbyRoom {
  /** Stable while the announcement lasts: the service instance name and where it is. */
  id: string;
  roomName: string;
  /** The hosting person's display name, to tell two rooms of one name apart. */
  hostName: string;
  /** What to join: "host:port" of the first address heard (IPv4 first). */
  address: string;
  /** Every address the announcement gave, "host:port" each. */
  addresses: string[];
  codeRequired: boolean;
  protocolVersion: number;
  /** Null when the host runs without encryption (then `encrypted` is false). */
  fingerprint: Fingerprint | null;
  encrypted: boolean;
  /** Epoch milliseconds the room was last heard from. */
  lastSeen: number;
}

/**
 * Where browsing stands:
 * - 'off': this interface cannot browse (a browser page);
 * - 'searching': listening, since `since` (epoch ms); the start screen says after a while that
 *   nothing was found and why that may be (multicast blocked, another subnet, a VPN, a firewall);
 * - 'failed': browsing could not start (`reason`, a sentence).
 */
export type NearbyStatus =
  { state: 'off' } | { state: 'searching'; since: number } | { state: 'failed'; reason: string };
