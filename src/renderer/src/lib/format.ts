import type { ConnectionState } from '../../../shared/chat-api.ts';

export type Tone = 'good' | 'busy' | 'warn' | 'bad' | 'idle';

export interface ConnectionSummary {
  text: string;
  tone: Tone;
  /** Longer explanation for the tooltip. */
  detail: string;
  canRetryNow: boolean;
}

export function secondsUntil(epochMs: number, now: number): number {
  return Math.max(0, Math.ceil((epochMs - now) / 1000));
}

export function connectionSummary(state: ConnectionState, now: number): ConnectionSummary {
  switch (state.kind) {
    case 'idle':
      return { text: 'Not connected', tone: 'idle', detail: 'Not in a room', canRetryNow: false };
    case 'connecting':
      return {
        text: state.attempt > 1 ? `Connecting · attempt ${state.attempt}` : 'Connecting…',
        tone: 'busy',
        detail: `Connecting to ${state.address}`,
        canRetryNow: false,
      };
    case 'connected':
      return {
        text: state.rttMs === null ? 'Connected' : `Connected · ${Math.round(state.rttMs)} ms`,
        tone: 'good',
        detail: `Connected to ${state.address}`,
        canRetryNow: false,
      };
    case 'reconnecting': {
      const secs = secondsUntil(state.nextRetryAt, now);
      return {
        text: `Reconnecting · attempt ${state.attempt} · ${secs > 0 ? `next try in ${secs} s` : 'trying now'}`,
        tone: 'warn',
        detail: `${state.address}: ${state.reasonText}`,
        canRetryNow: true,
      };
    }
    case 'offline': {
      const secs = state.nextRetryAt === null ? null : secondsUntil(state.nextRetryAt, now);
      const next = secs === null ? '' : secs > 0 ? ` · next try in ${secs} s` : ' · trying now';
      return {
        text: `Offline · ${state.reasonText}${next}`,
        tone: 'bad',
        detail: `${state.address}: ${state.reasonText}`,
        canRetryNow: true,
      };
    }
  }
}

// Formatters are built once: toLocale*String builds a new one per call, which shows when scrolling fast.
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

export function timeOfDay(ts: number): string {
  return timeFormat.format(ts);
}

export function fullTime(ts: number): string {
  return fullFormat.format(ts);
}
