/**
 * The host's file limits and its answers to hostile requests (docs/PROTOCOL.md §18.2, §18.6):
 * every refusal a stable code with its status, and nothing a client sends costs more than its request.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { UPLOADS_PATH } from '../../src/shared/files.ts';
import { cleanup, startRoom, tempDir } from '../helpers/room.ts';
import { bearer, create, http, member, patch, sha256, upload } from './files-http.ts';

afterEach(cleanup);

const tus = { 'tus-resumable': '1.0.0' };
const BYTES = Buffer.from('0123456789'.repeat(100));

/** What a failed request said, as [status, code]. */
const said = (reply: { status: number; json: () => { code: string } }): [number, string] => [
  reply.status,
  reply.json().code,
];

describe('refusals', () => {
  it('bytes that differ from the declared SHA-256 are refused (460) and nothing is kept', async () => {
    const dataDir = tempDir();
    const server = await startRoom({ dataDir });
    const ann = await member(server, 'Ann');
    const { id, finish } = await upload(server, ann.token, BYTES, { sha256: sha256('something else') });
    expect(said(finish)).toEqual([460, 'BEACON_ERR_FILE_CORRUPT']);
    expect((await http(server, 'GET', `/files/${id}`, { headers: bearer(ann.token) })).status).toBe(404);
    expect(readdirSync(join(dataDir, 'files', 'uploads'))).toEqual([]);
    expect(readdirSync(join(dataDir, 'files', 'blobs'))).toEqual([]);
    ann.peer.send({ type: 'send', clientId: 'c1', text: '', files: [id] });
    expect((await ann.peer.frame('error')).code).toBe('BEACON_ERR_FILE_NOT_READY');
  });

  it('a file larger than the room takes is refused at creation (413), and so are bytes past the declared length', async () => {
    const server = await startRoom({ limits: { maxFileBytes: 1_000 } });
    const ann = await member(server, 'Ann');
    expect(said(await create(server, ann.token, 1_001, { name: 'x', conversation: 'room' }))).toEqual([
      413,
      'BEACON_ERR_FILE_TOO_LARGE',
    ]);
    const created = await create(server, ann.token, 10, { name: 'x', conversation: 'room' });
    expect(said(await patch(server, ann.token, created.headers.location!, 0, BYTES))).toEqual([
      413,
      'BEACON_ERR_FILE_TOO_LARGE',
    ]);
    expect(ann.welcome.files).toMatchObject({ path: '/files', maxFileBytes: 1_000, maxUploadsInFlight: 4 });
  });

  it('the room quota counts identical files once and unfinished uploads at their length (507)', async () => {
    const server = await startRoom({ limits: { roomFilesQuotaBytes: 12_500 } });
    const ann = await member(server, 'Ann');
    const bytes = Buffer.from('0123456789'.repeat(500));
    await upload(server, ann.token, bytes);
    // The same bytes again take no more room.
    await upload(server, ann.token, bytes);
    await upload(server, ann.token, bytes);
    const reserved = await create(server, ann.token, 5_000, { name: 'x', conversation: 'room' });
    expect(reserved.status).toBe(201);
    const full = await create(server, ann.token, 2_501, { name: 'y', conversation: 'room' });
    expect(said(full)).toEqual([507, 'BEACON_ERR_ROOM_FILES_FULL']);
    expect(full.json().message).toMatch(/space for files is used up/);
    // Cancelling the unfinished upload gives its room back.
    await http(server, 'DELETE', reserved.headers.location!, { headers: { ...bearer(ann.token), ...tus } });
    expect((await create(server, ann.token, 2_501, { name: 'y', conversation: 'room' })).status).toBe(201);
  });

  it('tiny files count as the disk holds them (4 KiB each), before and after a restart', async () => {
    const dataDir = tempDir();
    const limits = { roomFilesQuotaBytes: 3 * 4096 };
    const server = await startRoom({ dataDir, limits });
    const ann = await member(server, 'Ann');
    for (const byte of ['a', 'b', 'c']) await upload(server, ann.token, Buffer.from(byte));
    const one = { name: 'd', conversation: 'room' };
    expect(said(await create(server, ann.token, 1, one))).toEqual([507, 'BEACON_ERR_ROOM_FILES_FULL']);
    await server.stop();
    const again = await startRoom({ dataDir, limits });
    const back = await member(again, 'Bob');
    expect(said(await create(again, back.token, 1, one))).toEqual([507, 'BEACON_ERR_ROOM_FILES_FULL']);
  });

  it('what the host found and cleaned at start-up reaches a warning listener attached after start', async () => {
    const dataDir = tempDir();
    await (await startRoom({ dataDir })).stop();
    const stray = join(dataDir, 'files', 'blobs', 'ab');
    mkdirSync(stray, { recursive: true });
    writeFileSync(join(stray, 'ab'.repeat(32)), 'left by a crash');
    const server = await startRoom({ dataDir });
    const warnings: string[] = [];
    server.on('warning', (message) => warnings.push(message));
    await expect.poll(() => warnings).toEqual([expect.stringMatching(/removed 1 stored file/)]);
  });

  it('the host keeps its disk reserve free whatever the quota says (507 HOST_DISK_FULL)', async () => {
    const server = await startRoom({ limits: { diskReserveBytes: Number.MAX_SAFE_INTEGER / 2 } });
    const ann = await member(server, 'Ann');
    expect(said(await create(server, ann.token, 1, { name: 'x', conversation: 'room' }))).toEqual([
      507,
      'BEACON_ERR_HOST_DISK_FULL',
    ]);
  });

  it('a member has at most maxUploadsInFlight unfinished uploads (429); finishing or cancelling one frees its place', async () => {
    const server = await startRoom({ limits: { maxUploadsInFlight: 2 } });
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const first = await create(server, ann.token, 10, { name: 'x', conversation: 'room' });
    const second = await create(server, ann.token, 10, { name: 'x', conversation: 'room' });
    expect(said(await create(server, ann.token, 10, { name: 'x', conversation: 'room' }))).toEqual([
      429,
      'BEACON_ERR_TOO_MANY_UPLOADS',
    ]);
    // Counted per member: Bob is not held back by Ann.
    expect((await create(server, bob.token, 10, { name: 'x', conversation: 'room' })).status).toBe(201);
    await patch(server, ann.token, first.headers.location!, 0, BYTES.subarray(0, 10));
    await http(server, 'DELETE', second.headers.location!, { headers: { ...bearer(ann.token), ...tus } });
    for (let i = 0; i < 2; i++) {
      expect((await create(server, ann.token, 10, { name: 'x', conversation: 'room' })).status).toBe(201);
    }
  });

  it('an upload left unfinished past abandonedUploadMs is deleted and gives back its place', async () => {
    const dataDir = tempDir();
    const server = await startRoom({ dataDir, limits: { abandonedUploadMs: 1_000, maxUploadsInFlight: 1 } });
    const ann = await member(server, 'Ann');
    const created = await create(server, ann.token, 10, { name: 'x', conversation: 'room' });
    expect(created.headers['upload-expires']).toBeDefined();
    expect((await create(server, ann.token, 10, { name: 'y', conversation: 'room' })).status).toBe(429);
    await expect
      .poll(async () => (await create(server, ann.token, 10, { name: 'y', conversation: 'room' })).status, {
        timeout: 10_000,
        interval: 500,
      })
      .toBe(201);
    const late = await patch(server, ann.token, created.headers.location!, 0, BYTES.subarray(0, 10));
    expect(said(late)).toEqual([404, 'BEACON_ERR_FILE_NOT_FOUND']);
    expect(
      readdirSync(join(dataDir, 'files', 'uploads')).some((name) => created.headers.location!.endsWith(name)),
    ).toBe(false);
  });

  it('a member runs at most maxDownloadsInFlight downloads at once (429)', async () => {
    const server = await startRoom({ limits: { maxDownloadsInFlight: 1, maxFileBytes: 64 * 1024 ** 2 } });
    const ann = await member(server, 'Ann');
    const big = Buffer.alloc(32 * 1024 ** 2, 1);
    const { id } = await upload(server, ann.token, big);
    // A download whose reader does not read: it holds its place.
    const { request } = await import('node:http');
    const stalled = request({
      host: '127.0.0.1',
      port: server.port,
      path: `/files/${id}`,
      headers: { ...bearer(ann.token), host: `127.0.0.1:${server.port}` },
    });
    const answered = new Promise<import('node:http').IncomingMessage>((resolve) => stalled.on('response', resolve));
    stalled.on('error', () => {});
    stalled.on('error', () => {});
    stalled.end();
    const response = await answered;
    response.pause();
    const second = await http(server, 'GET', `/files/${id}`, { headers: bearer(ann.token) });
    expect(said(second)).toEqual([429, 'BEACON_ERR_TOO_MANY_UPLOADS']);
    response.destroy();
    await expect
      .poll(async () => (await http(server, 'HEAD', `/files/${id}`, { headers: bearer(ann.token) })).status)
      .toBe(200);
    await expect
      .poll(
        async () =>
          (await http(server, 'GET', `/files/${id}`, { headers: { ...bearer(ann.token), range: 'bytes=0-9' } })).status,
      )
      .toBe(206);
  });
});

describe('hostile requests', () => {
  it('garbage, huge and contradictory headers are answered with a JSON refusal and the host carries on', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const auth = bearer(ann.token);
    const post = (headers: Record<string, string>) =>
      http(server, 'POST', UPLOADS_PATH, { headers: { ...auth, ...headers } });
    const meta = `name ${Buffer.from('x').toString('base64')},conversation ${Buffer.from('room').toString('base64')}`;
    const cases: [string, Promise<{ status: number; json: () => { code: string } }>][] = [
      ['no Tus-Resumable', post({ 'upload-length': '3', 'upload-metadata': meta })],
      ['a version nobody speaks', post({ 'tus-resumable': '0.2', 'upload-length': '3', 'upload-metadata': meta })],
      ['no length', post({ ...tus, 'upload-metadata': meta })],
      ['deferred length', post({ ...tus, 'upload-defer-length': '1', 'upload-metadata': meta })],
      ['negative length', post({ ...tus, 'upload-length': '-1', 'upload-metadata': meta })],
      ['length in words', post({ ...tus, 'upload-length': 'ten', 'upload-metadata': meta })],
      ['a length past any disk', post({ ...tus, 'upload-length': '99999999999999999999999', 'upload-metadata': meta })],
      [
        'a length just past the largest file',
        post({ ...tus, 'upload-length': String(2 ** 53), 'upload-metadata': meta }),
      ],
      ['no metadata', post({ ...tus, 'upload-length': '3' })],
      ['metadata that is not base64', post({ ...tus, 'upload-length': '3', 'upload-metadata': 'name ***' })],
      [
        'metadata with no name',
        post({
          ...tus,
          'upload-length': '3',
          'upload-metadata': `conversation ${Buffer.from('room').toString('base64')}`,
        }),
      ],
      [
        'a bad sha256',
        post({
          ...tus,
          'upload-length': '3',
          'upload-metadata': `${meta},sha256 ${Buffer.from('abc').toString('base64')}`,
        }),
      ],
      [
        'a type too long',
        post({
          ...tus,
          'upload-length': '3',
          'upload-metadata': `${meta},type ${Buffer.from('x'.repeat(101)).toString('base64')}`,
        }),
      ],
      [
        'a preview that is not a file of theirs',
        post({
          ...tus,
          'upload-length': '3',
          'upload-metadata': `${meta},preview ${Buffer.from('f_AAAAAAAAAAAAAAAAAAAAAA').toString('base64')}`,
        }),
      ],
      ['concatenation', post({ ...tus, 'upload-length': '3', 'upload-metadata': meta, 'upload-concat': 'partial' })],
      ['a method tus does not know', http(server, 'PUT', UPLOADS_PATH, { headers: { ...auth, ...tus } })],
      [
        'a download of an upload path',
        http(server, 'GET', `${UPLOADS_PATH}/f_AAAAAAAAAAAAAAAAAAAAAA`, { headers: auth }),
      ],
      [
        'a path that climbs out',
        http(server, 'PATCH', `${UPLOADS_PATH}/..%2F..%2Fbeacon.db`, { headers: { ...auth, ...tus } }),
      ],
      ['a file path that climbs out', http(server, 'GET', '/files/..%2Fbeacon.db', { headers: auth })],
      ['an id too short', http(server, 'GET', '/files/f_abc', { headers: auth })],
      [
        'an upload to a file path',
        http(server, 'POST', '/files/f_AAAAAAAAAAAAAAAAAAAAAA', { headers: { ...auth, ...tus } }),
      ],
    ];
    for (const [what, reply] of cases) {
      const { status, json } = await reply;
      expect([what, status >= 400 && status < 500]).toEqual([what, true]);
      expect([what, json().code]).toEqual([what, expect.stringMatching(/^BEACON_ERR_FILE_/)]);
    }
    // Node refuses a header block past its limit itself (431) before any of ours runs.
    const huge = await post({
      ...tus,
      'upload-length': '3',
      'upload-metadata': `${meta},junk ${'QUFB'.repeat(20_000)}`,
    }).catch((error: Error) => error);
    expect(huge instanceof Error || huge.status === 431).toBe(true);
    // A big but acceptable one: the name is cut to 255 characters, nothing else happens.
    const long = await create(server, ann.token, 3, { name: 'n'.repeat(6_000), conversation: 'room' });
    expect(long.status).toBe(201);
    // Still serving.
    const { finish } = await upload(server, ann.token, BYTES);
    expect(finish.status).toBe(204);
  });

  it('PATCH at the wrong offset, of the wrong type or past the end changes nothing; the upload still completes', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const created = await create(server, ann.token, BYTES.length, {
      name: 'x',
      conversation: 'room',
      sha256: sha256(BYTES),
    });
    const location = created.headers.location!;
    expect(said(await patch(server, ann.token, location, 5, BYTES.subarray(0, 5)))).toEqual([
      409,
      'BEACON_ERR_FILE_REQUEST',
    ]);
    expect((await patch(server, ann.token, location, 0, BYTES.subarray(0, 300))).status).toBe(204);
    expect(said(await patch(server, ann.token, location, 0, BYTES))).toEqual([409, 'BEACON_ERR_FILE_REQUEST']);
    const wrongType = await http(server, 'PATCH', location, {
      headers: { ...bearer(ann.token), ...tus, 'upload-offset': '300', 'content-type': 'text/plain' },
      body: 'zzz',
    });
    expect(wrongType.status).toBe(400);
    const negative = await http(server, 'PATCH', location, {
      headers: {
        ...bearer(ann.token),
        ...tus,
        'upload-offset': '-1',
        'content-type': 'application/offset+octet-stream',
      },
      body: 'zzz',
    });
    expect(negative.status).toBe(400);
    expect(
      said(await patch(server, ann.token, location, 300, Buffer.concat([BYTES.subarray(300), Buffer.from('extra')]))),
    ).toEqual([413, 'BEACON_ERR_FILE_TOO_LARGE']);
    const head = await http(server, 'HEAD', location, { headers: { ...bearer(ann.token), ...tus } });
    expect(head.headers['upload-offset']).toBe('300');
    expect((await patch(server, ann.token, location, 300, BYTES.subarray(300))).status).toBe(204);
    const id = location.split('/').pop()!;
    expect((await http(server, 'GET', `/files/${id}`, { headers: bearer(ann.token) })).body.equals(BYTES)).toBe(true);
  });

  it('a flood of creations from one member costs that member its uploads, never the host', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const replies = await Promise.all(
      Array.from({ length: 60 }, () => create(server, ann.token, 1_000, { name: 'x', conversation: 'room' })),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(4);
    expect(statuses.filter((status) => status === 429)).toHaveLength(56);
    const { finish } = await upload(server, bob.token, BYTES);
    expect(finish.status).toBe(204);
  });

  it('a request from a page of another site (a Host header not naming this machine) gets nothing (421)', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const { id } = await upload(server, ann.token, BYTES);
    const reply = await http(server, 'GET', `/files/${id}`, {
      headers: { ...bearer(ann.token), host: 'evil.example:80' },
    });
    expect(reply.status).toBe(421);
  });

  it('a body trickled to a page (not a file) is still cut when it is not whole in time', async () => {
    const server = await startRoom({ limits: { handshakeTimeoutMs: 300 } });
    const socket = connect({ host: '127.0.0.1', port: server.port });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /room.json HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 1000\r\n\r\nx`);
    const trickle = setInterval(() => socket.write('x'), 100);
    const closedAfter = Date.now();
    const closed = await Promise.race([
      new Promise((resolve) => socket.on('close', () => resolve(true)).on('error', () => {})),
      new Promise((resolve) => setTimeout(() => resolve(false), 5_000)),
    ]);
    clearInterval(trickle);
    socket.destroy();
    expect(closed).toBe(true);
    // Twice the handshake timeout, as before files (room-server.ts), with slack for a busy machine.
    expect(Date.now() - closedAfter).toBeLessThan(5_000);
  });

  it('an upload or a download that stalls lets go of its connection and its place after fileIdleMs', async () => {
    const server = await startRoom({
      limits: { fileIdleMs: 500, maxDownloadsInFlight: 1, maxFileBytes: 64 * 1024 ** 2 },
    });
    const ann = await member(server, 'Ann');
    const created = await create(server, ann.token, BYTES.length, { name: 'x', conversation: 'room' });
    const body = new PassThrough();
    const stalled = patch(server, ann.token, created.headers.location!, 0, body).catch((error: Error) => error);
    body.write(BYTES.subarray(0, 100));
    expect(await stalled).toBeInstanceOf(Error);
    body.destroy();
    const head = await http(server, 'HEAD', created.headers.location!, { headers: { ...bearer(ann.token), ...tus } });
    expect(head.headers['upload-offset']).toBe('100');

    const { id } = await upload(server, ann.token, Buffer.alloc(32 * 1024 ** 2, 3));
    const reader = connect({ host: '127.0.0.1', port: server.port });
    reader.on('error', () => {});
    reader.write(
      `GET /files/${id} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${ann.token}\r\n\r\n`,
    );
    reader.pause();
    // While it is stalled it holds the member's one download; after fileIdleMs the host lets it go.
    const one = async () =>
      (await http(server, 'GET', `/files/${id}`, { headers: { ...bearer(ann.token), range: 'bytes=0-0' } })).status;
    await expect.poll(one, { timeout: 5_000 }).toBe(429);
    await expect.poll(one, { timeout: 10_000 }).toBe(206);
    reader.destroy();
  });

  it('a member the room has forgotten has no files any more (401)', async () => {
    const dataDir = tempDir();
    const server = await startRoom({ dataDir });
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const { id } = await upload(server, ann.token, BYTES);
    ann.peer.send({ type: 'send', clientId: 'c1', text: 'here', files: [id] });
    await ann.peer.frame('ack');
    await server.stop();
    // Bob never wrote and was never written to: his identity is pruned at the next start, his token with it.
    const again = await startRoom({ dataDir, port: server.port, limits: { identityIdleMs: 0 } });
    expect((await http(again, 'GET', `/files/${id}`, { headers: bearer(bob.token) })).status).toBe(401);
    expect((await http(again, 'GET', `/files/${id}`, { headers: bearer(ann.token) })).status).toBe(200);
  });
});

describe('a full disk', () => {
  const root = process.getuid?.() === 0;
  it.skipIf(!root)(
    'while writing is 507 HOST_DISK_FULL, never a half file; the upload resumes once there is room (tmpfs of 20 MB, needs root)',
    async () => {
      const mountPoint = tempDir();
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', mountPoint]);
      try {
        const dataDir = join(mountPoint, 'room');
        mkdirSync(dataDir);
        const server = await startRoom({ dataDir, limits: { diskReserveBytes: 0 } });
        const ann = await member(server, 'Ann');
        const bytes = Buffer.alloc(8 * 1024 ** 2, 7);
        const created = await create(server, ann.token, bytes.length, {
          name: 'x',
          conversation: 'room',
          sha256: sha256(bytes),
        });
        expect(created.status).toBe(201);
        // Someone else fills the disk after the upload was accepted.
        const filler = join(mountPoint, 'filler');
        writeFileSync(filler, Buffer.alloc(15 * 1024 ** 2));
        const cut = await patch(server, ann.token, created.headers.location!, 0, bytes);
        expect(said(cut)).toEqual([507, 'BEACON_ERR_HOST_DISK_FULL']);
        const id = created.headers.location!.split('/').pop()!;
        expect((await http(server, 'GET', `/files/${id}`, { headers: bearer(ann.token) })).status).toBe(404);
        expect(existsSync(join(dataDir, 'files', 'blobs', sha256(bytes).slice(0, 2)))).toBe(false);
        rmSync(filler);
        const head = await http(server, 'HEAD', created.headers.location!, {
          headers: { ...bearer(ann.token), ...tus },
        });
        const offset = Number(head.headers['upload-offset']);
        expect(offset).toBeLessThan(bytes.length);
        expect((await patch(server, ann.token, created.headers.location!, offset, bytes.subarray(offset))).status).toBe(
          204,
        );
        expect((await http(server, 'GET', `/files/${id}`, { headers: bearer(ann.token) })).body.equals(bytes)).toBe(
          true,
        );
        await server.stop();
      } finally {
        execFileSync('umount', ['-l', mountPoint]);
      }
    },
  );
});
