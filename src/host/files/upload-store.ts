/**
 * Where unfinished uploads live: @tus/file-store's folder (`<id>` with the bytes so far, `<id>.json`
 * with the creation's length and metadata), with two changes. An upload must say its length when it
 * is created (no deferred length: the quota and the disk are reserved up front). And a full disk
 * while writing is BEACON_ERR_HOST_DISK_FULL rather than tus's anonymous 500; what was written
 * stays as the upload's offset, to resume once there is room.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileStore } from '@tus/file-store';
import { ERRORS } from '@tus/server';
import { FileRefusal } from './file-refusal.ts';

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

/** SQLite's SQLITE_FULL: the record of a file could not be written. */
const SQLITE_FULL = 13;

/** ENOSPC, EDQUOT (a user's disk quota) or SQLITE_FULL: either way the disk takes no more. */
export const isDiskFull = (error: unknown): boolean =>
  error instanceof Error &&
  (DISK_FULL.has((error as NodeJS.ErrnoException).code ?? '') ||
    (error as Error & { errcode?: number }).errcode === SQLITE_FULL);

export class UploadStore extends FileStore {
  constructor(options: { directory: string; expirationPeriodInMilliseconds: number }) {
    super(options);
    this.extensions = ['creation', 'creation-with-upload', 'termination', 'expiration'];
  }

  /** The partial file of upload `id` (an id the caller has checked is one of ours: `f_` and base64url). */
  partialPath(id: string): string {
    return join(this.directory, id);
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const out = createWriteStream(this.partialPath(id), { flags: 'r+', start: offset });
    let received = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(readable, count, out);
    } catch (error) {
      if (DISK_FULL.has((error as NodeJS.ErrnoException).code ?? ''))
        throw new FileRefusal('BEACON_ERR_HOST_DISK_FULL');
      // As FileStore does: a broken connection is the usual cause, and the bytes written are kept.
      throw ERRORS.FILE_WRITE_ERROR;
    }
    return offset + received;
  }
}
