/**
 * Room addresses as people type them or copy them from the host panel:
 * "192.168.1.20", "laptop.local:4747", "[::1]:4747" (encrypted: wss://),
 * "https://host:4747/" (the browser address the host hands out),
 * "ws://host:4747" or "http://host:4747/" (written out: unencrypted, for a
 * host started with --insecure), and the invite "https://host:4747/#fp=…"
 * that also carries the fingerprint to pin. One parser for the join form,
 * the app and the terminal client, so what the form accepts is exactly what
 * joining understands.
 */
import { type Fingerprint, parseFingerprint } from './fingerprint.ts';
import { DEFAULT_PORT, MAX_PORT } from './protocol.ts';

export type ParsedAddress =
  | {
      ok: true;
      url: string;
      /** The fingerprint an invite carries ('#fp=…'), to pin; null for a plain address. */
      fingerprint: Fingerprint | null;
    }
  | { ok: false; problem: string };

const EXAMPLE = '192.168.1.20:4747';
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
/** Each scheme a room address may start with, and the WebSocket scheme it means. */
const SCHEMES: Record<string, 'ws:' | 'wss:'> = { ws: 'ws:', wss: 'wss:', http: 'ws:', https: 'wss:' };

function validHost(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return /^[0-9a-f:.]+$/i.test(host.slice(1, -1)) && host.includes(':');
  if (IPV4.test(host)) return host.split('.').every((part) => Number(part) <= 255);
  // All-digit dotted names are mistyped IPv4 addresses, not host names.
  if (/^[\d.]+$/.test(host)) return false;
  return HOSTNAME.test(host);
}

/** A TCP port a room can be reached on (1 to MAX_PORT), as typed. */
export function validPort(port: string): boolean {
  if (!/^\d{1,5}$/.test(port)) return false;
  const n = Number(port);
  return n >= 1 && n <= MAX_PORT;
}

/** Splits "host[:port]" where host may be a bracketed IPv6 address. */
function splitHostPort(authority: string): { host: string; port: string | null } | null {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) return null;
    const rest = authority.slice(end + 1);
    if (rest === '') return { host: authority.slice(0, end + 1), port: null };
    if (!rest.startsWith(':')) return null;
    return { host: authority.slice(0, end + 1), port: rest.slice(1) };
  }
  const colon = authority.lastIndexOf(':');
  if (colon < 0) return { host: authority, port: null };
  if (authority.indexOf(':') !== colon) return null;
  return { host: authority.slice(0, colon), port: authority.slice(colon + 1) };
}

/**
 * The fingerprint in an invite's fragment ("fp=3f9a…", written with or without spaces or colons),
 * null when the fragment names none, or a problem when it names a damaged one.
 */
function fragmentFingerprint(fragment: string): { fingerprint: Fingerprint | null } | { problem: string } {
  const match = /(?:^|&)fp=([^&]*)/.exec(fragment);
  if (!match) return { fingerprint: null };
  let text: string;
  try {
    text = decodeURIComponent(match[1]!);
  } catch {
    text = match[1]!;
  }
  const fingerprint = parseFingerprint(text);
  return fingerprint
    ? { fingerprint }
    : { problem: 'The fingerprint in this invite is incomplete or damaged. Copy the whole invite again.' };
}

/** The WebSocket URL of a room, or a sentence saying what is wrong with the address. */
export function parseRoomAddress(raw: string): ParsedAddress {
  const fail = (problem: string): ParsedAddress => ({ ok: false, problem });
  const trimmed = raw.trim();
  if (trimmed === '') return fail(`Enter the room address, like ${EXAMPLE}.`);
  // An invite's fragment holds the fingerprint, which people may write in groups with spaces.
  const hashAt = trimmed.indexOf('#');
  const value = hashAt < 0 ? trimmed : trimmed.slice(0, hashAt);
  const pinned = fragmentFingerprint(hashAt < 0 ? '' : trimmed.slice(hashAt + 1));
  if ('problem' in pinned) return fail(pinned.problem);
  if (/\s/.test(value)) return fail('A room address has no spaces.');
  // Encrypted unless written out otherwise: a bare address means wss://.
  let scheme: 'ws:' | 'wss:' = 'wss:';
  let authority = value;
  let path = '/';
  const written = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value);
  if (written) {
    const name = written[1]!.toLowerCase();
    const mapped = SCHEMES[name];
    if (!mapped) {
      return fail(
        `Room addresses start with ws://, wss://, http:// or https://, not ${name}://. You can also type just ${EXAMPLE}.`,
      );
    }
    scheme = mapped;
    const rest = value.slice(written[0].length);
    const cut = rest.search(/[/?]/);
    authority = cut < 0 ? rest : rest.slice(0, cut);
    path = cut < 0 ? '/' : (rest.slice(cut).split('?', 1)[0] ?? '') || '/';
  } else if (/[/?]/.test(value)) {
    return fail(`Only an address written with https:// in front can have a path. Use a form like ${EXAMPLE}.`);
  }
  if (authority.includes('@')) return fail('A room address has no user name part.');
  const parts = splitHostPort(authority);
  if (!parts || parts.host === '') return fail(`That is not a valid room address. Use a form like ${EXAMPLE}.`);
  if (!validHost(parts.host)) return fail(`“${parts.host}” is not a valid computer name or IP address.`);
  if (parts.port !== null && !validPort(parts.port)) return fail(`The port must be a number from 1 to ${MAX_PORT}.`);
  // A bare host means Beacon's port; a written https:// or wss:// without a port means the scheme's own.
  const port = parts.port ?? (written && scheme === 'wss:' ? null : String(DEFAULT_PORT));
  const host = parts.host.toLowerCase();
  if (pinned.fingerprint && scheme !== 'wss:') {
    return fail('This invite has a fingerprint but an unencrypted address (ws:// or http://). Use https://.');
  }
  return {
    ok: true,
    url: `${scheme}//${port === null ? host : `${host}:${port}`}${path}`,
    fingerprint: pinned.fingerprint,
  };
}

/** The WebSocket URL of a room, or null if `input` is not a room address. */
export function roomUrl(input: string): string | null {
  const parsed = parseRoomAddress(input);
  return parsed.ok ? parsed.url : null;
}

/** What is wrong with a typed room address, or null when it is one. */
export function addressProblem(input: string): string | null {
  const parsed = parseRoomAddress(input);
  return parsed.ok ? null : parsed.problem;
}
