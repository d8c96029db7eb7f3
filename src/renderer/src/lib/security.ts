/**
 * What a person is told about the connection's encryption and the host's
 * fingerprint, in plain words: one place for the indicator, the host panel,
 * the warning about a changed host and the browser page.
 */
import type { ConnectionSecurity } from '../../../shared/chat-api.ts';
import { type Fingerprint, formatFingerprint, parseFingerprint } from '../../../shared/fingerprint.ts';

/**
 * What a page served by the host knows of its own connection: https means the browser set up the
 * encryption and checked the certificate (after its one-time warning); http means none. The
 * fingerprint is the one the host states in /room.json; when it states none, it is '' (shown as
 * "not stated"), since the contract has no encrypted state without one.
 */
export function pageSecurity(protocol: string, hostFingerprint: Fingerprint | null): ConnectionSecurity {
  if (protocol !== 'https:') return { encrypted: false };
  return { encrypted: true, trust: 'browser', fingerprint: hostFingerprint ?? ('' as Fingerprint) };
}

type Trust = Extract<ConnectionSecurity, { encrypted: true }>['trust'];

/** How the host was recognised, as one sentence a person can act on. */
export const TRUST_WORDS: Record<Trust, string> = {
  invite: 'It matched the fingerprint in your invite.',
  remembered: 'It is the same as last time you joined this room.',
  'first-use':
    'First visit: Beacon trusts it from now on and will warn you if it ever changes. To be sure, compare it with the fingerprint on the host’s screen.',
  browser:
    'Your browser checked the connection. To be sure it is the host, compare this with the fingerprint your browser shows for the page.',
};

/** The fingerprint to show, or null when there is none (a host that states none gives ''). */
export function knownFingerprint(fingerprint: string | null | undefined): Fingerprint | null {
  return fingerprint ? parseFingerprint(fingerprint) : null;
}

/** A fingerprint for people ("3F9A 21C4 …"), or null when there is none to show. */
export function shownFingerprint(fingerprint: string | null | undefined): string | null {
  const known = knownFingerprint(fingerprint);
  return known ? formatFingerprint(known) : null;
}

/**
 * The fingerprint an invite carries after '#fp=' ("https://192.168.1.20:4747/#fp=3f9a…"),
 * or null when the text has none or it is not a fingerprint.
 */
export function inviteFingerprint(invite: string): Fingerprint | null {
  const hash = invite.indexOf('#');
  if (hash < 0) return null;
  const match = /(?:^|&)fp=([^&]*)/.exec(invite.slice(hash + 1).trim());
  if (!match) return null;
  try {
    return parseFingerprint(decodeURIComponent(match[1]!));
  } catch {
    return null;
  }
}

/** For the host's own window, whose connection is to itself: no invite was involved. */
export const OWN_ROOM_WORDS = 'This is the room you host: the fingerprint is this computer’s own.';

/** How a browser user finds the fingerprint their browser checked, to compare with the host's. */
export const BROWSER_COMPARE_HINT =
  'To compare: click the icon at the left of the address bar, open the certificate and find its “SHA-256 fingerprint”. Its first 32 characters are Beacon’s fingerprint (ignore the colons and spaces).';

/** Why a browser may say "Not secure" on an encrypted page, so the label does not frighten or mislead. */
export const BROWSER_NOT_SECURE_NOTE =
  'Your browser may still call this page “Not secure”: the host made its own certificate, which no authority vouches for. The connection is encrypted all the same; the fingerprint is how you check it leads to the host.';
