/**
 * New identities per address (docs/PROTOCOL.md §14): identities cost nothing, and every limit the
 * host keeps per member multiplies with them, so one machine may only mint so many. Other loopback
 * addresses (127.0.0.2 …) play other machines; the host's own 127.0.0.1 is not counted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NewcomerThrottle } from '../../src/host/newcomer-throttle.ts';
import type { RoomServer } from '../../src/host/room-server.ts';
import { CLOSE } from '../../src/shared/protocol.ts';
import { cleanup, RawPeer, startRoom } from '../helpers/room.ts';

afterEach(cleanup);

/** Joins as a newcomer (or with `resume`) from `localAddress`; the welcome, or how the host closed. */
async function join(
  server: RoomServer,
  localAddress: string,
  name: string,
  resume?: string,
): Promise<{ token: string } | { refused: { code: number; reason: string }; retryAfterMs?: number }> {
  const peer = new RawPeer(server, { localAddress });
  await peer.opened();
  peer.send({ type: 'hello', v: 1, name, code: '1234', ...(resume ? { resume: { token: resume, lastSeq: 0 } } : {}) });
  const outcome = await Promise.race([
    peer.frame('welcome').then((welcome) => ({ token: welcome.token })),
    peer.closed.then(async (refused) => ({ refused, retryAfterMs: (await peer.frame('error')).retryAfterMs })),
  ]);
  peer.ws.close();
  return outcome;
}

// Joins themselves are not what is measured here.
const fastHellos = { hellosPerSecond: 1_000, helloBurst: 1_000 };

describe('new identities from one address', () => {
  it('past the burst, a newcomer from that address is asked to come back later (1013); members it already has still resume', async () => {
    const server = await startRoom({ limits: { ...fastHellos, newMemberBurst: 5, newMembersPerHour: 60 } });
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) {
      const joined = await join(server, '127.0.0.77', `Sock ${i}`);
      if (!('token' in joined)) throw new Error(`newcomer ${i} refused: ${joined.refused.reason}`);
      tokens.push(joined.token);
    }
    const sixth = await join(server, '127.0.0.77', 'Sock 5');
    expect(sixth).toMatchObject({
      refused: { code: CLOSE.TRY_AGAIN_LATER, reason: 'BEACON_ERR_TOO_MANY_NEW_MEMBERS' },
    });
    // One a minute refills: the wait says so.
    expect('retryAfterMs' in sixth && sixth.retryAfterMs).toBeGreaterThan(50_000);
    // Known identities are not newcomers, from this address or any other.
    expect(await join(server, '127.0.0.77', 'Sock 0', tokens[0])).toHaveProperty('token', tokens[0]);
    // Another machine, and the host's own, are not held back.
    expect(await join(server, '127.0.0.78', 'Neighbour')).toHaveProperty('token');
    for (let i = 0; i < 7; i++) expect(await join(server, '127.0.0.1', `Host tab ${i}`)).toHaveProperty('token');
  });

  it('an office of 50 behind one address all join on their first morning with the default limits', async () => {
    const server = await startRoom({ limits: fastHellos });
    for (let i = 0; i < 50; i++) expect(await join(server, '127.0.0.79', `Colleague ${i}`)).toHaveProperty('token');
  });

  it('a wrong join code makes no identity and costs none of the address’s newcomers', async () => {
    const server = await startRoom({ limits: { ...fastHellos, newMemberBurst: 1, wrongCodeDelayMs: 1 } });
    const peer = new RawPeer(server, { localAddress: '127.0.0.80' });
    await peer.opened();
    peer.send({ type: 'hello', v: 1, name: 'Typo', code: '9999' });
    expect((await peer.closed).reason).toBe('BEACON_ERR_WRONG_CODE');
    expect(await join(server, '127.0.0.80', 'Typo')).toHaveProperty('token');
  });
});

describe('the table of addresses', () => {
  it('never holds more than maxAddresses, however many addresses come', () => {
    const throttle = new NewcomerThrottle({ perHour: 1, burst: 1, maxAddresses: 100 });
    for (let i = 0; i < 10_000; i++) throttle.take(`10.0.${i >> 8}.${i & 255}`, 1_000);
    expect(throttle.size).toBeLessThanOrEqual(100);
    // The newest are remembered: the last address has used its one newcomer.
    expect(throttle.take('10.0.39.15', 1_000).ok).toBe(false);
  });

  it('forgets an address once its bucket has refilled', () => {
    const throttle = new NewcomerThrottle({ perHour: 60, burst: 2, maxAddresses: 100 });
    throttle.take('10.0.0.1', 0);
    throttle.prune(30_000);
    expect(throttle.size).toBe(1);
    throttle.prune(61_000);
    expect(throttle.size).toBe(0);
  });
});
