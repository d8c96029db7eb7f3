/**
 * Unfinished uploads, as the host counts them for its limits: who holds each one (only the uploader
 * may touch it), from which address it was created, how much of the room's quota and the disk it has
 * reserved, when its last byte arrived, and whether it is being written or finished right now. The
 * tus folder is the truth; this is its index, rebuilt from it at start-up.
 */
export interface PendingUpload {
  id: string;
  uploader: string;
  conversation: string;
  /**
   * The address key (join-guard.ts guardKey: an IPv6 /64 counts as one) of the creation's TCP peer;
   * '' for an upload recovered after a restart, whose creator's address is not known.
   */
  address: string;
  /** Upload-Length: what the upload reserves of the room's quota. */
  size: number;
  /** Bytes known to be on disk already (at start-up, and after each PATCH). */
  offset: number;
  createdAt: number;
  /** When a byte last arrived (the creation, at first): a reservation nobody uses is given back. */
  lastByteAt: number;
  /** PATCHes writing its bytes right now: never stalled while one is open. */
  writing: number;
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

  /** Bytes still to arrive for the unfinished uploads created from `address` (a guardKey). */
  remainingBytesFrom(address: string): number {
    let bytes = 0;
    for (const upload of this.#byId.values())
      if (upload.address === address) bytes += Math.max(0, upload.size - upload.offset);
    return bytes;
  }

  /** Uploads created before `before` that nobody is finishing: the abandoned ones. */
  createdBefore(before: number): PendingUpload[] {
    return [...this.#byId.values()].filter((upload) => !upload.finishing && upload.createdAt < before);
  }

  /** Uploads that received no byte since `before`, with no PATCH open and nobody finishing them. */
  stalledSince(before: number): PendingUpload[] {
    return [...this.#byId.values()].filter(
      (upload) => !upload.finishing && upload.writing === 0 && upload.lastByteAt < before,
    );
  }

  /** A PATCH of upload `id` begins writing (upload-store.ts). */
  writeStarted(id: string): void {
    const upload = this.#byId.get(id);
    if (upload) upload.writing++;
  }

  /** Bytes of upload `id` arrived. */
  bytesArrived(id: string, now = Date.now()): void {
    const upload = this.#byId.get(id);
    if (upload) upload.lastByteAt = now;
  }

  /** A PATCH of upload `id` stopped writing, whether it ended well or not. */
  writeEnded(id: string): void {
    const upload = this.#byId.get(id);
    if (upload) upload.writing = Math.max(0, upload.writing - 1);
  }

  get size(): number {
    return this.#byId.size;
  }
}
