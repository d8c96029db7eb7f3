/**
 * Unfinished uploads, as the host counts them for its limits: who holds each one (only the uploader
 * may touch it), how much of the room's quota and the disk it has reserved, and whether it is being
 * finished right now. The tus folder is the truth; this is its index, rebuilt from it at start-up.
 */
export interface PendingUpload {
  id: string;
  uploader: string;
  conversation: string;
  /** Upload-Length: what the upload reserves of the room's quota. */
  size: number;
  /** Bytes known to be on disk already (at start-up, and after each PATCH). */
  offset: number;
  createdAt: number;
  /** Hashing and storing in progress: the upload can no longer be cancelled. */
  finishing: boolean;
}

export class PendingUploads {
  readonly #byId = new Map<string, PendingUpload>();

  get(id: string): PendingUpload | undefined {
    return this.#byId.get(id);
  }

  add(upload: PendingUpload): void {
    this.#byId.set(upload.id, upload);
  }

  delete(id: string): void {
    this.#byId.delete(id);
  }

  countFor(member: string): number {
    let count = 0;
    for (const upload of this.#byId.values()) if (upload.uploader === member) count++;
    return count;
  }

  /** Declared lengths of every unfinished upload: counted against the quota before their bytes arrive. */
  reservedBytes(): number {
    let bytes = 0;
    for (const upload of this.#byId.values()) bytes += upload.size;
    return bytes;
  }

  /** Bytes still to arrive for every unfinished upload: disk they may yet take. */
  remainingBytes(): number {
    let bytes = 0;
    for (const upload of this.#byId.values()) bytes += Math.max(0, upload.size - upload.offset);
    return bytes;
  }

  /** Uploads created before `before` that nobody is finishing: the abandoned ones. */
  createdBefore(before: number): PendingUpload[] {
    return [...this.#byId.values()].filter((upload) => !upload.finishing && upload.createdAt < before);
  }

  get size(): number {
    return this.#byId.size;
  }
}
