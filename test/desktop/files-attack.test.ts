/**
 * Attacks on the clients' side of files (docs/PROTOCOL.md §18) by a member or a host: what a
 * hostile file or FileRef can make a window or the downloads folder do.
 */
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { inlineImageSize, MAX_INLINE_PIXELS } from '../../src/renderer/src/lib/file-format.ts';
import { cleanup, startRoom } from '../helpers/room.ts';
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
