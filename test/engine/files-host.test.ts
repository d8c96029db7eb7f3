/**
 * The host's files end to end (docs/PROTOCOL.md §18), over real sockets and a real SQLite file:
 * upload with tus, announce with a send, fetch with the file token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startRoom } from '../helpers/room.ts';
import { http, member, sha256, upload } from './files-http.ts';

afterEach(cleanup);

describe('a file shared in the room', () => {
  it('another member receives the file with the message and downloads the same bytes', async () => {
    const server = await startRoom({ encrypted: true });
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const bytes = Buffer.from('the plans, version 3\n'.repeat(1000));
    const { id, finish } = await upload(server, ann.token, bytes, {
      name: 'plans.txt',
      type: 'text/plain',
      sha256: sha256(bytes),
    });
    expect(finish.status).toBe(204);
    ann.peer.send({ type: 'send', clientId: 'c1', to: null, text: 'the plans', files: [id] });
    await ann.peer.frame('ack');
    const { message } = await bob.peer.frame('message');
    expect(message.files).toEqual([
      { id, name: 'plans.txt', size: bytes.length, type: 'text/plain', sha256: sha256(bytes) },
    ]);
    const got = await http(server, 'GET', `/files/${id}`, { headers: { authorization: `Bearer ${bob.token}` } });
    expect(got.status).toBe(200);
    expect(got.body.equals(bytes)).toBe(true);
    expect(got.headers['content-type']).toBe('application/octet-stream');
    expect(got.headers['content-disposition']).toBe('attachment; filename=plans.txt');
  });
});
