/**
 * The words and decisions behind what issue 11 shows, without a browser: the
 * fingerprint an invite carries, what a page served over https or http knows
 * of its own connection, the room's state when a host shows another
 * fingerprint, and what the host's /room.json may say.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionState } from '../../src/shared/chat-api.ts';
import type { Fingerprint } from '../../src/shared/fingerprint.ts';
import { connectionSummary } from '../../src/renderer/src/components/connection/connection-summary.ts';
import { fetchRoomInfo } from '../../src/renderer/src/components/start/room-info.ts';
import { inviteFingerprint, pageSecurity, shownFingerprint } from '../../src/renderer/src/lib/security.ts';
import { RoomState } from '../../src/renderer/src/state/room.svelte.ts';
import { createFakeChatApi } from '../harness/fake-chat-api.ts';
import { bob, lab, me } from './fixtures.ts';

const FP = '3f9a21c477b05e129c0daa431b7f6e20' as Fingerprint;
const OTHER = 'e0a1b2c3d4e5f60718293a4b5c6d7e8f' as Fingerprint;

const hostChanged: ConnectionState = {
  kind: 'offline',
  address: '192.168.1.20:4747',
  reason: 'BEACON_ERR_HOST_CHANGED',
  reasonText: 'This is not the host you were invited to.',
  nextRetryAt: null,
  fingerprints: { expected: FP, presented: OTHER },
};

describe('the fingerprint in an invite', () => {
  it('is read from #fp= in a pasted link, in any case and with separators', () => {
    expect(inviteFingerprint(`https://192.168.1.20:4747/#fp=${FP}`)).toBe(FP);
    expect(inviteFingerprint(`https://192.168.1.20:4747/#fp=${FP.toUpperCase()}`)).toBe(FP);
    expect(inviteFingerprint(`#x=1&fp=${encodeURIComponent('3F9A 21C4 77B0 5E12 9C0D AA43 1B7F 6E20')}`)).toBe(FP);
    expect(inviteFingerprint(`#fp=${FP}`)).toBe(FP);
  });

  it('is none for a bare address, another fragment, or something that is not a fingerprint', () => {
    expect(inviteFingerprint('192.168.1.20:4747')).toBeNull();
    expect(inviteFingerprint('https://192.168.1.20:4747/#room')).toBeNull();
    expect(inviteFingerprint('https://192.168.1.20:4747/#fp=3f9a')).toBeNull();
    expect(inviteFingerprint('https://192.168.1.20:4747/#fp=%E0%A4%A')).toBeNull();
  });

  it('is shown to people in groups of four, and not at all when a host stated none', () => {
    expect(shownFingerprint(FP)).toBe('3F9A 21C4 77B0 5E12 9C0D AA43 1B7F 6E20');
    expect(shownFingerprint('')).toBeNull();
    expect(shownFingerprint(null)).toBeNull();
  });
});

describe('a browser page’s own connection', () => {
  it('is encrypted over https, checked by the browser, with the fingerprint the host states', () => {
    expect(pageSecurity('https:', FP)).toEqual({ encrypted: true, trust: 'browser', fingerprint: FP });
  });

  it('is still encrypted over https when the host states no fingerprint (shown as not stated)', () => {
    const security = pageSecurity('https:', null);
    expect(security.encrypted).toBe(true);
    expect(security.encrypted && shownFingerprint(security.fingerprint)).toBeNull();
  });

  it('is not encrypted over http, whatever the host states', () => {
    expect(pageSecurity('http:', FP)).toEqual({ encrypted: false });
  });

  it('takes the fingerprint from /room.json, and tolerates a host that sends none or nonsense', async () => {
    const answer = (body: object) => async () => new Response(JSON.stringify(body));
    expect(await fetchRoomInfo(answer({ name: 'Lab', codeRequired: true, fingerprint: FP }))).toEqual({
      name: 'Lab',
      codeRequired: true,
      fingerprint: FP,
    });
    expect((await fetchRoomInfo(answer({ name: 'Lab', codeRequired: true })))?.fingerprint).toBeNull();
    expect(
      (await fetchRoomInfo(answer({ name: 'Lab', codeRequired: true, fingerprint: 'x' })))?.fingerprint,
    ).toBeNull();
  });
});

describe('a host that shows another fingerprint', () => {
  function inLab() {
    const api = createFakeChatApi();
    const room = new RoomState(api);
    room.entered(lab([me, bob]));
    return { api, room };
  }

  it('raises the warning with both fingerprints, and a later connection clears it', () => {
    const { room } = inLab();
    room.connectionChanged(hostChanged);
    expect(room.hostChanged).toEqual({
      address: '192.168.1.20:4747',
      fingerprints: { expected: FP, presented: OTHER },
    });
    room.connectionChanged({ kind: 'connected', address: '192.168.1.20:4747', rttMs: 1 });
    expect(room.hostChanged).toBeNull();
  });

  it('the indicator names it without a retry, since retrying would reach the same machine', () => {
    const summary = connectionSummary(hostChanged, 0);
    expect(summary.text).toBe('Stopped: not the host you were invited to');
    expect(summary.canRetryNow).toBe(false);
    expect(summary.asksForCode).toBe(false);
  });

  it('trusting asks the api with the fingerprint the host showed, and the warning goes once it agrees', async () => {
    const { api, room } = inLab();
    room.connectionChanged(hostChanged);
    expect(await room.trustHost(OTHER)).toEqual({ ok: true, value: null });
    expect(api.callsTo('trustHost')).toEqual([{ fingerprint: OTHER }]);
    expect(room.hostChanged).toBeNull();
  });

  it('a refused trust keeps the warning', async () => {
    const { api, room } = inLab();
    room.connectionChanged(hostChanged);
    api.respondOnce('trustHost', { ok: false, error: { code: 'BEACON_ERR_INVALID_INPUT', message: 'No.' } });
    expect((await room.trustHost(OTHER)).ok).toBe(false);
    expect(room.hostChanged).not.toBeNull();
  });

  it('leaving clears the warning and trusts nothing', async () => {
    const { api, room } = inLab();
    room.connectionChanged(hostChanged);
    expect(await room.leave()).toBe(true);
    expect(room.hostChanged).toBeNull();
    expect(api.callsTo('trustHost')).toEqual([]);
  });
});
