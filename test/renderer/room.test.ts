/**
 * RoomState: the room this window is in or is getting into — connection,
 * who is here and typing, hosting, and the notice for what went wrong.
 */
import { describe, expect, it } from 'vitest';
import { RoomState, superseded } from '../../src/renderer/src/state/room.svelte.ts';
import { connectionSummary } from '../../src/renderer/src/components/connection/connection-summary.ts';
import { createFakeChatApi } from '../harness/fake-chat-api.ts';
import { ann, bob, lab, me, member, settle } from './fixtures.ts';

const refused = { ok: false as const, error: { code: 'BEACON_ERR_WRONG_CODE' as const, message: 'Wrong code.' } };
const cancelled = { ok: false as const, error: { code: 'BEACON_ERR_CANCELLED' as const, message: 'Cancelled.' } };

function inLab() {
  const api = createFakeChatApi();
  const room = new RoomState(api);
  room.entered(lab([me, bob]));
  return { api, room };
}

describe('entering a room', () => {
  it('is in the room once welcomed: its name, who is here and who we are', () => {
    const { room } = inLab();
    expect(room.inRoom).toBe(true);
    expect(room.roomName).toBe('Lab');
    expect(room.youId).toBe('me');
    expect(room.presence.members.map((m) => m.id)).toEqual(['me', 'bob']);
    expect(room.titleOf('room')).toBe('Lab');
    expect(room.titleOf('bob')).toBe('Bob');
  });

  it('is joining from the request until the welcome', async () => {
    const api = createFakeChatApi();
    const room = new RoomState(api);
    const joined = room.join({ address: '10.0.0.2:4747', name: 'Me', code: '1' });
    expect(room.joining).toBe(true);
    expect(await joined).toEqual({ ok: true, value: null });
    // Accepted is not yet in: the welcome ends the attempt.
    expect(room.joining).toBe(true);
    room.entered(lab());
    expect(room.joining).toBe(false);
    expect(api.callsTo('join')).toEqual([{ address: '10.0.0.2:4747', name: 'Me', code: '1' }]);
  });

  it('stops joining when the request is refused, but not when a newer request replaced it', async () => {
    const api = createFakeChatApi();
    const room = new RoomState(api);
    api.respondOnce('join', refused);
    expect(await room.join({ address: 'a', name: 'Me', code: '' })).toEqual(refused);
    expect(room.joining).toBe(false);

    api.respondOnce('join', cancelled);
    await room.join({ address: 'a', name: 'Me', code: '' });
    expect(superseded(cancelled)).toBe(true);
    expect(room.joining).toBe(true);
  });

  it('stops joining when the connection gives up before the room let us in, not after', () => {
    const api = createFakeChatApi();
    const room = new RoomState(api);
    room.joining = true;
    const offline = {
      kind: 'offline' as const,
      address: 'a',
      reason: 'BEACON_ERR_NETWORK' as const,
      reasonText: 'Lost.',
      nextRetryAt: null,
    };
    room.connectionChanged(offline);
    expect(room.joining).toBe(false);
    expect(room.connection).toEqual(offline);

    const { room: inside } = inLab();
    inside.joining = true;
    inside.connectionChanged(offline);
    expect(inside.joining).toBe(true);
  });

  it('hosting keeps what the host command answered', async () => {
    const api = createFakeChatApi();
    const room = new RoomState(api);
    const result = await room.host({ roomName: 'Lab', name: 'Me', port: 4747, code: '42' });
    expect(result.ok).toBe(true);
    expect(room.hostInfo).toMatchObject({ roomName: 'Lab', port: 4747, code: '42' });
    expect(room.joining).toBe(true);

    api.respondOnce('host', refused);
    await room.host({ roomName: 'Lab', name: 'Me', port: 4747, code: '42' });
    expect(room.joining).toBe(false);
  });
});

describe('people in the room', () => {
  it('adds who joins, updates who changes status, removes who leaves', () => {
    const { room } = inLab();
    room.memberChanged('joined', ann);
    expect(room.presence.members.map((m) => m.id)).toEqual(['me', 'bob', 'ann']);
    room.memberChanged('away', member('bob', 'Bob', 'away'));
    expect(room.presence.get('bob')?.status).toBe('away');
    room.memberChanged('left', ann);
    expect(room.presence.members.map((m) => m.id)).toEqual(['me', 'bob']);
    // Their name stays known for their old messages.
    expect(room.titleOf('ann')).toBe('Ann');
    expect(room.titleOf('nobody')).toBe('Someone');
  });

  it('shows who is typing, not ourselves, and forgets someone who left wherever they were typing', () => {
    const { room } = inLab();
    const now = Date.now();
    room.someoneTyping('bob', 'room', now);
    room.someoneTyping('bob', 'bob', now);
    room.someoneTyping('me', 'room', now);
    expect(room.typing.in('room', now)).toEqual(['bob']);
    expect(room.typing.in('bob', now)).toEqual(['bob']);
    room.memberChanged('left', bob);
    expect(room.typing.in('room', now)).toEqual([]);
    expect(room.typing.in('bob', now)).toEqual([]);
  });
});

describe('leaving', () => {
  it('goes back to the start screen once the api took the request', async () => {
    const { api, room } = inLab();
    room.hostInfo = {
      roomName: 'Lab',
      port: 1,
      code: null,
      addresses: [],
      webAddresses: [],
      fingerprint: null,
      invite: null,
    };
    room.someoneTyping('bob', 'room');
    await room.leave();
    expect(api.callsTo('leave')).toHaveLength(1);
    expect(room.inRoom).toBe(false);
    expect(room.hostInfo).toBeNull();
    expect(room.presence.members).toEqual([]);
    expect(room.typing.entries.size).toBe(0);
  });

  it('lets the owner decide what leaving resets', async () => {
    const api = createFakeChatApi();
    let resets = 0;
    const room = new RoomState(api, () => resets++);
    room.entered(lab());
    await room.leave();
    expect(resets).toBe(1);
  });

  it('stays and says why when leaving failed', async () => {
    const { api, room } = inLab();
    api.respondOnce('leave', { ok: false, error: { code: 'BEACON_ERR_INTERNAL', message: 'Stuck.' } });
    await room.leave();
    expect(room.inRoom).toBe(true);
    expect(room.notice).toBe('Stuck.');
  });
});

describe('room commands', () => {
  it('asks to retry now, and says why when that fails', async () => {
    const { api, room } = inLab();
    api.respondOnce('retryNow', { ok: false, error: { code: 'BEACON_ERR_NOT_JOINED', message: 'Not in a room.' } });
    room.retryNow();
    await settle();
    expect(api.callsTo('retryNow')).toHaveLength(1);
    expect(room.notice).toBe('Not in a room.');
  });

  it('sets our status', () => {
    const { api, room } = inLab();
    room.setStatus('away');
    expect(api.callsTo('setStatus')).toEqual([{ status: 'away' }]);
  });
});

describe('ends that say what happened (issue 10)', () => {
  const hosting = {
    roomName: 'Lab',
    port: 4747,
    code: '1',
    addresses: [],
    webAddresses: [],
    fingerprint: null,
    invite: null,
  };

  it('asks before stopping a room others are in, and stays when the answer is no', async () => {
    const { api, room } = inLab();
    room.hostInfo = hosting;
    const asked: string[] = [];
    room.confirm = (question) => (asked.push(question), false);
    expect(await room.leave()).toBe(false);
    expect(api.callsTo('leave')).toHaveLength(0);
    expect(asked[0]).toMatch(/1 other person is in this room/);
    room.confirm = () => true;
    expect(await room.leave()).toBe(true);
    expect(api.callsTo('leave')).toHaveLength(1);
  });

  it('does not ask when nobody else is there, or when only leaving', async () => {
    const api = createFakeChatApi();
    const room = new RoomState(api);
    room.entered(lab([me]));
    room.hostInfo = hosting;
    room.confirm = () => {
      throw new Error('asked');
    };
    expect(await room.leave()).toBe(true);
    const { room: guest } = inLab();
    guest.confirm = room.confirm;
    expect(await guest.leave()).toBe(true);
  });

  it('the composer hint says when messages will go out, by why the room is away', () => {
    const { room } = inLab();
    const offline = (reason: 'BEACON_ERR_HOST_STOPPED' | 'BEACON_ERR_WRONG_CODE' | 'BEACON_ERR_NETWORK') =>
      room.connectionChanged({ kind: 'offline', address: 'a', reason, reasonText: '', nextRetryAt: null });
    offline('BEACON_ERR_HOST_STOPPED');
    expect(room.offlineHint).toMatch(/when the host is back/);
    offline('BEACON_ERR_WRONG_CODE');
    expect(room.offlineHint).toMatch(/new join code/);
    offline('BEACON_ERR_NETWORK');
    expect(room.offlineHint).toMatch(/when you reconnect/);
    room.connectionChanged({ kind: 'connected', address: 'a', rttMs: 1 });
    expect(room.offlineHint).toBeNull();
  });

  it('retryWithCode passes the new code on', async () => {
    const { api, room } = inLab();
    room.retryWithCode('2222');
    await settle();
    expect(api.callsTo('retryWithCode')).toEqual([{ code: '2222' }]);
  });
});

describe('what the connection indicator says', () => {
  const offline = (
    reason: 'BEACON_ERR_HOST_STOPPED' | 'BEACON_ERR_WRONG_CODE' | 'BEACON_ERR_LOCKED_OUT',
    retryAfter?: number,
  ) => ({
    kind: 'offline' as const,
    address: 'ws://h/',
    reason,
    reasonText: 'x',
    nextRetryAt: null,
    ...(retryAfter === undefined ? {} : { retryAfter }),
  });

  it('Connected, with the round trip only in the details', () => {
    const summary = connectionSummary({ kind: 'connected', address: 'ws://h/', rttMs: 2.4 }, 0);
    expect(summary.text).toBe('Connected');
    expect(summary.detail).toContain('round trip 2 ms');
  });

  it('the host stopped the room, in words, with what Beacon does about it', () => {
    const summary = connectionSummary(offline('BEACON_ERR_HOST_STOPPED'), 0);
    expect(summary.text).toBe('The host stopped the room');
    expect(summary.next).toMatch(/comes back/);
  });

  it('a wrong code asks for the new one and offers no retry of the old', () => {
    const summary = connectionSummary(offline('BEACON_ERR_WRONG_CODE'), 0);
    expect(summary.asksForCode).toBe(true);
    expect(summary.canRetryNow).toBe(false);
  });

  it('a lockout counts down, then asks for the code', () => {
    expect(connectionSummary(offline('BEACON_ERR_LOCKED_OUT', 125_000), 0).text).toBe(
      'Locked out · try again in 2 min 5 s',
    );
    expect(connectionSummary(offline('BEACON_ERR_LOCKED_OUT', 125_000), 120_500).text).toBe(
      'Locked out · try again in 5 s',
    );
    const over = connectionSummary(offline('BEACON_ERR_LOCKED_OUT', 125_000), 126_000);
    expect(over.asksForCode).toBe(true);
  });
});
