/**
 * Attacks on the host's file endpoints by a member of the room (docs/PROTOCOL.md §18), over real
 * sockets: each one a way a review found to reach or change what is not the attacker's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TUS_VERSION } from '../../src/shared/files.ts';
import { cleanup, startRoom } from '../helpers/room.ts';
import { bearer, create, http, member, patch } from './files-http.ts';

afterEach(cleanup);

describe('an upload is touched only under the id that was checked', () => {
  it("a query naming another member's upload neither reads, writes nor cancels it", async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const eve = await member(server, 'Eve');
    const theirs = (await create(server, ann.token, 10, { name: 'plans.txt', conversation: bob.id })).headers.location!;
    const theirId = theirs.slice(theirs.lastIndexOf('/') + 1);
    const mine = (await create(server, eve.token, 5, { name: 'm.txt', conversation: 'room' })).headers.location!;
    const tus = { ...bearer(eve.token), 'tus-resumable': TUS_VERSION };

    // tus reads the id from the last `/` of the whole URL, query included.
    const head = await http(server, 'HEAD', `${mine}?x=/${theirId}`, { headers: tus });
    expect(head.headers['upload-length']).toBe('5');
    const written = await patch(server, eve.token, `${mine}?x=/${theirId}`, 0, Buffer.from('EVIL!EVIL!'));
    expect(written.status).not.toBe(204);
    await http(server, 'DELETE', `${mine}?x=/${theirId}`, { headers: tus });

    // Ann's upload is untouched: still at 0, and hers to finish with her own bytes.
    const annTus = { ...bearer(ann.token), 'tus-resumable': TUS_VERSION };
    const offset = await http(server, 'HEAD', theirs, { headers: annTus });
    expect(offset.status).toBe(200);
    expect(offset.headers['upload-offset']).toBe('0');
    expect((await patch(server, ann.token, theirs, 0, Buffer.from('the plans.'))).status).toBe(204);
    const got = await http(server, 'GET', `/files/${theirId}`, { headers: bearer(bob.token) });
    expect(got.body.toString()).toBe('the plans.');
  });
});
