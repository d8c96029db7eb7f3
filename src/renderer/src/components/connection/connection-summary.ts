import type { ConnectionState } from '../../../../shared/chat-api.ts';

export type Tone = 'good' | 'busy' | 'warn' | 'bad' | 'idle';

/**
 * What the connection indicator says: the state in words (never only in a
 * tooltip), and what the person can do next.
 */
export interface ConnectionSummary {
  /** The main label: what happened, in words. */
  text: string;
  /** A second line of words for end states (what Beacon does about it), or null. */
  next: string | null;
  tone: Tone;
  /** Longer explanation for the tooltip and the details (address, round-trip time). */
  detail: string;
  canRetryNow: boolean;
  /** The host refused the code: offer a field for the new one instead of retrying the old. */
  asksForCode: boolean;
}

export function secondsUntil(epochMs: number, now: number): number {
  return Math.max(0, Math.ceil((epochMs - now) / 1000));
}

/** "in 42 s", "in 3 min 5 s": a countdown a person can read at a glance. */
export function countdown(epochMs: number, now: number): string {
  const secs = secondsUntil(epochMs, now);
  if (secs < 60) return `${secs} s`;
  const rest = secs % 60;
  return rest === 0 ? `${secs / 60} min` : `${Math.floor(secs / 60)} min ${rest} s`;
}

export function connectionSummary(state: ConnectionState, now: number): ConnectionSummary {
  const base = { next: null, canRetryNow: false, asksForCode: false };
  switch (state.kind) {
    case 'idle':
      return { ...base, text: 'Not connected', tone: 'idle', detail: 'Not in a room' };
    case 'connecting':
      return {
        ...base,
        text: state.attempt > 1 ? `Connecting · attempt ${state.attempt}` : 'Connecting…',
        tone: 'busy',
        detail: `Connecting to ${state.address}`,
      };
    case 'connected':
      // The round-trip time is for whoever asks (the tooltip), not the label.
      return {
        ...base,
        text: 'Connected',
        tone: 'good',
        detail:
          state.rttMs === null
            ? `Connected to ${state.address}`
            : `Connected to ${state.address} · round trip ${Math.round(state.rttMs)} ms`,
      };
    case 'reconnecting': {
      const secs = secondsUntil(state.nextRetryAt, now);
      return {
        ...base,
        text: `Reconnecting · attempt ${state.attempt} · ${secs > 0 ? `next try in ${secs} s` : 'trying now'}`,
        tone: 'warn',
        detail: `${state.address}: ${state.reasonText}`,
        canRetryNow: true,
      };
    }
    case 'offline': {
      const detail = `${state.address}: ${state.reasonText}`;
      if (state.reason === 'BEACON_ERR_HOST_STOPPED') {
        return {
          ...base,
          text: 'The host stopped the room',
          next: 'Beacon rejoins by itself if it comes back.',
          tone: 'bad',
          detail,
          canRetryNow: true,
        };
      }
      if (state.reason === 'BEACON_ERR_HOST_CHANGED') {
        // The warning panel says the rest; the indicator only names it, and offers no retry.
        return { ...base, text: 'Stopped: not the host you were invited to', tone: 'bad', detail };
      }
      if (state.reason === 'BEACON_ERR_WRONG_CODE') {
        return {
          ...base,
          text: 'The join code has changed',
          next: 'Type the new code from the host to rejoin.',
          tone: 'bad',
          detail,
          asksForCode: true,
        };
      }
      if (state.reason === 'BEACON_ERR_LOCKED_OUT' || state.reason === 'BEACON_ERR_ROOM_BUSY') {
        const waiting = state.retryAfter !== undefined && state.retryAfter > now;
        return {
          ...base,
          text: waiting ? `Locked out · try again in ${countdown(state.retryAfter!, now)}` : 'Locked out',
          next: waiting ? null : 'You can try the code again now.',
          tone: 'bad',
          detail,
          asksForCode: !waiting,
        };
      }
      const secs = state.nextRetryAt === null ? null : secondsUntil(state.nextRetryAt, now);
      const next = secs === null ? '' : secs > 0 ? ` · next try in ${secs} s` : ' · trying now';
      return { ...base, text: `Offline · ${state.reasonText}${next}`, tone: 'bad', detail, canRetryNow: true };
    }
  }
}
