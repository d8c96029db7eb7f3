/**
 * An image's pixel size and a small preview of it, made in the renderer: the only place Beacon
 * decodes a picture a person picked, dropped or pasted (a sandboxed page, no native modules). The
 * host reads only the header of what it stores and never decodes it.
 */
import { PREVIEW_LIMITS } from '../../../shared/files.ts';

export interface Pixels {
  width: number;
  height: number;
}

export interface ImageFacts {
  /** The picture's own size, as decoded. */
  image: Pixels;
  /** A WebP (or JPEG where WebP cannot be encoded) within PREVIEW_LIMITS. */
  preview?: { file: File; width: number; height: number };
}

/** Types worth decoding here: the ones the host also recognises and serves inline. */
const DECODABLE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** What the contract takes for a side (CommandSchemas' Pixels). */
const MAX_SIDE = 65_535;

/** Encodings tried in order until one fits PREVIEW_LIMITS.maxBytes: smaller WebP first, then JPEG. */
const ENCODINGS = [
  { type: 'image/webp', quality: 0.82, ext: 'webp' },
  { type: 'image/webp', quality: 0.6, ext: 'webp' },
  { type: 'image/jpeg', quality: 0.8, ext: 'jpg' },
  { type: 'image/jpeg', quality: 0.55, ext: 'jpg' },
  { type: 'image/jpeg', quality: 0.35, ext: 'jpg' },
] as const;

/** The size a preview of `image` is made at: the longer side at most PREVIEW_LIMITS.maxSide. */
export function previewSize(image: Pixels): Pixels {
  const scale = Math.min(1, PREVIEW_LIMITS.maxSide / Math.max(image.width, image.height));
  return { width: Math.max(1, Math.round(image.width * scale)), height: Math.max(1, Math.round(image.height * scale)) };
}

/**
 * Measures an image and makes its preview; null for anything that is not a decodable image (a PDF,
 * an SVG, a damaged PNG), which is then sent as a plain file.
 */
export async function describeImage(file: Blob): Promise<ImageFacts | null> {
  if (!DECODABLE.has(file.type)) return null;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return null;
  }
  try {
    const image = { width: bitmap.width, height: bitmap.height };
    if (image.width < 1 || image.height < 1 || image.width > MAX_SIDE || image.height > MAX_SIDE) return null;
    const size = previewSize(image);
    const canvas = new OffscreenCanvas(size.width, size.height);
    const context = canvas.getContext('2d');
    if (!context) return { image };
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, size.width, size.height);
    for (const encoding of ENCODINGS) {
      const blob = await canvas.convertToBlob({ type: encoding.type, quality: encoding.quality });
      // A browser that cannot encode the type hands back a PNG instead: try the next.
      if (blob.type !== encoding.type || blob.size > PREVIEW_LIMITS.maxBytes) continue;
      const name = `preview.${encoding.ext}`;
      return { image, preview: { file: new File([blob], name, { type: encoding.type }), ...size } };
    }
    return { image };
  } finally {
    bitmap.close();
  }
}
