/**
 * Attacks on the clients' side of files (docs/PROTOCOL.md §18) by a member or a host: what a
 * hostile file, FileRef or file endpoint can make a window or the downloads folder do.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity } from '../../src/host/tls-identity.ts';
import { type ExpectedFile, FileDownloads } from '../../src/node/file-downloads.ts';
import type { Transfer } from '../../src/shared/chat-api.ts';
import type { FileAccess } from '../../src/shared/file-outbox.ts';
import { inlineImageSize, MAX_INLINE_PIXELS } from '../../src/renderer/src/lib/file-format.ts';
import { cleanup, startRoom, tempDir } from '../helpers/room.ts';
import { member, upload } from '../engine/files-http.ts';

afterEach(cleanup);

/** The first bytes of a PNG that says it is `width` × `height`: all the host reads of a picture. */
function pngHeader(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  const body = Buffer.concat([Buffer.from('IHDR', 'ascii'), header]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), length, body, crc]);
}

describe('a picture that claims more pixels than a window should decode', () => {
  it('is shown as a card when it has no preview; a photo of ordinary size stays inline', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    // A few hundred KB of PNG can say 23000 × 23000: Chromium then spends more than 30 s decoding
    // 2 GB of pixels, each time the message scrolls into view.
    const bomb = await upload(server, ann.token, pngHeader(23_000, 23_000), { name: 'cat.png' });
    const photo = await upload(server, ann.token, pngHeader(4032, 3024), { name: 'photo.png' });
    ann.peer.send({ type: 'send', clientId: 'c1', text: '', files: [bomb.id, photo.id] });
    const { message } = await bob.peer.frame('message');
    const [big, ordinary] = message.files!;
    expect(big!.image).toEqual({ width: 23_000, height: 23_000 });
    expect(inlineImageSize(big!)).toBeNull();
    expect(inlineImageSize(ordinary!)).toEqual({ width: 360, height: 270 });
    // With the host's small preview (at most 640 px a side) the list draws the preview instead.
    const withPreview = { ...big!, preview: { id: photo.id, width: 640, height: 640 } };
    expect(inlineImageSize(withPreview)).toEqual({ width: 280, height: 280 });
    expect(4032 * 3024).toBeLessThan(MAX_INLINE_PIXELS);
  });
});

/**
 * A hostile host, as small as it can be: a node:https server that answers `GET /files/<id>` like
 * Beacon's file endpoint, but lies as `answer` says. Members download from it with the app's own
 * FileDownloads, held to its certificate's fingerprint as to a real host's.
 */
async function hostileHost(answer: (request: IncomingMessage, response: ServerResponse, asked: number) => void) {
  const identity = await loadOrCreateIdentity(':memory:');
  const requests: { range: string | undefined }[] = [];
  let bytesSent = 0;
  const server = createServer({ key: identity.key, cert: identity.cert }, (request, response) => {
    requests.push({ range: request.headers.range });
    const write = response.write.bind(response) as (chunk: Buffer) => boolean;
    response.write = ((chunk: Buffer, ...rest: unknown[]) => {
      bytesSent += chunk.length;
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof response.write;
    answer(request, response, requests.length);
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const closing = (): Promise<void> =>
    new Promise((closed) => {
      server.closeAllConnections();
      server.close(() => closed());
    });
  hostileServers.push(closing);
  const downloads = tempDir();
  const transfers: Transfer[] = [];
  const app = new FileDownloads({
    folder: () => downloads,
    emit: (transfer) => transfers.push(structuredClone(transfer)),
    showItemInFolder: () => {},
    retryDelays: [50, 50, 50],
  });
  const access: FileAccess = {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: 'token',
    pin: identity.fingerprint,
    maxFileBytes: 4 * 1024 ** 3,
    maxUploadsInFlight: 4,
  };
  return {
    downloads,
    requests,
    bytesSent: () => bytesSent,
    transfers,
    /** Downloads `file` as the app does from a message, and waits until the transfer has ended. */
    async download(file: ExpectedFile): Promise<Transfer> {
      const id = app.start(file, 'room', access);
      await expect
        .poll(() => transfers.findLast((t) => t.id === id)?.state, { timeout: 15_000 })
        .toMatch(/^(done|failed|cancelled)$/);
      return transfers.findLast((t) => t.id === id)!;
    },
    states: (id: string) => transfers.filter((t) => t.id === id).map((t) => t.state),
  };
}

const hostileServers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of hostileServers.splice(0)) await close();
});

const hashOf = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const shared = (bytes: Buffer, name = 'report.pdf'): ExpectedFile => ({
  id: 'f_AAAAAAAAAAAAAAAAAAAAAA',
  name,
  size: bytes.length,
  sha256: hashOf(bytes),
});

describe('a host that lies about a file cannot fill the downloads folder or slip in other bytes', () => {
  const bytes = randomBytes(64 * 1024);

  it('an endless answer without a length stops at the size the message showed, and nothing is kept', async () => {
    const host = await hostileHost((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      const chunk = randomBytes(64 * 1024);
      const pour = (): void => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pour);
      };
      pour();
    });
    const ended = await host.download(shared(bytes));
    expect(ended).toMatchObject({ state: 'failed', error: { code: 'BEACON_ERR_FILE_CORRUPT' } });
    expect(ended.error!.message).toMatch(/something other than the file/);
    expect(ended.doneBytes).toBeLessThanOrEqual(bytes.length);
    expect(readdirSync(host.downloads)).toEqual([]);
    // Asked once: the same host would only send the same again.
    expect(host.requests).toHaveLength(1);
    // The connection was cut at once: the host could not go on pouring (was: 218 MB in 3 s).
    const sent = host.bytesSent();
    await new Promise((wait) => setTimeout(wait, 300));
    expect(host.bytesSent()).toBe(sent);
    expect(sent).toBeLessThan(32 * 1024 * 1024);
  });

  it('a length other than the file’s is refused before a byte is written', async () => {
    const host = await hostileHost((_request, response) => {
      // Twice the file: the file's own bytes come first, the rest never (the download would hang).
      response.writeHead(200, { 'Content-Length': String(bytes.length * 2) });
      response.write(bytes);
    });
    const ended = await host.download(shared(bytes));
    expect(ended).toMatchObject({ state: 'failed', error: { code: 'BEACON_ERR_FILE_CORRUPT' }, doneBytes: 0 });
    expect(readdirSync(host.downloads)).toEqual([]);
    expect(host.requests).toHaveLength(1);
  });

  it('bytes of the right size but not the file’s are not saved, whatever ETag the host shows for them', async () => {
    const other = randomBytes(bytes.length);
    const host = await hostileHost((_request, response) => {
      response.writeHead(200, { 'Content-Length': String(other.length), ETag: `"${hashOf(other)}"` });
      response.end(other);
    });
    const ended = await host.download(shared(bytes));
    expect(ended).toMatchObject({ state: 'failed', error: { code: 'BEACON_ERR_FILE_CORRUPT' } });
    expect(readdirSync(host.downloads)).toEqual([]);
    expect(host.requests).toHaveLength(1);
  });

  it('a resumed answer that starts elsewhere than asked is refused, and the half file is not kept', async () => {
    const host = await hostileHost((_request, response, asked) => {
      if (asked === 1) {
        // Half, then (once the app has it on disk) the connection breaks.
        response.writeHead(200, { 'Content-Length': String(bytes.length) });
        response.write(bytes.subarray(0, bytes.length / 2));
        const written = setInterval(() => {
          if (!host.transfers.some((t) => t.doneBytes === bytes.length / 2)) return;
          clearInterval(written);
          response.destroy();
        }, 10);
        return;
      }
      // "Here is the rest", from elsewhere than asked: appended to the half already there, a file of
      // the right size but of other bytes.
      const from = bytes.length / 4;
      response.writeHead(206, {
        'Content-Range': `bytes ${from}-${bytes.length - 1}/${bytes.length}`,
        'Content-Length': String(bytes.length - from),
      });
      response.end(bytes.subarray(from));
    });
    const ended = await host.download(shared(bytes));
    expect(host.requests.map((r) => r.range)).toEqual([undefined, `bytes=${bytes.length / 2}-`]);
    expect(ended).toMatchObject({ state: 'failed', error: { code: 'BEACON_ERR_FILE_CORRUPT' } });
    // Refused from its first line: not one byte of the misplaced rest was written.
    expect(Math.max(...host.transfers.map((t) => t.doneBytes))).toBe(bytes.length / 2);
    expect(readdirSync(host.downloads)).toEqual([]);
  });

  it('the same host telling the truth: the file is saved whole', async () => {
    const host = await hostileHost((_request, response) => {
      response.writeHead(200);
      response.end(bytes);
    });
    const ended = await host.download(shared(bytes));
    expect(ended).toMatchObject({ state: 'done', savedTo: join(host.downloads, 'report.pdf') });
    expect(readFileSync(ended.savedTo!).equals(bytes)).toBe(true);
  });
});

describe('names a host sends are saved under names every disk takes', () => {
  const bytes = Buffer.from('the minutes\n');
  const honest = () =>
    hostileHost((_request, response) => {
      response.writeHead(200, { 'Content-Length': String(bytes.length) });
      response.end(bytes);
    });

  it('a long Chinese name is saved (cut to 200 bytes, its extension kept), not refused by the disk as too long', async () => {
    const host = await honest();
    const name = `${'会议纪要'.repeat(30)}.pdf`;
    const ended = await host.download(shared(bytes, name));
    expect(ended.state).toBe('done');
    const saved = basename(ended.savedTo!);
    expect(Buffer.byteLength(saved)).toBeLessThanOrEqual(200);
    expect(saved).toMatch(/^会议纪要会议纪要.*\.pdf$/);
    expect(readdirSync(host.downloads)).toEqual([saved]);
    expect(readFileSync(ended.savedTo!).equals(bytes)).toBe(true);
  });

  it('a Windows device name gets a _ in front, as the host would have given it', async () => {
    const host = await honest();
    const ended = await host.download(shared(bytes, 'CON'));
    expect(ended).toMatchObject({ state: 'done', name: '_CON', savedTo: join(host.downloads, '_CON') });
  });

  it('a disk that cannot take the file is said as this computer’s problem, at once, and not asked of the host again', async () => {
    const host = await honest();
    const file = shared(bytes, 'minutes.txt');
    // The .part that the download writes is the kernel's always-full disk.
    symlinkSync('/dev/full', join(host.downloads, `minutes.txt.${file.id.slice(2, 12)}.part`));
    const ended = await host.download(file);
    expect(ended).toMatchObject({ state: 'failed', error: { code: 'BEACON_ERR_FILE_READ' } });
    expect(ended.error!.message).toBe('The file could not be saved in the downloads folder: the disk is full.');
    expect(host.states(ended.id)).not.toContain('waiting');
    expect(host.requests).toHaveLength(1);
  });

  it('a downloads folder that cannot be made is said as such, before anything is asked of the host', async () => {
    const host = await honest();
    const blocked = join(tempDir(), 'not-a-folder');
    writeFileSync(blocked, '');
    const app = new FileDownloads({
      folder: () => join(blocked, 'Downloads'),
      emit: (transfer) => host.transfers.push(structuredClone(transfer)),
      showItemInFolder: () => {},
      retryDelays: [50],
    });
    const id = app.start(shared(bytes), 'room', {
      origin: 'https://127.0.0.1:9',
      token: 't',
      pin: null,
      maxFileBytes: 1,
      maxUploadsInFlight: 1,
    });
    await expect.poll(() => host.transfers.findLast((t) => t.id === id)?.state).toBe('failed');
    expect(host.transfers.findLast((t) => t.id === id)!.error).toMatchObject({ code: 'BEACON_ERR_FILE_READ' });
    expect(host.states(id)).toEqual(['preparing', 'failed']);
  });
});
