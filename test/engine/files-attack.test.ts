/**
 * Attacks on the host's file endpoints by a member of the room (docs/PROTOCOL.md §18), over real
 * sockets: each one a way a review found to reach or change what is not the attacker's.
 */
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomServer } from '../../src/host/room-server.ts';
import { TUS_VERSION, UPLOADS_PATH } from '../../src/shared/files.ts';
import { cleanup, startRoom, tempDir } from '../helpers/room.ts';
import { bearer, create, http, member, metadata, patch, png, upload } from './files-http.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Memory outside the JS heap that Buffers hold, after a full collection. */
const bufferBytes = (): number => {
  gc();
  return process.memoryUsage().arrayBuffers;
};

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

describe('uploads paused part-way hold no memory of their bytes', () => {
  it('a hundred uploads each stopped after 256 KiB keep well under 256 KiB each in the host', async () => {
    const server = await startRoom();
    const chunk = Buffer.alloc(256 * 1024, 1);
    const before = bufferBytes();
    // Identities are cheap: 25 members, 4 uploads each (the most one may have unfinished).
    for (let i = 0; i < 25; i++) {
      const eve = await member(server, `Eve${i}`);
      for (let j = 0; j < 4; j++) {
        const created = await create(server, eve.token, chunk.length + 1, { name: 'x.bin', conversation: 'room' });
        expect((await patch(server, eve.token, created.headers.location!, 0, chunk)).status).toBe(204);
      }
    }
    // 100 × 256 KiB = 25 MiB when the first bytes of each upload were kept in memory. What stays
    // after a collection is the members' sockets and tus's objects: 5-10 MiB from run to run (9.1 MiB
    // once in CI), so the bound sits between that and the 25 MiB of the bug.
    expect(bufferBytes() - before).toBeLessThan(16 * 1024 ** 2);
  });

  it('a picture sent in two PATCHes is still read as a picture at its finish', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const picture = png(300, 200);
    const created = await create(server, ann.token, picture.length, { name: 'p.png', conversation: 'room' });
    const location = created.headers.location!;
    expect((await patch(server, ann.token, location, 0, picture.subarray(0, 20))).status).toBe(204);
    expect((await patch(server, ann.token, location, 20, picture.subarray(20))).status).toBe(204);
    const id = location.slice(location.lastIndexOf('/') + 1);
    ann.peer.send({ type: 'send', clientId: 'c1', text: '', files: [id] });
    const { message } = await bob.peer.frame('message');
    expect(message.files?.[0]?.image).toEqual({ width: 300, height: 200 });
    const got = await http(server, 'GET', `/files/${id}`, { headers: bearer(bob.token) });
    expect(got.headers['content-type']).toBe('image/png');
  });
});

describe('names a sender chooses', () => {
  it('are stored and served safe for every system, whatever they hold', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const cases: [string, string][] = [
      ['CONIN$', '_CONIN$'],
      ['conout$.log', '_conout$.log'],
      ['CON .txt', '_CON .txt'],
      [' . . ', 'file'],
      ['a\r\nContent-Type: text/html.txt', 'a__Content-Type_ text_html.txt'],
      ['photo\u202Egnp.exe', 'photognp.exe'],
    ];
    for (const [sent, stored] of cases) {
      const { id } = await upload(server, ann.token, Buffer.from(sent), { name: sent });
      ann.peer.send({ type: 'send', clientId: `c${id}`, text: '', files: [id] });
      const { message } = await bob.peer.frame('message', (frame) => frame.message.files?.[0]?.id === id);
      expect(message.files?.[0]?.name).toBe(stored);
      const got = await http(server, 'GET', `/files/${id}`, { headers: bearer(bob.token) });
      expect(got.headers['content-disposition']).toMatch(/^attachment; filename=/);
      expect(got.headers['content-type']).toBe('application/octet-stream');
    }
  });
});

describe('whether someone else holds some bytes is not for a member to learn', () => {
  it('the quota counts bytes a member uploads even when the room already stores them in a conversation they cannot read', async () => {
    const server = await startRoom({ limits: { roomFilesQuotaBytes: 100_000 } });
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const eve = await member(server, 'Eve');
    const secret = Buffer.from('salaries 2027\n'.repeat(1000));
    await upload(server, ann.token, secret, { name: 'salaries.csv', conversation: bob.id });
    const tus = { ...bearer(eve.token), 'tus-resumable': TUS_VERSION };
    /** What is left of the quota, found as an attacker finds it: the largest creation it allows. */
    const left = async (): Promise<number> => {
      let [low, high] = [0, 100_000];
      while (low < high) {
        const mid = Math.ceil((low + high) / 2);
        const created = await create(server, eve.token, mid, { name: 'probe', conversation: 'room' });
        if (created.status !== 201) high = mid - 1;
        else {
          low = mid;
          await http(server, 'DELETE', created.headers.location!, { headers: tus });
        }
      }
      return low;
    };
    const before = await left();
    // Eve guesses the DM's bytes: the quota goes down as for any new file, not by nothing.
    await upload(server, eve.token, secret, { name: 'guess.csv' });
    expect(before - (await left())).toBe(secret.length);
    // Her own same bytes again take nothing more.
    const again = await left();
    await upload(server, eve.token, secret, { name: 'guess again.csv' });
    expect(await left()).toBe(again);
  });
});

/** POST /files/uploads from `localAddress` (another loopback address plays another machine). */
function createFrom(
  localAddress: string,
  server: RoomServer,
  token: string,
  length: number,
): Promise<{ status: number; code?: string; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        localAddress,
        port: server.port,
        method: 'POST',
        path: UPLOADS_PATH,
        agent: false,
        headers: {
          ...bearer(token),
          host: `127.0.0.1:${server.port}`,
          'tus-resumable': TUS_VERSION,
          'upload-length': String(length),
          'upload-metadata': metadata({ name: 'big.iso', conversation: 'room' }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            ...(res.statusCode === 201
              ? { location: res.headers.location }
              : { code: (JSON.parse(body) as { code: string }).code }),
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('one machine cannot lock everyone else out of large files', () => {
  it('identities from one address together reserve no more than one member could; everyone else still uploads', async () => {
    // One member's most: 4 uploads of 1,000 bytes. The attacker has as many identities as it likes.
    const server = await startRoom({ limits: { maxFileBytes: 1_000, roomFilesQuotaBytes: 20_000 } });
    const eves = await Promise.all(Array.from({ length: 6 }, (_, i) => member(server, `Eve ${i}`)));
    const held: { status: number; code?: string; location?: string }[] = [];
    for (const eve of eves) held.push(await createFrom('127.0.0.66', server, eve.token, 1_000));
    expect(held.map((reply) => reply.status)).toEqual([201, 201, 201, 201, 429, 429]);
    expect(held[4]!.code).toBe('BEACON_ERR_TOO_MANY_UPLOADS');
    // Another machine is not held back.
    const ann = await member(server, 'Ann');
    expect((await createFrom('127.0.0.67', server, ann.token, 1_000)).status).toBe(201);
    // What an upload has received is no longer a reservation: half of one sent frees half a file.
    await patch(server, eves[0]!.token, held[0]!.location!, 0, Buffer.alloc(500, 1));
    expect((await createFrom('127.0.0.66', server, eves[4]!.token, 500)).status).toBe(201);
    expect((await createFrom('127.0.0.66', server, eves[5]!.token, 1)).code).toBe('BEACON_ERR_TOO_MANY_UPLOADS');
  });

  it('an upload that receives nothing for stalledUploadMs gives its quota back and is deleted', async () => {
    const dataDir = tempDir();
    const server = await startRoom({ dataDir, limits: { roomFilesQuotaBytes: 3_000, stalledUploadMs: 1_000 } });
    const eve = await member(server, 'Eve');
    const ann = await member(server, 'Ann');
    const squat = await create(server, eve.token, 2_000, { name: 'squat', conversation: 'room' });
    expect(squat.status).toBe(201);
    expect((await create(server, ann.token, 2_000, { name: 'mine', conversation: 'room' })).status).toBe(507);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect((await create(server, ann.token, 2_000, { name: 'mine', conversation: 'room' })).status).toBe(201);
    expect((await patch(server, eve.token, squat.headers.location!, 0, Buffer.alloc(10))).status).toBe(404);
    const id = squat.headers.location!.split('/').pop()!;
    await expect
      .poll(() => readdirSync(join(dataDir, 'files', 'uploads')).some((name) => name.startsWith(id)))
      .toBe(false);
  });

  it('a slow upload that keeps sending is never taken for a stalled one', async () => {
    const server = await startRoom({ limits: { roomFilesQuotaBytes: 3_000, stalledUploadMs: 400 } });
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const slow = await create(server, ann.token, 2_000, { name: 'slow', conversation: 'room' });
    const body = new PassThrough();
    const finished = patch(server, ann.token, slow.headers.location!, 0, body);
    // 2 s of a trickle, a chunk every 200 ms: never 400 ms without a byte.
    for (let i = 0; i < 10; i++) {
      body.write(Buffer.alloc(100, i));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await create(server, bob.token, 2_000, { name: 'no', conversation: 'room' })).status).toBe(507);
    }
    body.end(Buffer.alloc(1_000, 9));
    expect((await finished).status).toBe(204);
  });
});
