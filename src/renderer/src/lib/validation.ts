import { checkDisplayName } from '../../../shared/display-name.ts';
import { WIRE_LIMITS } from '../../../shared/protocol.ts';

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;

function validHost(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return /^[0-9a-f:.]+$/i.test(host.slice(1, -1)) && host.includes(':');
  if (IPV4.test(host)) return host.split('.').every((part) => Number(part) <= 255);
  // All-digit dotted names are mistyped IPv4 addresses, not host names.
  if (/^[\d.]+$/.test(host)) return false;
  return HOSTNAME.test(host);
}

function validPort(port: string): boolean {
  if (!/^\d{1,5}$/.test(port)) return false;
  const n = Number(port);
  return n >= 1 && n <= 65535;
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
 * Checks a room address as typed: `host[:port]` or `ws(s)://host[:port][/path]`.
 * Returns a sentence saying what is wrong, or null when it looks right.
 */
export function addressProblem(raw: string): string | null {
  const value = raw.trim();
  if (value === '') return 'Enter the room address, like 192.168.1.20:4747.';
  if (/\s/.test(value)) return 'A room address has no spaces.';
  let authority = value;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    if (name !== 'ws' && name !== 'wss') {
      return `Room addresses start with ws:// or wss://, not ${name}://. You can also type just 192.168.1.20:4747.`;
    }
    authority = value.slice(scheme[0].length).split(/[/?#]/, 1)[0] ?? '';
  } else if (/[/?#]/.test(value)) {
    return 'Only ws:// addresses can have a path. Use a form like 192.168.1.20:4747.';
  }
  if (authority.includes('@')) return 'A room address has no user name part.';
  const parts = splitHostPort(authority);
  if (!parts || parts.host === '') return 'That is not a valid room address. Use a form like 192.168.1.20:4747.';
  if (!validHost(parts.host)) return `“${parts.host}” is not a valid computer name or IP address.`;
  if (parts.port !== null && !validPort(parts.port)) return 'The port must be a number from 1 to 65535.';
  return null;
}

/** The host's own rules (checkDisplayName), said before joining instead of after a refusal. */
export function nameProblem(raw: string): string | null {
  const value = raw.trim();
  if (value === '') return 'Enter your name.';
  if (value.length > WIRE_LIMITS.nameChars) return `Names can be at most ${WIRE_LIMITS.nameChars} characters.`;
  const check = checkDisplayName(value);
  return check.ok ? null : check.reason;
}

export const ROOM_NAME_CHARS = 60;

export function roomNameProblem(raw: string): string | null {
  const value = raw.trim();
  if (value === '') return 'Enter a room name.';
  if (value.length > ROOM_NAME_CHARS) return `Room names can be at most ${ROOM_NAME_CHARS} characters.`;
  return null;
}

/** Port to host on; 0 lets the system pick any free port. */
export function portProblem(raw: string): string | null {
  const value = raw.trim();
  if (value === '0' || validPort(value)) return null;
  return 'The port must be a number from 1 to 65535, or 0 for any free port.';
}

export function codeProblem(raw: string): string | null {
  if (raw.trim().length > WIRE_LIMITS.codeChars)
    return `Join codes can be at most ${WIRE_LIMITS.codeChars} characters.`;
  return null;
}

/** One generator for the app, the browser and the headless host (src/shared/ids.ts). */
export { randomJoinCode as generateJoinCode } from '../../../shared/ids.ts';
