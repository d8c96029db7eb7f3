/**
 * The room's file contents, stored once per content: `blobs/<first 2 hex>/<sha256>`. A blob is
 * made only from a finished upload whose bytes were hashed to that very name, after an fsync, by a
 * hard link (atomic: the name is there whole or not at all, and the upload's bytes are not copied).
 * A blob no file record names is what a crash between linking and recording leaves: start-up removes it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

const SHA256 = /^[0-9a-f]{64}$/;

export class BlobStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a SHA-256: ${sha256}`);
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  /**
   * Makes `source` (whole, hashed to `sha256`) the blob of that content, unless the room already
   * holds the same bytes. `source` stays where it is; its owner removes it after recording the file.
   */
  async adopt(source: string, sha256: string): Promise<void> {
    const target = this.pathOf(sha256);
    // Synced and linked into its folder's sync whether or not the content is new: a finish then takes
    // as long either way, so its time does not tell a member that someone else holds these bytes.
    await fsyncFile(source);
    if (!(await exists(target))) await this.#place(source, target, sha256);
    await fsyncFile(join(this.dir, sha256.slice(0, 2)));
  }

  async #place(source: string, target: string, sha256: string): Promise<void> {
    await mkdir(join(this.dir, sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
    try {
      await link(source, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      // A file system without hard links: a copy, renamed in whole.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EMLINK') throw error;
      const aside = `${target}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await copyFile(source, aside);
        await fsyncFile(aside);
        await rename(aside, target);
      } finally {
        await rm(aside, { force: true });
      }
    }
  }

  /** Removes blobs `isRecorded` does not know, and copies left half-made. Returns how many went. */
  async sweep(isRecorded: (sha256: string) => boolean): Promise<number> {
    let removed = 0;
    for (const shard of await readdir(this.dir).catch(() => [] as string[])) {
      const folder = join(this.dir, shard);
      for (const name of await readdir(folder).catch(() => [] as string[])) {
        if (SHA256.test(name) && isRecorded(name)) continue;
        await rm(join(folder, name), { force: true });
        removed++;
      }
    }
    return removed;
  }
}

/** SHA-256 (hex) of a file, and its first `headBytes` bytes, read as a stream: never the whole file in memory. */
export async function hashFile(
  path: string,
  headBytes: number,
): Promise<{ sha256: string; size: number; head: Buffer }> {
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headLength = 0;
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    if (headLength < headBytes) {
      const part = chunk.subarray(0, headBytes - headLength);
      head.push(Buffer.from(part));
      headLength += part.length;
    }
  }
  return { sha256: hash.digest('hex'), size, head: Buffer.concat(head) };
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Flushes a file (or a folder's entries) to the disk, so a power cut cannot leave a named blob half-written. */
async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems refuse to fsync a folder; the file itself was synced before.
    if ((error as NodeJS.ErrnoException).code !== 'EISDIR' && (error as NodeJS.ErrnoException).code !== 'EINVAL')
      throw error;
  } finally {
    await handle.close();
  }
}
