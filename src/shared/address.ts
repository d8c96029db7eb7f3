/**
 * Room addresses as people type them or copy them from the host panel:
 * "192.168.1.20", "laptop.local:4747", "[::1]:4747" (encrypted: wss://),
 * "https://host:4747/" (the browser address the host hands out),
 * "ws://host:4747" or "http://host:4747/" (written out: unencrypted, for a
 * host started with --insecure), and the invite "https://host:4747/#fp=…"
 * that also carries the fingerprint to pin. One parser for the join form,
 * the app and the terminal client, so what the form accepts is exactly what
 * joining understands.
 *
 * The desktop app's link, "beacon://host:4747/#fp=…[&code=…]", is the same
 * invite for the operating system to hand to Beacon (see parseBeaconLink): it
 * comes from outside (a chat, a web page), so it is read strictly.
 */
import type { HostInfo } from './chat-api.ts';
import { FINGERPRINT_HEX_DIGITS, type Fingerprint, parseFingerprint } from './fingerprint.ts';
import { DEFAULT_PORT, MAX_PORT, WIRE_LIMITS } from './protocol.ts';

export type ParsedAddress =
  | {
      ok: true;
      url: string;
      /** The fingerprint an invite carries ('#fp=…'), to pin; null for a plain address. */
      fingerprint: Fingerprint | null;
      /** Only for a beacon: link: the join code it carries ('&code=…'), or null when it carries none. */
      code?: string | null;
    }
  | { ok: false; problem: string };

const EXAMPLE = '192.168.1.20:4747';
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
/** Each scheme a room address may start with, and the WebSocket scheme it means. */
const SCHEMES: Record<string, 'ws:' | 'wss:'> = { ws: 'ws:', wss: 'wss:', http: 'ws:', https: 'wss:' };

function validHost(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return /^[0-9a-f:.]+$/i.test(host.slice(1, -1)) && host.includes(':');
  // No leading zeros: URL parsers read "192.168.1.020" as octal, another machine than the one typed.
  if (IPV4.test(host)) return host.split('.').every((part) => Number(part) <= 255 && !/^0\d/.test(part));
  // All-digit dotted names are mistyped IPv4 addresses, not host names.
  if (/^[\d.]+$/.test(host)) return false;
  // A name ending in a number or 0x-hex label is read as an IPv4 address by URL parsers ("0xc0.0xa8.1.20").
  if (/(?:^|\.)(?:0x[0-9a-f]*|\d+)\.?$/i.test(host)) return false;
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
  const damaged = { problem: 'The fingerprint in this invite is incomplete or damaged. Copy the whole invite again.' };
  let text = fragment;
  try {
    text = decodeURIComponent(fragment);
  } catch {
    // Left as typed: a stray % is not a reason to lose the fingerprint next to it.
  }
  // A damaged invite must never quietly become trust on first use: anything that looks like a
  // fingerprint part ("FP=", " fp=", "fingerprint=", two of them) is read or refused, not skipped.
  const values = text
    .split(/[&;]/)
    .map((part) => /^\s*(fp|fingerprint)\s*=(.*)$/i.exec(part))
    .filter((match) => match !== null)
    .map((match) => match[2]!);
  if (values.length > 1) return { problem: 'This invite has two fingerprints. Copy the whole invite again.' };
  if (values.length === 0) return /fp|fingerprint/i.test(text) ? damaged : { fingerprint: null };
  const fingerprint = parseFingerprint(values[0]!);
  return fingerprint ? { fingerprint } : damaged;
}

/** The WebSocket URL of a room, or a sentence saying what is wrong with the address. */
export function parseRoomAddress(raw: string): ParsedAddress {
  const fail = (problem: string): ParsedAddress => ({ ok: false, problem });
  const trimmed = raw.trim();
  if (trimmed === '') return fail(`Enter the room address, like ${EXAMPLE}.`);
  if (trimmed.length > MAX_ADDRESS_CHARS) return fail('That is far too long for a room address.');
  if (BEACON_SCHEME.test(trimmed)) {
    const link = parseBeaconLink(trimmed);
    return link.ok ? { ok: true, url: link.url, fingerprint: link.fingerprint, code: link.code } : link;
  }
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
    if (/[?&]\s*(fp|fingerprint)\s*=/i.test(rest)) {
      return fail('The fingerprint belongs after # in an invite (…/#fp=…). Copy the whole invite again.');
    }
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
  // "laptop.local." and "laptop.local" are one machine (and one pin).
  const host = parts.host.toLowerCase().replace(/(?<=[a-z0-9-])\.$/, '');
  if (pinned.fingerprint && scheme !== 'wss:') {
    return fail('This invite has a fingerprint but an unencrypted address (ws:// or http://). Use https://.');
  }
  return {
    ok: true,
    url: `${scheme}//${port === null ? host : `${host}:${port}`}${path}`,
    fingerprint: pinned.fingerprint,
  };
}

// ── beacon: links ─────────────────────────────────────────────────────────────

/** Longer than any address a person types or pastes (a host name is at most 253 characters). */
const MAX_ADDRESS_CHARS = 1_024;
/**
 * The longest beacon: link read: scheme, a 253-character host, port, fingerprint and a
 * 64-character code percent-encoded (at most 9 characters each for a code written in any script).
 */
export const MAX_BEACON_LINK_CHARS = 'beacon://'.length + 253 + ':65535/'.length + '#fp=&code='.length + 32 + 64 * 9;
const BEACON_SCHEME = /^beacon:/i;
/** beacon://AUTHORITY[/]#FRAGMENT: no query, no path, nothing else. */
const BEACON_LINK = /^beacon:\/\/([^/?#]+)\/?#([^#]*)$/i;
/** A join code may hold any printable text, but no control, format (bidi, zero-width), separator or private character. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}\p{Zl}\p{Zp}]/u;

export type ParsedBeaconLink =
  | {
      ok: true;
      /** The WebSocket URL to join: always wss://. */
      url: string;
      /** The fingerprint the host must show (a link always carries one). */
      fingerprint: Fingerprint;
      /** The join code the host chose to put in the link, or null. */
      code: string | null;
      /**
       * The same room as the invite the join form knows ("https://host:port/#fp=…"), without the
       * code: what the shell hands the interface (the code travels beside it, never in an address).
       */
      address: string;
    }
  | { ok: false; problem: string };

/**
 * Reads "beacon://HOST:PORT/#fp=<32 hex>[&code=<percent-encoded code>]" and nothing else:
 * ASCII only (no Unicode look-alikes or bidi controls), a port written out, no user name,
 * no path, no query, no percent-encoding outside the code, each of `fp` and `code` at most
 * once and no other key, a fingerprint of exactly 32 hex digits. Problems never quote the
 * link (it may carry a join code).
 */
export function parseBeaconLink(raw: string): ParsedBeaconLink {
  const fail = (problem: string): ParsedBeaconLink => ({ ok: false, problem });
  if (typeof raw !== 'string' || raw.length > MAX_BEACON_LINK_CHARS) return fail('This Beacon link is too long.');
  if (!/^[\x21-\x7e]+$/.test(raw)) return fail('This Beacon link has spaces or characters a link cannot have.');
  const match = BEACON_LINK.exec(raw);
  if (!match) return fail('This is not a Beacon link: it must look like beacon://host:port/#fp=….');
  const authority = match[1]!;
  if (authority.includes('@')) return fail('A Beacon link has no user name part.');
  if (authority.includes('%')) return fail('The host in this Beacon link is written in a way Beacon does not read.');
  const parts = splitHostPort(authority);
  if (!parts || parts.host === '' || !validHost(parts.host)) return fail('The host in this Beacon link is not valid.');
  if (parts.port === null || !validPort(parts.port))
    return fail('The port in this Beacon link is missing or not valid.');

  const fields = new Map<string, string>();
  for (const pair of match[2]!.split('&')) {
    const equals = pair.indexOf('=');
    const key = equals < 0 ? pair : pair.slice(0, equals);
    if (key !== 'fp' && key !== 'code') return fail('This Beacon link has a part Beacon does not know.');
    if (equals < 0 || fields.has(key)) return fail('This Beacon link is damaged: a part is missing or repeated.');
    fields.set(key, pair.slice(equals + 1));
  }
  const fp = fields.get('fp');
  if (fp === undefined || !new RegExp(`^[0-9a-f]{${FINGERPRINT_HEX_DIGITS}}$`, 'i').test(fp)) {
    return fail('The fingerprint in this Beacon link is missing or damaged. Ask the host for the link again.');
  }
  let code: string | null = null;
  const written = fields.get('code');
  if (written !== undefined) {
    try {
      code = decodeURIComponent(written);
    } catch {
      return fail('The join code in this Beacon link is damaged.');
    }
    if (code === '' || code.length > WIRE_LIMITS.codeChars || code.trim() !== code || UNPRINTABLE.test(code)) {
      return fail(`The join code in this Beacon link is not valid (at most ${WIRE_LIMITS.codeChars} characters).`);
    }
  }
  const host = parts.host.toLowerCase();
  const fingerprint = fp.toLowerCase() as Fingerprint;
  return {
    ok: true,
    url: `wss://${host}:${parts.port}/`,
    fingerprint,
    code,
    address: `https://${host}:${parts.port}/#fp=${fingerprint}`,
  };
}

/**
 * The beacon: link for a room this app hosts, for "Copy invite": the first browser address's
 * host and port with the fingerprint, and the join code only when `withCode` (the host chooses).
 * Null for a host without encryption (a link always pins a fingerprint) or without an address.
 * A code the link could not carry (one no link would be read with) is left out.
 */
export function beaconLink(
  info: Pick<HostInfo, 'webAddresses' | 'fingerprint' | 'code'>,
  options: { withCode: boolean },
): string | null {
  const web = info.webAddresses[0];
  if (!info.fingerprint || !web) return null;
  const plain = parseRoomAddress(web);
  if (!plain.ok || !plain.url.startsWith('wss://')) return null;
  const authority = plain.url.slice('wss://'.length).replace(/\/.*$/, '');
  const link = `beacon://${authority}/#fp=${info.fingerprint}`;
  if (!parseBeaconLink(link).ok) return null;
  if (!options.withCode || !info.code) return link;
  const withCode = `${link}&code=${encodeURIComponent(info.code)}`;
  return parseBeaconLink(withCode).ok ? withCode : link;
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
