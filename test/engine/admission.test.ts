/** Who the host makes room for when it is full: never a member who has joined. */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, joined, next, startRoom } from '../helpers/room.ts';

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
