/**
 * Files from one member's interface to another's, through the client plumbing (ChatFeed,
 * FileOutbox, tus over pinned HTTPS, FileDownloads) and a real host: real sockets, real files,
 * real child processes for the host that is killed.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity } from '../../src/host/tls-identity.ts';
import { pinnedHttpStack } from '../../src/node/file-http.ts';
import { ROOM } from '../../src/shared/chat-api.ts';
import { startTusUpload } from '../../src/shared/tus-upload.ts';
import type { ChatMessage } from '../../src/shared/protocol.ts';
import { exited, freePort, killChildren, spawnNode } from '../helpers/processes.ts';
import { cleanup, startRoom, tempDir } from '../helpers/room.ts';
import { bearer, http } from './files-http.ts';
import { fileMember, outgoing, randomFile } from './files-client-members.ts';

afterEach(async () => {
  killChildren();
  await cleanup();
});

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const MiB = 1024 * 1024;

/** The message with files the member received (live, or in a welcome's history). */
function withFiles(event: Parameters<Parameters<Awaited<ReturnType<typeof fileMember>>['when']>[0]>[0]) {
  const messages: ChatMessage[] =
    event.type === 'messages' ? event.messages : event.type === 'welcome' ? event.history : [];
  return messages.find((message) => (message.files?.length ?? 0) > 0);
}

describe('sending a file', () => {
  it('another member gets the file with its caption and downloads exactly the same bytes', async () => {
    const server = await startRoom({ encrypted: true });
    const ann = await fileMember(server, 'Ann');
    const bob = await fileMember(server, 'Bob');
    const plans = randomFile(3 * MiB + 17, 'plans.pdf');

    const sent = ann.feed.sendFiles(ROOM, 'the plans', [outgoing(plans, 'application/pdf')]);
    expect(sent.ok).toBe(true);
    // The message is pending at once, with its transfer, before a byte has gone.
    const pending = await ann.when((e) => (e.type === 'outgoing' ? e.message : undefined));
    expect(pending).toMatchObject({ status: 'pending', text: 'the plans', transfers: [expect.any(String)] });

    const message = await bob.when(withFiles);
    expect(message.text).toBe('the plans');
    expect(message.files).toEqual([
      {
        id: expect.stringMatching(/^f_/),
        name: 'plans.pdf',
        size: plans.bytes.length,
        type: 'application/pdf',
        sha256: sha256(plans.bytes),
      },
    ]);
    await ann.when((e) => (e.type === 'messageStatus' && e.status === 'sent' ? e : undefined));
    // Ann's own copy of the message carries its file too.
    const own = (await ann.feed.snapshot()).history.find((m) => m.clientId === pending.clientId);
    expect(own?.files?.[0]).toMatchObject({ id: message.files![0]!.id, name: 'plans.pdf' });

    const download = bob.download(message.files![0]!.id);
    const done = await bob.ended(download);
    expect(done).toMatchObject({ state: 'done', name: 'plans.pdf', doneBytes: plans.bytes.length });
    expect(readFileSync(done.savedTo!).equals(plans.bytes)).toBe(true);
    expect(readdirSync(bob.downloadsFolder)).toEqual(['plans.pdf']);
  });

  it('the progress bar reaches 100% with a believable speed and time left, at most 4 updates a second', async () => {
    const server = await startRoom({ encrypted: true });
    const ann = await fileMember(server, 'Ann');
    const big = randomFile(48 * MiB, 'video.mp4');
    ann.feed.sendFiles(ROOM, '', [outgoing(big, 'video/mp4')]);
    const { transfers } = await ann.when((e) => (e.type === 'outgoing' ? e.message : undefined));
    const id = transfers![0]!;
    const seen: { state: string; done: number; speed: number | null; left: number | null }[] = [];
    const started = Date.now();
    await ann.ended(id, 60_000);
    for (const transfer of ann.transfers(id)) {
      seen.push({
        state: transfer.state,
        done: transfer.doneBytes,
        speed: transfer.bytesPerSecond,
        left: transfer.secondsLeft,
      });
    }
    const states = seen.map((s) => s.state);
    expect(states[0]).toBe('preparing');
    expect(states.at(-1)).toBe('done');
    expect(seen.at(-1)!.done).toBe(big.bytes.length);
    const active = seen.filter((s) => s.state === 'active');
    expect(active.length).toBeGreaterThan(1);
    // Never backwards.
    for (let i = 1; i < active.length; i++) expect(active[i]!.done).toBeGreaterThanOrEqual(active[i - 1]!.done);
    const speeds = active.flatMap((s) => (s.speed === null ? [] : [s.speed]));
    expect(speeds.length).toBeGreaterThan(0);
    for (const speed of speeds) {
      expect(speed).toBeGreaterThan(100 * 1024);
      expect(speed).toBeLessThan(20 * 1024 * MiB);
    }
    for (const s of active) if (s.left !== null) expect(s.left).toBeGreaterThanOrEqual(0);
    // Paced: over the whole upload, no more than 4 progress events a second (plus the first).
    const seconds = (Date.now() - started) / 1000;
    expect(active.length).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 2);
  });

  it('cancelling an upload sends no message, and the host forgets the upload', async () => {
    const server = await startRoom({ encrypted: true });
    const ann = await fileMember(server, 'Ann');
    const bob = await fileMember(server, 'Bob');
    const big = randomFile(256 * MiB, 'backup.tar');
    ann.feed.sendFiles(ROOM, 'backup', [outgoing(big)]);
    const message = await ann.when((e) => (e.type === 'outgoing' ? e.message : undefined));
    const id = message.transfers![0]!;
    await ann.when((e) => (e.type === 'transfer' && e.transfer.state === 'active' ? e : undefined));
    expect((await ann.feed.cancelTransfer(id)).ok).toBe(true);

    expect(await ann.ended(id)).toMatchObject({ state: 'cancelled' });
    await ann.when((e) => (e.type === 'withdrawn' && e.clientId === message.clientId ? e : undefined));
    expect(ann.feed.snapshot().outgoing).toEqual([]);
    // The next thing Bob receives from Ann is her next message, not the cancelled one.
    ann.feed.send(ROOM, 'never mind');
    const next = await bob.when((e) => (e.type === 'messages' ? e.messages[0] : undefined));
    expect(next).toMatchObject({ text: 'never mind' });
    expect(next.files).toBeUndefined();
    // The host was told (tus termination): the upload no longer exists for anyone, Ann included.
    const patch = ann.requests.find((r) => r.method === 'PATCH')!;
    expect(ann.requests.some((r) => r.method === 'DELETE' && r.url === patch.url)).toBe(true);
    const access = ann.feed.fileAccess()!;
    const head = await http(server, 'HEAD', new URL(patch.url).pathname, {
      headers: { ...bearer(access.token), 'tus-resumable': '1.0.0' },
    });
    expect(head.status).toBe(404);
  });

  it('an upload cut by kill -9 of the host resumes after the restart from where it stopped', async () => {
    const port = await freePort();
    const data = tempDir();
    const { fingerprint } = await loadOrCreateIdentity(data);
    const hostArgs = ['--port', String(port), '--bind', '127.0.0.1', '--data', data, '--code', '1234', '--no-announce'];
    const first = await spawnNode('src/cli/host.ts', hostArgs, /^Join code/);
    const ann = await fileMember({ port, fingerprint }, 'Ann');
    const big = randomFile(192 * MiB, 'disk-image.iso');

    ann.feed.sendFiles(ROOM, 'the image', [outgoing(big)]);
    const message = await ann.when((e) => (e.type === 'outgoing' ? e.message : undefined));
    const id = message.transfers![0]!;
    // Once a third of the file is on its way, the host dies without a word.
    const sentBeforeKill = await ann.when((e) =>
      e.type === 'transfer' && e.transfer.state === 'active' && e.transfer.doneBytes > 64 * MiB
        ? e.transfer.doneBytes
        : undefined,
    );
    first.child.kill('SIGKILL');
    await exited(first.child);
    const waiting = await ann.when((e) =>
      e.type === 'transfer' && e.transfer.id === id && e.transfer.state === 'waiting' ? e.transfer : undefined,
    );
    expect(waiting.error?.code).toBe('BEACON_ERR_NETWORK');

    await spawnNode('src/cli/host.ts', hostArgs, /^Join code/);
    expect(await ann.ended(id, 90_000)).toMatchObject({ state: 'done', doneBytes: big.bytes.length });
    await ann.when((e) => (e.type === 'messageStatus' && e.status === 'sent' ? e : undefined), 30_000);

    // One upload: created once, then its bytes sent in two PATCHes, the second from where the first stopped.
    expect(ann.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    const patches = ann.requests.filter((r) => r.method === 'PATCH');
    const resumedAt = patches.at(-1)!.offset!;
    expect(patches[0]!.offset).toBe(0);
    // What reached the host before it died is kept (less what sat in socket buffers on the way).
    expect(resumedAt).toBeGreaterThan(sentBeforeKill - 16 * MiB);
    const resent = big.bytes.length - resumedAt;
    expect(resent).toBeLessThan(big.bytes.length);
    console.info(
      `kill -9 resume: ${(resumedAt / MiB).toFixed(1)} MiB kept by the host, ${(resent / MiB).toFixed(1)} of ${big.bytes.length / MiB} MiB sent again`,
    );

    // Someone joining afterwards finds the message with the whole file, and gets the same bytes.
    const bob = await fileMember({ port, fingerprint }, 'Bob');
    const received = await bob.when(withFiles);
    expect(received.files![0]).toMatchObject({ size: big.bytes.length, sha256: sha256(big.bytes) });
    const done = await bob.ended(bob.download(received.files![0]!.id), 60_000);
    expect(sha256(readFileSync(done.savedTo!))).toBe(sha256(big.bytes));
  }, 180_000);

  it('an upload that gave up while the host was away resumes on Retry from where it stopped', async () => {
    const data = tempDir();
    const server = await startRoom({ encrypted: true, dataDir: data });
    const port = server.port;
    const fingerprint = server.fingerprint!;
    // No automatic tries: the first break fails the transfer, as two minutes without the host would.
    const ann = await fileMember(server, 'Ann', { retryDelays: [] });
    const big = randomFile(128 * MiB, 'dump.sql');
    ann.feed.sendFiles(ROOM, 'the dump', [outgoing(big)]);
    const message = await ann.when((e) => (e.type === 'outgoing' ? e.message : undefined));
    const id = message.transfers![0]!;
    await ann.when((e) =>
      e.type === 'transfer' && e.transfer.state === 'active' && e.transfer.doneBytes > 8 * MiB ? e : undefined,
    );
    await server.stop();
    expect(await ann.ended(id)).toMatchObject({ state: 'failed', error: { code: 'BEACON_ERR_NETWORK' } });
    const failed = await ann.when((e) =>
      e.type === 'messageStatus' && e.clientId === message.clientId && e.status === 'failed' ? e : undefined,
    );
    expect(failed.error).toBe('The network connection was lost.');

    await startRoom({ encrypted: true, dataDir: data, port });
    const stopped = ann.events.length;
    await ann.when((e) => (e.type === 'connection' && e.state.kind === 'connected' ? e : undefined), 20_000, stopped);
    const before = ann.requests.length;
    const seen = ann.events.length;
    expect(ann.feed.retryTransfer(id)).toEqual({ ok: true, value: null });
    expect(await ann.ended(id, 60_000, seen)).toMatchObject({ state: 'done' });
    await ann.when((e) =>
      e.type === 'messageStatus' && e.clientId === message.clientId && e.status === 'sent' ? e : undefined,
    );
    // Resumed (HEAD, then a PATCH from the host's offset), not created again.
    const after = ann.requests.slice(before);
    expect(after.map((r) => r.method)).toEqual(['HEAD', 'PATCH']);
    expect(after[1]!.offset).toBeGreaterThan(0);
    const bob = await fileMember({ port, fingerprint }, 'Bob');
    const received = await bob.when(withFiles);
    expect(received.files![0]!.sha256).toBe(sha256(big.bytes));
  }, 120_000);

  it('a download cut by a host restart resumes from the bytes it has (Range), and the file is whole', async () => {
    const data = tempDir();
    const server = await startRoom({ encrypted: true, dataDir: data });
    const { port } = server;
    const ann = await fileMember(server, 'Ann');
    const bob = await fileMember(server, 'Bob');
    const big = randomFile(160 * MiB, 'film.mkv');
    ann.feed.sendFiles(ROOM, '', [outgoing(big)]);
    const message = await bob.when(withFiles, 60_000);
    const id = bob.download(message.files![0]!.id);
    const cutAt = await bob.when((e) =>
      e.type === 'transfer' && e.transfer.id === id && e.transfer.doneBytes > 8 * MiB
        ? e.transfer.doneBytes
        : undefined,
    );
    await server.stop();
    await bob.when((e) =>
      e.type === 'transfer' && e.transfer.id === id && e.transfer.state === 'waiting' ? e : undefined,
    );
    await startRoom({ encrypted: true, dataDir: data, port });
    const done = await bob.ended(id, 60_000);
    expect(done).toMatchObject({ state: 'done', doneBytes: big.bytes.length });
    expect(sha256(readFileSync(done.savedTo!))).toBe(sha256(big.bytes));
    // The first figure after the break starts from what was already on disk, not from zero.
    const states = bob.transfers(id);
    const resumed = states.slice(states.findIndex((t) => t.state === 'waiting')).find((t) => t.state === 'active')!;
    expect(resumed.doneBytes).toBeGreaterThanOrEqual(cutAt);
    expect(readdirSync(bob.downloadsFolder)).toEqual(['film.mkv']);
  }, 120_000);

  it('a file sent in a direct conversation reaches the other person, and nobody else can fetch it', async () => {
    const server = await startRoom({ encrypted: true });
    const ann = await fileMember(server, 'Ann');
    const bob = await fileMember(server, 'Bob');
    const cara = await fileMember(server, 'Cara');
    const bobId = bob.feed.client!.me!.id;
    const note = randomFile(64 * 1024, 'salary.xlsx');
    ann.feed.sendFiles(bobId, 'just for you', [outgoing(note)]);
    const received = await bob.when(withFiles);
    expect(received).toMatchObject({ to: bobId, text: 'just for you' });
    const fileId = received.files![0]!.id;
    const annId = ann.feed.client!.me!.id;
    const done = await bob.ended(bob.download(fileId, annId));
    expect(readFileSync(done.savedTo!).equals(note.bytes)).toBe(true);
    // Cara knows the id (it leaked), yet the host says there is no such file, as for any unknown id.
    const refused = await cara.ended(cara.download(fileId));
    expect(refused).toMatchObject({ state: 'failed', error: { code: 'BEACON_ERR_FILE_NOT_FOUND' } });
    expect(readdirSync(cara.downloadsFolder)).toEqual([]);
    ann.feed.send(ROOM, 'hello all');
    const first = await cara.when((e) => (e.type === 'messages' ? e.messages[0] : undefined));
    expect(first.text).toBe('hello all');
  });

  it('a file cancelled while it waits its turn frees the line: the others go, with the message', async () => {
    const server = await startRoom({ encrypted: true, limits: { maxUploadsInFlight: 1 } });
    const files = [randomFile(32 * MiB, 'a.bin'), randomFile(MiB, 'b.bin'), randomFile(MiB, 'c.bin')];
    // Hashed beforehand, so all three are ready at once and wait in the order sent.
    const ann = await fileMember(server, 'Ann', {
      knownHashes: new Map(files.map((file) => [file.path, sha256(file.bytes)])),
    });
    const bob = await fileMember(server, 'Bob');
    ann.feed.sendFiles(
      ROOM,
      'two of three',
      files.map((file) => outgoing(file)),
    );
    const { transfers } = await ann.when((e) => (e.type === 'outgoing' ? e.message : undefined));
    // While a.bin is on its way, b.bin and c.bin wait in line; b.bin, first in line, is cancelled there.
    await ann.when((e) =>
      e.type === 'transfer' && e.transfer.id === transfers![0] && e.transfer.state === 'active' ? e : undefined,
    );
    expect(ann.transfers(transfers![1]).at(-1)?.state).toBe('preparing');
    expect((await ann.feed.cancelTransfer(transfers![1]!)).ok).toBe(true);
    const received = await bob.when(withFiles, 60_000);
    expect(received.files!.map((file) => file.name)).toEqual(['a.bin', 'c.bin']);
    // b.bin never reached the host.
    expect(ann.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  it('more files than the host takes at once wait their turn instead of being refused', async () => {
    const server = await startRoom({ encrypted: true, limits: { maxUploadsInFlight: 1 } });
    const ann = await fileMember(server, 'Ann');
    const bob = await fileMember(server, 'Bob');
    const files = [randomFile(2 * MiB, 'a.bin'), randomFile(2 * MiB, 'b.bin'), randomFile(2 * MiB, 'c.bin')];
    ann.feed.sendFiles(
      ROOM,
      'three',
      files.map((file) => outgoing(file)),
    );
    const received = await bob.when(withFiles);
    expect(received.files!.map((file) => file.name)).toEqual(['a.bin', 'b.bin', 'c.bin']);
    expect(ann.transfers().filter((t) => t.state === 'waiting')).toEqual([]);
    // One at a time: each file was created only after the one before it finished.
    const order = ann.requests.filter((r) => r.method === 'POST' || r.method === 'PATCH').map((r) => r.method);
    expect(order).toEqual(['POST', 'PATCH', 'POST', 'PATCH', 'POST', 'PATCH']);
  });
});

describe('a room that takes no files', () => {
  it('says so in the snapshot, and refuses files at once without queueing a message', async () => {
    const server = await startRoom({ encrypted: true, dataDir: ':memory:' });
    const ann = await fileMember(server, 'Ann');
    expect(ann.feed.snapshot()).toMatchObject({ files: null, transfers: [] });
    expect(ann.feed.fileAccess()).toBeNull();
    const note = randomFile(10, 'note.txt');
    expect(ann.feed.sendFiles(ROOM, 'hi', [outgoing(note)])).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_NO_FILES' },
    });
    expect(ann.feed.snapshot().outgoing).toEqual([]);
    expect(ann.events.filter((e) => e.type === 'outgoing' || e.type === 'transfer')).toEqual([]);
  });

  it('a room that does take them says how large a file may be', async () => {
    const server = await startRoom({ encrypted: true, limits: { maxFileBytes: 1024 } });
    const ann = await fileMember(server, 'Ann');
    expect(ann.feed.snapshot().files).toEqual({ maxFileBytes: 1024 });
    // Too large for it: refused before a byte goes, the message failed with the reason.
    const big = randomFile(2048, 'big.bin');
    ann.feed.sendFiles(ROOM, 'too big', [outgoing(big)]);
    const message = await ann.when((e) => (e.type === 'outgoing' ? e.message : undefined));
    expect(await ann.ended(message.transfers![0]!)).toMatchObject({
      state: 'failed',
      error: { code: 'BEACON_ERR_FILE_TOO_LARGE' },
    });
    expect(ann.requests).toEqual([]);
  });
});

describe('trust', () => {
  it('a machine with another certificate gets not one byte of an upload or a download', async () => {
    const server = await startRoom({ encrypted: true });
    const ann = await fileMember(server, 'Ann');
    const access = ann.feed.fileAccess()!;
    // An impostor on another port with its own key, counting every byte that reaches it after TLS.
    const impostorKey = await loadOrCreateIdentity(tempDir());
    let received = 0;
    let connections = 0;
    const impostor = createTlsServer({ key: impostorKey.key, cert: impostorKey.cert }, (socket) => {
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.on('error', () => {});
    });
    impostor.on('connection', () => connections++);
    impostor.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const origin = `https://127.0.0.1:${(impostor.address() as { port: number }).port}`;
    let waits = 0;
    try {
      const upload = startTusUpload({
        origin,
        token: access.token,
        description: { name: 'secret.txt', conversation: ROOM },
        size: 5,
        input: Buffer.from('hello'),
        httpStack: pinnedHttpStack(access.pin),
        onProgress: () => {},
        onWaiting: () => waits++,
        onCreated: () => {},
      });
      // Said as what it is, at once: no knocking again on an impostor's door for two minutes.
      await expect(upload.done).rejects.toMatchObject({ code: 'BEACON_ERR_HOST_CHANGED' });
      expect(waits).toBe(0);
      const download = ann.downloads.start(
        { id: 'f_AAAAAAAAAAAAAAAAAAAAAA', name: 'a.txt', size: 5, sha256: '0'.repeat(64) },
        ROOM,
        { ...access, origin },
      );
      expect(await ann.ended(download)).toMatchObject({ state: 'failed', error: { code: 'BEACON_ERR_HOST_CHANGED' } });
      expect(ann.transfers(download).map((t) => t.state)).toEqual(['preparing', 'failed']);
      // Ann's app did connect (that is how it saw the certificate), and sent nothing once it had.
      expect(connections).toBe(2);
      expect(received).toBe(0);
    } finally {
      impostor.close();
    }
  });
});
