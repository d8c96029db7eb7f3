/**
 * Turns a complete upload into a stored file, before the last PATCH is answered:
 * hash the bytes (and check the declared SHA-256), read an image header, check the preview,
 * fsync and link the bytes into the content-addressed blobs, record the file in SQLite, and only
 * then remove the upload. Each step can be cut by a crash and done again: the upload stays
 * complete in the tus folder until the record exists, and start-up finishes such uploads again
 * (a blob linked twice is the same blob; a record inserted twice is one record).
 */
import { rm } from 'node:fs/promises';
import { PREVIEW_LIMITS, type SafeImageType } from '../../shared/files.ts';
import type { HistoryStore, StoredFile } from '../store/history-store.ts';
import { type BlobStore, hashFile } from './blob-store.ts';
import { FileRefusal } from './file-refusal.ts';
import { IMAGE_HEADER_BYTES, readImageHeader } from './image-header.ts';
import type { PendingUploads } from './pending-uploads.ts';
import type { UploadStore } from './upload-store.ts';
import { type UploadMetadata, readUploadMetadata } from './upload-metadata.ts';

/** Image types a preview may be: what every browser shows, and small enough to be one. */
export const PREVIEW_TYPES: readonly SafeImageType[] = ['image/png', 'image/jpeg', 'image/webp'];

/** Whether `preview` may be shown as the preview of a file `uploader` uploads to `conversation`. */
export function isPreviewFor(preview: StoredFile | undefined, uploader: string, conversation: string): boolean {
  return (
    preview !== undefined &&
    preview.uploader === uploader &&
    preview.conversation === conversation &&
    preview.mediaType !== null &&
    PREVIEW_TYPES.includes(preview.mediaType as SafeImageType) &&
    preview.size <= PREVIEW_LIMITS.maxBytes &&
    Math.max(preview.width ?? Infinity, preview.height ?? Infinity) <= PREVIEW_LIMITS.maxSide
  );
}

export class UploadFinisher {
  readonly #uploads: UploadStore;
  readonly #pending: PendingUploads;
  readonly #blobs: BlobStore;
  readonly #store: HistoryStore;
  /** Finishes under way: a second PATCH of the last byte waits for the first one's result. */
  readonly #running = new Map<string, Promise<StoredFile>>();

  constructor(options: { uploads: UploadStore; pending: PendingUploads; blobs: BlobStore; store: HistoryStore }) {
    this.#uploads = options.uploads;
    this.#pending = options.pending;
    this.#blobs = options.blobs;
    this.#store = options.store;
  }

  finish(id: string): Promise<StoredFile> {
    let running = this.#running.get(id);
    if (!running) {
      running = this.#finish(id).finally(() => this.#running.delete(id));
      this.#running.set(id, running);
    }
    return running;
  }

  async #finish(id: string): Promise<StoredFile> {
    const pending = this.#pending.get(id);
    if (pending) pending.finishing = true;
    try {
      const recorded = this.#store.findFile(id);
      if (recorded) {
        // Recorded before a crash cut the clean-up: only the upload's leftovers remain to go.
        await this.#forget(id);
        return recorded;
      }
      const upload = await this.#uploads.getUpload(id);
      const meta = readUploadMetadata(upload.metadata);
      if (!meta || upload.size === undefined || upload.offset !== upload.size) {
        throw new FileRefusal('BEACON_ERR_FILE_REQUEST', `upload ${id} is not complete`);
      }
      const partial = this.#uploads.partialPath(id);
      const { sha256, size, head } = await this.#measure(id, upload.size);
      if (size !== upload.size || (meta.sha256 !== undefined && meta.sha256 !== sha256)) {
        await this.#forget(id);
        throw new FileRefusal('BEACON_ERR_FILE_CORRUPT', `${id}: ${size} bytes, sha256 ${sha256}`);
      }
      const image = readImageHeader(head);
      const file: StoredFile = {
        id,
        uploader: meta.uploader,
        conversation: meta.conversation,
        name: meta.name,
        size,
        declaredType: meta.type,
        mediaType: image?.type ?? null,
        sha256,
        width: image?.width ?? null,
        height: image?.height ?? null,
        previewId: this.#previewOf(meta),
        createdAt: Date.now(),
      };
      await this.#blobs.adopt(partial, sha256);
      this.#store.insertFile(file);
      await this.#forget(id);
      return file;
    } catch (error) {
      if (pending) pending.finishing = false;
      throw error;
    }
  }

  /** The upload's SHA-256, size and first bytes: from the hash kept while its bytes arrived, else read again. */
  async #measure(id: string, size: number): Promise<{ sha256: string; size: number; head: Buffer }> {
    const sha256 = this.#uploads.takeHash(id, size);
    if (sha256) return { sha256, size, head: await this.#uploads.readHead(id, IMAGE_HEADER_BYTES) };
    return hashFile(this.#uploads.partialPath(id), IMAGE_HEADER_BYTES);
  }

  /** The preview, checked again now: it was checked at creation, but it is the record that counts. */
  #previewOf(meta: UploadMetadata): string | null {
    if (meta.preview === undefined) return null;
    return isPreviewFor(this.#store.findFile(meta.preview), meta.uploader, meta.conversation) ? meta.preview : null;
  }

  /** Removes an upload's partial bytes and its tus record, and its place in the limits. */
  async #forget(id: string): Promise<void> {
    this.#pending.delete(id);
    await rm(this.#uploads.partialPath(id), { force: true });
    await rm(`${this.#uploads.partialPath(id)}.json`, { force: true });
  }
}
