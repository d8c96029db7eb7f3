/**
 * Where unfinished uploads live: @tus/file-store's folder (`<id>` with the bytes so far, `<id>.json`
 * with the creation's length and metadata), with two changes. An upload must say its length when it
 * is created (no deferred length: the quota and the disk are reserved up front). And a full disk
 * while writing is BEACON_ERR_HOST_DISK_FULL rather than tus's anonymous 500; what was written
 * stays as the upload's offset, to resume once there is room.
 */
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileStore } from '@tus/file-store';
import { ERRORS, Upload } from '@tus/server';
import { FileRefusal } from './file-refusal.ts';

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

/** SQLite's SQLITE_FULL: the record of a file could not be written. */
const SQLITE_FULL = 13;

/** ENOSPC, EDQUOT (a user's disk quota) or SQLITE_FULL: either way the disk takes no more. */
export const isDiskFull = (error: unknown): boolean =>
  error instanceof Error &&
  (DISK_FULL.has((error as NodeJS.ErrnoException).code ?? '') ||
    (error as Error & { errcode?: number }).errcode === SQLITE_FULL);

/** Told when an upload's bytes flow: a reservation that receives nothing is given back (pending-uploads.ts). */
export interface WriteWatcher {
  writeStarted(id: string): void;
  bytesArrived(id: string): void;
  writeEnded(id: string): void;
}

export class UploadStore extends FileStore {
  readonly #finishedSize: (id: string) => number | undefined;
  readonly #watcher: WriteWatcher | undefined;

  constructor(options: {
    directory: string;
    expirationPeriodInMilliseconds: number;
    /** The size of a file this upload has already become, if it has. */
    finishedSize: (id: string) => number | undefined;
    watcher?: WriteWatcher;
  }) {
    super(options);
    this.extensions = ['creation', 'creation-with-upload', 'termination', 'expiration'];
    this.#finishedSize = options.finishedSize;
    this.#watcher = options.watcher;
  }

  /**
   * An upload, or one that has already become a file: complete. tus reads an upload back after
   * its finish hook (a creation that carried the whole file asks whether to send Upload-Expires),
   * and by then the finish has removed it from this folder.
   */
  override async getUpload(id: string): Promise<Upload> {
    try {
      return await super.getUpload(id);
    } catch (error) {
      const size = this.#finishedSize(id);
      if (size === undefined) throw error;
      return new Upload({ id, size, offset: size });
    }
  }

  /** The partial file of upload `id` (an id the caller has checked is one of ours: `f_` and base64url). */
  partialPath(id: string): string {
    return join(this.directory, id);
  }

  /**
   * SHA-256 of each upload's bytes so far, kept while they arrive in order in this process: the
   * finish then needs no second read of a large file. Dropped whenever it might not match the
   * disk (a write that failed, an offset it did not see, a restart); the finish then reads the file.
   */
  readonly #hashes = new Map<string, RunningHash>();

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const out = createWriteStream(this.partialPath(id), { flags: 'r+', start: offset });
    let running = this.#hashes.get(id);
    if (running?.length !== offset) running = offset === 0 ? newRunningHash() : undefined;
    this.#hashes.delete(id);
    let received = 0;
    const watcher = this.#watcher;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (running) addToHash(running, chunk);
        watcher?.bytesArrived(id);
        callback(null, chunk);
      },
    });
    watcher?.writeStarted(id);
    try {
      await pipeline(readable, count, out);
    } catch (error) {
      if (isDiskFull(error)) throw new FileRefusal('BEACON_ERR_HOST_DISK_FULL');
      // As FileStore does: a broken connection is the usual cause, and the bytes written are kept.
      throw ERRORS.FILE_WRITE_ERROR;
    } finally {
      watcher?.writeEnded(id);
    }
    // Every byte that passed the hash is now written: the two agree.
    if (running) this.#hashes.set(id, running);
    return offset + received;
  }

  /** The SHA-256 of upload `id` if its running hash covers exactly `size` bytes; it is used up. */
  takeHash(id: string, size: number): string | null {
    const running = this.#hashes.get(id);
    this.#hashes.delete(id);
    if (running?.length !== size) return null;
    return running.hash.digest('hex');
  }

  /**
   * The first `bytes` bytes of upload `id`, read from its file when it is finished: kept in memory
   * while the bytes arrived, they were 256 KiB held for every upload paused past its first 256 KiB.
   */
  async readHead(id: string, bytes: number): Promise<Buffer> {
    const handle = await open(this.partialPath(id), 'r');
    try {
      const head = Buffer.alloc(bytes);
      const { bytesRead } = await handle.read(head, 0, bytes, 0);
      return head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  override async remove(id: string): Promise<void> {
    this.#hashes.delete(id);
    await super.remove(id);
  }
}

/** Only the hash's state (a few hundred bytes) is kept between PATCHes, whatever the upload's size. */
interface RunningHash {
  hash: Hash;
  length: number;
}

const newRunningHash = (): RunningHash => ({ hash: createHash('sha256'), length: 0 });

function addToHash(running: RunningHash, chunk: Buffer): void {
  running.hash.update(chunk);
  running.length += chunk.length;
}
