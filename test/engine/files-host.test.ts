/**
 * The host's files end to end (docs/PROTOCOL.md §18), over real sockets and a real SQLite file:
 * upload with tus, announce with a send, fetch with the file token; who may see what; how a file
 * is served.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startRoom, tempDir } from '../helpers/room.ts';
import { bearer, create, http, member, patch, png, resume, sha256, upload } from './files-http.ts';

afterEach(cleanup);

const TEXT = Buffer.from('the plans, version 3\n'.repeat(1000));

describe('a file shared in the room', () => {
  it('another member receives the file with the message and downloads the same bytes', async () => {
    const server = await startRoom({ encrypted: true });
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const { id, finish } = await upload(server, ann.token, TEXT, {
      name: 'plans.txt',
      type: 'text/plain',
      sha256: sha256(TEXT),
    });
    expect(finish.status).toBe(204);
    ann.peer.send({ type: 'send', clientId: 'c1', to: null, text: 'the plans', files: [id] });
    const ack = await ann.peer.frame('ack');
    const { message } = await bob.peer.frame('message');
    const record = { id, name: 'plans.txt', size: TEXT.length, type: 'text/plain', sha256: sha256(TEXT) };
    expect(message.files).toEqual([record]);
    // The sender's own copy is the host's record too, from the acknowledgement.
    expect(ack.files).toEqual([record]);
    const got = await http(server, 'GET', `/files/${id}`, { headers: bearer(bob.token) });
    expect(got.status).toBe(200);
    expect(got.body.equals(TEXT)).toBe(true);
    expect(got.headers['content-type']).toBe('application/octet-stream');
    expect(got.headers['content-disposition']).toBe('attachment; filename=plans.txt');
  });

  it('a picture is served as itself with its size in the message, and as a download when asked', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const picture = png(40, 30);
    const thumb = png(8, 6);
    const preview = await upload(server, ann.token, thumb, { name: 'thumb.png' });
    const { id } = await upload(server, ann.token, picture, {
      name: 'shot.png',
      type: 'image/png',
      preview: preview.id,
    });
    ann.peer.send({ type: 'send', clientId: 'c1', text: '', files: [id] });
    const { message } = await bob.peer.frame('message');
    expect(message.text).toBe('');
    expect(message.files?.[0]).toMatchObject({
      image: { width: 40, height: 30 },
      preview: { id: preview.id, width: 8, height: 6 },
    });
    const inline = await http(server, 'GET', `/files/${id}?t=${encodeURIComponent(bob.token)}`);
    expect(inline.status).toBe(200);
    expect(inline.headers['content-type']).toBe('image/png');
    expect(inline.headers['content-disposition']).toBe('inline; filename=shot.png');
    expect(inline.body.equals(picture)).toBe(true);
    const download = await http(server, 'GET', `/files/${id}?download=1&t=${encodeURIComponent(bob.token)}`);
    expect(download.headers['content-disposition']).toBe('attachment; filename=shot.png');
  });

  it('a preview must be a small picture of the same sender for the same conversation', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const tooWide = await upload(server, ann.token, png(700, 10));
    const notAPicture = await upload(server, ann.token, TEXT);
    const inADirect = await upload(server, ann.token, png(8, 6), { conversation: bob.id });
    const bobs = await upload(server, bob.token, png(8, 6));
    for (const preview of [tooWide.id, notAPicture.id, inADirect.id, bobs.id]) {
      const refused = await create(server, ann.token, 10, { name: 'x.png', conversation: 'room', preview });
      expect(refused.json().code).toBe('BEACON_ERR_FILE_REQUEST');
    }
  });

  it('the same content sent twice is stored once, under two ids', async () => {
    const dataDir = tempDir();
    const server = await startRoom({ dataDir });
    const ann = await member(server, 'Ann');
    const first = await upload(server, ann.token, TEXT, { name: 'a.txt' });
    const second = await upload(server, ann.token, TEXT, { name: 'b.txt' });
    expect(first.id).not.toBe(second.id);
    const blobs = join(dataDir, 'files', 'blobs', sha256(TEXT).slice(0, 2));
    expect(readdirSync(blobs)).toEqual([sha256(TEXT)]);
    for (const { id } of [first, second]) {
      expect((await http(server, 'GET', `/files/${id}`, { headers: bearer(ann.token) })).body.equals(TEXT)).toBe(true);
    }
    // Nothing of either upload is left in the tus folder.
    expect(readdirSync(join(dataDir, 'files', 'uploads'))).toEqual([]);
  });

  it('history pages and resumes carry the files', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const { id } = await upload(server, ann.token, TEXT, { name: 'plans.txt' });
    ann.peer.send({ type: 'send', clientId: 'c1', text: 'before', files: [id] });
    const ack = await ann.peer.frame('ack');
    const ref = { id, name: 'plans.txt', size: TEXT.length, type: '', sha256: sha256(TEXT) };

    const carol = await member(server, 'Carol');
    expect(carol.welcome.history.at(-1)).toMatchObject({ seq: ack.seq, files: [ref] });
    carol.peer.send({ type: 'history', conversation: 'room', before: ack.seq + 1 });
    expect((await carol.peer.frame('history')).messages.at(-1)).toMatchObject({ files: [ref] });

    const again = await resume(server, 'Ann', ann.welcome.token, ack.seq - 1);
    expect(again.welcome.history).toEqual([expect.objectContaining({ seq: ack.seq, files: [ref] })]);
    // The file token is the same after the reconnect: a download URL made before keeps working.
    expect(again.welcome.files?.token).toBe(ann.token);
  });

  it('a resend of a message with files is stored once and acknowledged again', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const { id } = await upload(server, ann.token, TEXT);
    ann.peer.send({ type: 'send', clientId: 'c1', text: 'x', files: [id] });
    const first = await ann.peer.frame('ack');
    ann.peer.send({ type: 'send', clientId: 'c1', text: 'x', files: [id] });
    await ann.peer.frame('ack', (ack) => ack !== first);
    expect(ann.peer.frames.filter((frame) => frame.type === 'ack').map((frame) => 'seq' in frame && frame.seq)).toEqual(
      [first.seq, first.seq],
    );
  });
});

describe('what a message may carry', () => {
  it('only finished uploads of the sender, for the conversation they were uploaded for', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const bobs = await upload(server, bob.token, TEXT);
    const forBob = await upload(server, ann.token, TEXT, { conversation: bob.id });
    const unfinished = await create(server, ann.token, 10, { name: 'x', conversation: 'room' });
    const unfinishedId = unfinished.headers.location!.split('/').pop()!;
    const refused = async (clientId: string, frame: Record<string, unknown>) => {
      ann.peer.send({ type: 'send', clientId, text: '', ...frame });
      return (await ann.peer.frame('error', (error) => error.ref === clientId)).code;
    };
    expect(await refused('c1', { files: [bobs.id] })).toBe('BEACON_ERR_FILE_NOT_READY');
    expect(await refused('c2', { files: [unfinishedId] })).toBe('BEACON_ERR_FILE_NOT_READY');
    expect(await refused('c3', { files: ['f_AAAAAAAAAAAAAAAAAAAAAA'] })).toBe('BEACON_ERR_FILE_NOT_READY');
    expect(await refused('c4', { files: [forBob.id] })).toBe('BEACON_ERR_FILE_ELSEWHERE');
    expect(await refused('c5', { to: bob.id, files: [(await upload(server, ann.token, TEXT)).id] })).toBe(
      'BEACON_ERR_FILE_ELSEWHERE',
    );
    expect(await refused('c6', {})).toBe('BEACON_ERR_EMPTY');
    ann.peer.send({ type: 'send', clientId: 'c7', to: bob.id, text: '', files: [forBob.id] });
    expect((await bob.peer.frame('message')).message).toMatchObject({ to: bob.id, files: [{ id: forBob.id }] });
  });

  it('what the sender claims about a file is not what others see: the host measured it', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const { id } = await upload(server, ann.token, TEXT, { name: 'a.txt', type: 'image/png' });
    ann.peer.send({ type: 'send', clientId: 'c1', text: '', files: [id] });
    const [ref] = (await bob.peer.frame('message')).message.files!;
    // The declared type is kept as a label, but no image size is invented and it is served as bytes.
    expect(ref).toEqual({ id, name: 'a.txt', size: TEXT.length, type: 'image/png', sha256: sha256(TEXT) });
    const got = await http(server, 'GET', `/files/${id}`, { headers: bearer(bob.token) });
    expect(got.headers['content-type']).toBe('application/octet-stream');
  });
});

describe('a file in a direct conversation', () => {
  it('is fetched by its two members only: anyone else is told it does not exist', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const carol = await member(server, 'Carol');
    const { id } = await upload(server, ann.token, TEXT, { conversation: bob.id });
    const get = (headers: Record<string, string>, query = '') =>
      http(server, 'GET', `/files/${id}${query}`, { headers });
    expect((await get(bearer(ann.token))).status).toBe(200);
    expect((await get(bearer(bob.token))).status).toBe(200);
    expect((await get({}, `?t=${encodeURIComponent(bob.token)}`)).status).toBe(200);

    const stranger = await get(bearer(carol.token));
    const nowhere = await http(server, 'GET', '/files/f_AAAAAAAAAAAAAAAAAAAAAA', { headers: bearer(carol.token) });
    expect(stranger.status).toBe(404);
    expect(stranger.json()).toEqual({
      code: 'BEACON_ERR_FILE_NOT_FOUND',
      message: 'That file is not in this room, or it is not shared with you.',
    });
    // Exactly as for a file that does not exist: nothing tells Carol the file is there.
    expect(stranger.body.equals(nowhere.body)).toBe(true);
    expect((await get({}, `?t=${encodeURIComponent(carol.token)}`)).status).toBe(404);
    expect((await http(server, 'HEAD', `/files/${id}`, { headers: bearer(carol.token) })).status).toBe(404);
  });

  it('without a token, or with a wrong or forged one, the answer is 401 whichever file is asked for', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const { id } = await upload(server, ann.token, TEXT, { conversation: bob.id });
    const forged = `${bob.id}.${'A'.repeat(43)}`;
    const tampered = ann.token.slice(0, -2) + (ann.token.endsWith('AA') ? 'BB' : 'AA');
    for (const headers of [{}, bearer('nonsense'), bearer(forged), bearer(tampered), { authorization: ann.token }]) {
      const reply = await http(server, 'GET', `/files/${id}`, { headers });
      expect(reply.status).toBe(401);
      expect(reply.json().code).toBe('BEACON_ERR_FILE_AUTH');
    }
    for (const token of ['nonsense', forged, tampered, ann.welcome.token]) {
      expect((await http(server, 'GET', `/files/${id}?t=${encodeURIComponent(token)}`)).status).toBe(401);
    }
    // ?t= is for what cannot send a header (an <img>, a browser's download): never for uploads.
    const viaQuery = await http(server, 'POST', `/files/uploads?t=${encodeURIComponent(ann.token)}`, {
      headers: { 'tus-resumable': '1.0.0', 'upload-length': '3' },
    });
    expect(viaQuery.status).toBe(401);
  });

  it('cannot be made for someone the room does not know, nor for oneself', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    for (const conversation of ['m_nobody', ann.id, '', 'room/../x']) {
      const reply = await create(server, ann.token, 10, { name: 'x', conversation });
      expect(reply.status).toBe(400);
      expect(reply.json().code).toBe('BEACON_ERR_FILE_REQUEST');
    }
  });
});

describe('an unfinished upload', () => {
  it('is its uploader’s alone: others cannot see, continue or cancel it', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const created = await create(server, ann.token, TEXT.length, { name: 'x', conversation: 'room' });
    const location = created.headers.location!;
    expect(location).toMatch(/^\/files\/uploads\/f_[A-Za-z0-9_-]{22}$/);
    const tus = { 'tus-resumable': '1.0.0' };
    expect((await http(server, 'HEAD', location, { headers: { ...bearer(bob.token), ...tus } })).status).toBe(404);
    expect((await patch(server, bob.token, location, 0, TEXT)).status).toBe(404);
    expect((await http(server, 'DELETE', location, { headers: { ...bearer(bob.token), ...tus } })).status).toBe(404);
    const head = await http(server, 'HEAD', location, { headers: { ...bearer(ann.token), ...tus } });
    expect(head.headers['upload-offset']).toBe('0');
    // Not downloadable by anyone, its uploader included, until it is finished.
    expect(
      (await http(server, 'GET', `/files/${location.split('/').pop()}`, { headers: bearer(ann.token) })).status,
    ).toBe(404);
    expect((await http(server, 'DELETE', location, { headers: { ...bearer(ann.token), ...tus } })).status).toBe(204);
    expect((await http(server, 'HEAD', location, { headers: { ...bearer(ann.token), ...tus } })).status).toBe(404);
  });

  it('a creation may carry the whole file (tus creation-with-upload) and is finished before it is answered', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const whole = await http(server, 'POST', '/files/uploads', {
      headers: {
        ...bearer(ann.token),
        'tus-resumable': '1.0.0',
        'upload-length': String(TEXT.length),
        'upload-metadata': `name ${Buffer.from('y.txt').toString('base64')},conversation ${Buffer.from('room').toString('base64')}`,
        'content-type': 'application/offset+octet-stream',
      },
      body: TEXT,
    });
    expect([whole.status, whole.headers['upload-offset']]).toEqual([201, String(TEXT.length)]);
    const id = whole.headers.location!.split('/').pop()!;
    expect((await http(server, 'GET', `/files/${id}`, { headers: bearer(ann.token) })).body.equals(TEXT)).toBe(true);
  });

  it('once finished, a HEAD by its uploader says it is complete (a lost answer to the last PATCH is not a new upload)', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const created = await create(server, ann.token, TEXT.length, { name: 'x', conversation: 'room' });
    const location = created.headers.location!;
    await patch(server, ann.token, location, 0, TEXT);
    const head = await http(server, 'HEAD', location, { headers: { ...bearer(ann.token), 'tus-resumable': '1.0.0' } });
    expect(head.status).toBe(200);
    expect([head.headers['upload-offset'], head.headers['upload-length']]).toEqual([
      `${TEXT.length}`,
      `${TEXT.length}`,
    ]);
  });
});

describe('how a file is served', () => {
  it.each([
    ['page.html', '<html><script>alert(document.cookie)</script></html>', 'text/html'],
    ['logo.svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', 'image/svg+xml'],
    ['fake.png', '<html><script>alert(1)</script></html>', 'image/png'],
  ])('%s is a download of plain bytes, never a page of the room', async (name, content, type) => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const { id } = await upload(server, ann.token, Buffer.from(content), { name, type });
    const got = await http(server, 'GET', `/files/${id}`, { headers: bearer(ann.token) });
    expect(got.headers).toMatchObject({
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename=${name}`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'private, max-age=31536000, immutable',
      'accept-ranges': 'bytes',
      etag: `"${sha256(content)}"`,
    });
  });

  it('a broken download resumes with Range; what cannot be served as asked is 416', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const { id } = await upload(server, ann.token, TEXT);
    const get = (range: string) => http(server, 'GET', `/files/${id}`, { headers: { ...bearer(ann.token), range } });
    const tail = await get('bytes=100-');
    expect(tail.status).toBe(206);
    expect(tail.headers['content-range']).toBe(`bytes 100-${TEXT.length - 1}/${TEXT.length}`);
    expect(tail.body.equals(TEXT.subarray(100))).toBe(true);
    const middle = await get('bytes=10-19');
    expect([middle.status, middle.body.toString()]).toEqual([206, TEXT.subarray(10, 20).toString()]);
    // An end past the file means its end.
    expect((await get(`bytes=5-${TEXT.length + 100}`)).body.length).toBe(TEXT.length - 5);
    for (const range of [`bytes=${TEXT.length}-`, 'bytes=-5', 'bytes=0-1,5-6', 'bytes=9-3', 'lines=1-2', 'bytes=x-']) {
      const refused = await get(range);
      expect([range, refused.status, refused.headers['content-range']]).toEqual([range, 416, `bytes */${TEXT.length}`]);
    }
    const again = await http(server, 'GET', `/files/${id}`, {
      headers: { ...bearer(ann.token), 'if-none-match': `"${sha256(TEXT)}"` },
    });
    expect(again.status).toBe(304);
  });

  it('names are made safe to save and honest to show', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const names: [string, string][] = [
      ['../../etc/passwd', '_.._etc_passwd'],
      ['CON.txt', '_CON.txt'],
      ['photo\u202Egnp.exe', 'photognp.exe'],
      ['a\u0000b\u0007c\r\n.txt', 'a_b_c__.txt'],
      [`${'x'.repeat(300)}.pdf`, `${'x'.repeat(251)}.pdf`],
      ['...', 'file'],
    ];
    for (const [i, [raw, stored]] of names.entries()) {
      const { id } = await upload(server, ann.token, Buffer.from(`file ${i}`), { name: raw });
      ann.peer.send({ type: 'send', clientId: `c${i}`, text: '', files: [id] });
      const { message } = await bob.peer.frame('message', (frame) => frame.message.clientId === `c${i}`);
      expect(message.files?.[0]?.name).toBe(stored);
      // The sender sees the name as stored, not as picked.
      const ack = await ann.peer.frame('ack', (frame) => frame.clientId === `c${i}`);
      expect(ack.files?.[0]?.name).toBe(stored);
    }
  });
});

describe('a room without a place for files', () => {
  it('(history in memory) offers no files in its welcome and refuses every file request', async () => {
    const server = await startRoom({ dataDir: ':memory:' });
    const ann = await member(server, 'Ann').catch((error: Error) => error);
    expect(ann).toBeInstanceOf(Error);
    const reply = await http(server, 'GET', '/files/f_AAAAAAAAAAAAAAAAAAAAAA');
    expect([reply.status, reply.json().code]).toEqual([404, 'BEACON_ERR_NO_FILES']);
  });
});
