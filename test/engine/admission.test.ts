/** Who the host makes room for when it is full: never a member who has joined. */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, joined, next, RawPeer, startRoom } from '../helpers/room.ts';

afterEach(cleanup);

describe('a host at its connection limit', () => {
  it('closes idle sockets to make room, never the members already talking in the room', async () => {
    const server = await startRoom({ limits: { maxConnections: 4 } });
    const ann = await joined(server, 'Ann');
    const bob = await joined(server, 'Bob');
    const sockets: Socket[] = [];
    for (let i = 0; i < 12; i++) {
      // Each from an address of its own (loopback 127.0.0.2 and up), saying nothing.
      const socket = connect({ host: '127.0.0.1', port: server.port, localAddress: `127.0.0.${i + 2}` });
      socket.on('error', () => {});
      sockets.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
    }
    await expect.poll(() => server.openSockets).toBe(4);
    expect(ann.state.kind).toBe('connected');
    expect(bob.state.kind).toBe('connected');
    const heard = next(bob, 'message');
    ann.send('still here', null, 'room');
    expect((await heard)[0].text).toBe('still here');
    for (const socket of sockets) socket.destroy();
  });
});

describe('a socket that has not joined', () => {
  it('hears nothing of who joins, not even alongside the error it is sent', async () => {
    const server = await startRoom();
    const stranger = new RawPeer(server);
    await stranger.opened();
    // Ann's arrival is news waiting to go out (presence is sent in batches) when the stranger is answered.
    const ann = new RawPeer(server);
    await ann.hello('Ann');
    stranger.send({ type: 'history' });
    expect(await stranger.closed).toEqual({ code: 1008, reason: 'BEACON_ERR_NOT_JOINED' });
    expect(stranger.frames.map((frame) => frame.type)).toEqual(['error']);
  });
});
