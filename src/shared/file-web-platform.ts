/**
 * The browser's side of the FileOutbox: a page's File (any Blob) is hashed a slice at a time with
 * @noble/hashes (the page's WebCrypto cannot hash incrementally, and would need the whole file in
 * memory), and handed to tus-js-client as it is (its browser fileReader slices Blobs itself).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { LocalFile } from './chat-api.ts';
import type { FilePlatform } from './file-outbox.ts';

/** Bytes read at a time for the hash: big enough to be fast, small enough for any tab. */
export const HASH_SLICE_BYTES = 4 * 1024 * 1024;

export async function sha256OfBlob(file: LocalFile): Promise<string> {
  const hash = sha256.create();
  for (let start = 0; start < file.size; start += HASH_SLICE_BYTES) {
    const slice = file.slice(start, Math.min(file.size, start + HASH_SLICE_BYTES));
    hash.update(new Uint8Array(await slice.arrayBuffer()));
  }
  return bytesToHex(hash.digest());
}

export function webFilePlatform(): FilePlatform<LocalFile> {
  return { sha256: sha256OfBlob, tusInput: (file) => file };
}
