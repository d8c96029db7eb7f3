/** Pictures recognised by their first bytes only; anything else is not an image (served as a download). */
import { describe, expect, it } from 'vitest';
import { readImageHeader } from '../../src/host/files/image-header.ts';
import { png } from '../engine/files-http.ts';

/** A JPEG header: SOI, an APP0, then a baseline SOF0 with the size. */
function jpeg(width: number, height: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const sof = Buffer.from([
    0xff,
    0xc0,
    0x00,
    0x11,
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.from([0xff, 0xd9])]);
}

function gif(width: number, height: number): Buffer {
  const bytes = Buffer.alloc(13);
  bytes.write('GIF89a', 0, 'ascii');
  bytes.writeUInt16LE(width, 6);
  bytes.writeUInt16LE(height, 8);
  return bytes;
}

/** A lossless WebP (VP8L) header. */
function webp(width: number, height: number): Buffer {
  const bits = (width - 1) | ((height - 1) << 14);
  const vp8l = Buffer.alloc(5);
  vp8l[0] = 0x2f;
  vp8l.writeUInt32LE(bits >>> 0, 1);
  const chunk = Buffer.concat([Buffer.from('VP8L', 'ascii'), Buffer.from([5, 0, 0, 0]), vp8l, Buffer.alloc(1)]);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(4 + chunk.length, 4);
  riff.write('WEBP', 8, 'ascii');
  return Buffer.concat([riff, chunk]);
}

describe('readImageHeader', () => {
  it.each([
    ['PNG', png(640, 480), 'image/png'],
    ['JPEG', jpeg(1600, 900), 'image/jpeg'],
    ['GIF', gif(32, 16), 'image/gif'],
    ['WebP', webp(300, 200), 'image/webp'],
  ])('a %s is recognised with its size', (_, bytes, type) => {
    const header = readImageHeader(bytes);
    expect(header?.type).toBe(type);
    expect(header && [header.width, header.height]).toEqual(
      type === 'image/png'
        ? [640, 480]
        : type === 'image/jpeg'
          ? [1600, 900]
          : type === 'image/gif'
            ? [32, 16]
            : [300, 200],
    );
  });

  it.each([
    ['an SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')],
    ['HTML', Buffer.from('<!doctype html><script>alert(1)</script>')],
    ['a PNG signature and nothing else', png(4, 4).subarray(0, 8)],
    ['a truncated JPEG', jpeg(10, 10).subarray(0, 6)],
    ['a JPEG of zero pixels', jpeg(0, 0)],
    ['a BMP (not a type served inline)', Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)])],
    ['nothing at all', Buffer.alloc(0)],
    ['a PNG whose header claims another type', Buffer.concat([png(2, 2).subarray(0, 8), Buffer.from('GIF89a')])],
  ])('%s is not an image', (_, bytes) => {
    expect(readImageHeader(bytes)).toBeNull();
  });
});
