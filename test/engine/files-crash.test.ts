/**
 * Files across crashes (docs/PROTOCOL.md §18.2): a host killed with SIGKILL in the middle of an
 * upload, or between the steps of finishing one, never offers a file that is not whole, and the
 * upload resumes where its bytes stopped. The host runs as a real child process where it is killed.
 */
import { linkSync, mkdirSync, readdirSync, statSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Upload } from 'tus-js-client';
import { afterEach, describe, expect, it } from 'vitest';
import { exited, freePort, killChildren, spawnNode } from '../helpers/processes.ts';
import { cleanup, RawPeer, startRoom, tempDir } from '../helpers/room.ts';
import { bearer, create, http, member, patch, sha256, type Welcome } from './files-http.ts';

afterEach(async () => {
  killChildren();
  await cleanup();
});

const tus = { 'tus-resumable': '1.0.0' };

/** The headless host on `port` with `data`, as a child process that can be killed. */
const host = (port: number, data: string) =>
  spawnNode(
    'src/cli/host.ts',
    ['--port', String(port), '--bind', '127.0.0.1', '--data', data, '--open', '--insecure', '--no-announce'],
    /^In a browser/,
  );

async function joinRoom(port: number, hello: Record<string, unknown>): Promise<{ peer: RawPeer; welcome: Welcome }> {
  const peer = new RawPeer(port);
  await peer.opened();
  peer.send({ type: 'hello', v: 1, ...hello });
  return { peer, welcome: await peer.frame('welcome') };
}

describe('a host killed during an upload', () => {
  it('offers nothing finished after the restart; HEAD gives the offset and PATCH completes the file', async () => {
    const port = await freePort();
    const data = tempDir();
    const target = { port, encrypted: false };
    const first = await host(port, data);
    const ann = await joinRoom(port, { name: 'Ann' });
    const token = ann.welcome.files!.token;
    const bytes = Buffer.alloc(4 * 1024 ** 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 251;
    const created = await create(target, token, bytes.length, {
      name: 'big.bin',
      conversation: 'room',
      sha256: sha256(bytes),
    });
    const location = created.headers.location!;
    const id = location.split('/').pop()!;
    // A PATCH whose body stops after a quarter and stays open, as a slow network leaves it.
    const body = new PassThrough();
    const cut = patch(target, token, location, 0, body).catch((error: Error) => error);
    body.write(bytes.subarray(0, 1024 ** 2));
    const partial = join(data, 'files', 'uploads', id);
    await expect.poll(() => statSync(partial).size, { timeout: 10_000 }).toBe(1024 ** 2);
    first.child.kill('SIGKILL');
    await exited(first.child);
    expect(await cut).toBeInstanceOf(Error);
    body.destroy();

    await host(port, data);
    const again = await joinRoom(port, { name: 'Ann', resume: { token: ann.welcome.token, lastSeq: 0 } });
    // The same token after a restart: the client's upload carries on with what it had.
    expect(again.welcome.files?.token).toBe(token);
    expect((await http(target, 'GET', `/files/${id}`, { headers: bearer(token) })).status).toBe(404);
    again.peer.send({ type: 'send', clientId: 'c1', text: '', files: [id] });
    expect((await again.peer.frame('error')).code).toBe('BEACON_ERR_FILE_NOT_READY');
    const head = await http(target, 'HEAD', location, { headers: { ...bearer(token), ...tus } });
    expect(head.status).toBe(200);
    expect(head.headers['upload-offset']).toBe(String(1024 ** 2));
    expect(head.headers['upload-length']).toBe(String(bytes.length));
    const rest = await patch(target, token, location, 1024 ** 2, bytes.subarray(1024 ** 2));
    expect(rest.status).toBe(204);
    expect((await http(target, 'GET', `/files/${id}`, { headers: bearer(token) })).body.equals(bytes)).toBe(true);
    again.peer.send({ type: 'send', clientId: 'c2', text: 'here it is', files: [id] });
    expect((await again.peer.frame('ack')).clientId).toBe('c2');
  });

  it('an upload whose bytes were all written but not yet stored is finished at the next start; a blob no record names is removed', async () => {
    const dataDir = tempDir();
    const server = await startRoom({ dataDir });
    const ann = await member(server, 'Ann');
    const bytes = Buffer.from('all but the last byte, then the host died\n'.repeat(100));
    const created = await create(server, ann.token, bytes.length, {
      name: 'notes.txt',
      conversation: 'room',
      sha256: sha256(bytes),
    });
    const location = created.headers.location!;
    const id = location.split('/').pop()!;
    await patch(server, ann.token, location, 0, bytes.subarray(0, -1));
    const corrupt = await create(server, ann.token, 4, {
      name: 'bad.txt',
      conversation: 'room',
      sha256: sha256('good'),
    });
    const corruptId = corrupt.headers.location!.split('/').pop()!;
    await server.stop();
    // As a crash leaves it: the last byte written, then the host gone before hashing and recording.
    const uploads = join(dataDir, 'files', 'uploads');
    appendFileSync(join(uploads, id), bytes.subarray(-1));
    // ...and one that got as far as its blob but not its record (a crash between link and insert).
    const blobs = join(dataDir, 'files', 'blobs');
    mkdirSync(join(blobs, sha256(bytes).slice(0, 2)), { recursive: true });
    linkSync(join(uploads, id), join(blobs, sha256(bytes).slice(0, 2), sha256(bytes)));
    // A complete upload whose bytes are not what was declared, and leftovers that belong to nobody.
    writeFileSync(join(uploads, corruptId), 'evil');
    const stray = sha256('nobody recorded me');
    mkdirSync(join(blobs, stray.slice(0, 2)), { recursive: true });
    writeFileSync(join(blobs, stray.slice(0, 2), stray), 'nobody recorded me');
    writeFileSync(join(blobs, stray.slice(0, 2), `${stray}.1234.tmp`), 'half a copy');
    writeFileSync(join(uploads, 'f_partialWithoutRecord0'), 'bytes with no tus record');

    const again = await startRoom({ dataDir, port: server.port });
    const got = await http(again, 'GET', `/files/${id}`, { headers: bearer(ann.token) });
    expect([got.status, got.body.equals(bytes)]).toEqual([200, true]);
    expect((await http(again, 'GET', `/files/${corruptId}`, { headers: bearer(ann.token) })).status).toBe(404);
    expect(readdirSync(uploads)).toEqual([]);
    expect(existsSync(join(blobs, stray.slice(0, 2), stray))).toBe(false);
    expect(readdirSync(join(blobs, stray.slice(0, 2)))).toEqual([]);
    // The uploader's HEAD says complete: its client does not send the file again.
    const head = await http(again, 'HEAD', location, { headers: { ...bearer(ann.token), ...tus } });
    expect(head.headers['upload-offset']).toBe(String(bytes.length));
  });
});

describe('a standard tus client (tus-js-client)', () => {
  it('uploads to the host, stops half way, and resumes from where the host says', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bytes = Buffer.alloc(3 * 1024 ** 2, 42);
    let stopped = false;
    const upload = await new Promise<Upload>((resolve, reject) => {
      const tusUpload: Upload = new Upload(bytes, {
        endpoint: `http://127.0.0.1:${server.port}/files/uploads`,
        headers: { authorization: `Bearer ${ann.token}` },
        metadata: { name: 'from-tus-js.bin', conversation: 'room', sha256: sha256(bytes) },
        chunkSize: 256 * 1024,
        retryDelays: [],
        onChunkComplete: (_chunk, sent) => {
          if (!stopped && sent >= bytes.length / 2) {
            stopped = true;
            void tusUpload.abort().then(() => tusUpload.start());
          }
        },
        onSuccess: () => resolve(tusUpload),
        onError: reject,
      });
      tusUpload.start();
    });
    expect(stopped).toBe(true);
    const id = upload.url!.split('/').pop()!;
    expect(upload.url).toBe(`http://127.0.0.1:${server.port}/files/uploads/${id}`);
    const got = await http(server, 'GET', `/files/${id}`, { headers: bearer(ann.token) });
    expect(got.body.equals(bytes)).toBe(true);
  });
});
