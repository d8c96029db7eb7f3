/**
 * What kind of picture a file is, from its first bytes only: the magic numbers of PNG, JPEG, GIF and
 * WebP, then the pixel size from the header with `image-size`. No pixel is decoded on the host (a
 * hostile image cannot reach a decoder here); a file whose header does not parse is simply not an
 * image, and is served as a download.
 */
import { imageSize } from 'image-size';
import type { SafeImageType } from '../../shared/files.ts';

export interface ImageHeader {
  type: SafeImageType;
  width: number;
  height: number;
}

/**
 * Bytes of a file read for its header. JPEG puts its size after the EXIF and colour profile
 * segments, which a camera can make long; past this the picture is still stored, just not inline.
 */
export const IMAGE_HEADER_BYTES = 256 * 1024;
const MAX_SIDE = 65_535;

const startsWith = (bytes: Uint8Array, magic: readonly number[], at = 0): boolean =>
  bytes.length >= at + magic.length && magic.every((byte, i) => bytes[at + i] === byte);

const ascii = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));

/** The image type the magic numbers say, and what image-size calls it. */
function magicType(bytes: Uint8Array): { type: SafeImageType; sizeName: string } | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { type: 'image/png', sizeName: 'png' };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { type: 'image/jpeg', sizeName: 'jpg' };
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a')))
    return { type: 'image/gif', sizeName: 'gif' };
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8))
    return { type: 'image/webp', sizeName: 'webp' };
  return null;
}

export function readImageHeader(header: Uint8Array): ImageHeader | null {
  const magic = magicType(header);
  if (!magic) return null;
  try {
    const size = imageSize(header);
    const { width, height } = size;
    if (size.type !== magic.sizeName) return null;
    if (!isSide(width) || !isSide(height)) return null;
    return { type: magic.type, width, height };
  } catch {
    // A truncated or hostile header: stored and offered as a download, never inline.
    return null;
  }
}

const isSide = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_SIDE;
