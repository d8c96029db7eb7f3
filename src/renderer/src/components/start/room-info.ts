import { type Fingerprint, parseFingerprint } from '../../../../shared/fingerprint.ts';
import { WIRE_LIMITS } from '../../../../shared/protocol.ts';

/** What a host tells its join page before joining (GET /room.json): no secrets. */
export interface RoomInfo {
  name: string;
  codeRequired: boolean;
  /** The fingerprint the host states for its certificate; null when it states none (older or --insecure host). */
  fingerprint: Fingerprint | null;
}

/**
 * Reads the room's name from the host that served this page, or null when it
 * does not say (an older host) or says something else. The name is shown as
 * text, never as HTML, and cut to the length a host form allows.
 */
export async function fetchRoomInfo(fetcher: typeof fetch = fetch): Promise<RoomInfo | null> {
  try {
    const response = await fetcher('/room.json', { cache: 'no-store', credentials: 'omit' });
    if (!response.ok) return null;
    const value: unknown = await response.json();
    if (typeof value !== 'object' || value === null) return null;
    const { name, codeRequired, fingerprint } = value as {
      name?: unknown;
      codeRequired?: unknown;
      fingerprint?: unknown;
    };
    if (typeof name !== 'string' || name.trim() === '' || typeof codeRequired !== 'boolean') return null;
    return {
      name: name.trim().slice(0, WIRE_LIMITS.roomNameChars),
      codeRequired,
      fingerprint: typeof fingerprint === 'string' ? parseFingerprint(fingerprint) : null,
    };
  } catch {
    return null;
  }
}
