/**
 * The tus side of the file endpoints (docs/PROTOCOL.md §18.2): `POST /files/uploads` creates,
 * `HEAD`/`PATCH`/`DELETE /files/uploads/<id>` resume, send and cancel. @tus/server speaks the
 * protocol; this wraps it with who is asking (only the uploader may touch an upload), the room's
 * limits (checked at creation, when the length is declared), the finish (upload-finisher.ts, before
 * the last PATCH is answered) and refusals as `{"code", "message"}` JSON whoever made them.
 *
 * Requests reach tus as web Requests whose body streams from the socket (Readable.toWeb: read as
 * the disk takes it, never gathered in memory), and tus's small answers are written back here.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm, stat, statfs } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { Server, type Upload } from '@tus/server';
import { TUS_VERSION, UPLOADS_PATH } from '../../shared/files.ts';
import { isHostsOwnAddress } from '../connection-gate.ts';
import { guardKey } from '../join-guard.ts';
import type { RoomLimits } from '../options.ts';
import type { HistoryStore } from '../store/history-store.ts';
import { codeForTusStatus, FileRefusal, REFUSAL_HEADERS, refuse, refusalBody } from './file-refusal.ts';
import { isDiskFull } from './upload-store.ts';
import type { PendingUpload, PendingUploads } from './pending-uploads.ts';
import { isPreviewFor, type UploadFinisher } from './upload-finisher.ts';
import { creationMetadata, readUploadMetadata, storedMetadata } from './upload-metadata.ts';
import type { UploadStore } from './upload-store.ts';

export const FILE_ID = /^f_[A-Za-z0-9_-]{22}$/;

/** 128 random bits: ids are the only thing standing between a stranger and a file it was never sent. */
export const newFileId = (): string => `f_${randomBytes(16).toString('base64url')}`;

type UploadLimits = Pick<
  RoomLimits,
  | 'maxFileBytes'
  | 'roomFilesQuotaBytes'
  | 'maxUploadsInFlight'
  | 'maxReservedBytesPerAddress'
  | 'diskReserveBytes'
  | 'abandonedUploadMs'
  | 'stalledUploadMs'
  | 'fileIdleMs'
>;

export class Uploads {
  readonly #tus: Server;
  readonly #store: UploadStore;
  readonly #pending: PendingUploads;
  readonly #finisher: UploadFinisher;
  readonly #history: HistoryStore;
  readonly #limits: UploadLimits;
  /** Who sent each request tus is handling: its hooks see only the web Request. */
  readonly #callers = new WeakMap<Request, string>();
  /** The address each request came from (guardKey of its TCP peer; '' for the host's own machine). */
  readonly #addresses = new WeakMap<Request, string>();
  /** The Node request under each web Request, for its socket's idle timeout. */
  readonly #nodeRequests = new WeakMap<Request, IncomingMessage>();
  /** The upload a creation request made, to take back if the creation fails after all. */
  readonly #created = new WeakMap<Request, string>();

  constructor(options: {
    store: UploadStore;
    pending: PendingUploads;
    finisher: UploadFinisher;
    history: HistoryStore;
    limits: UploadLimits;
  }) {
    this.#store = options.store;
    this.#pending = options.pending;
    this.#finisher = options.finisher;
    this.#history = options.history;
    this.#limits = options.limits;
    this.#tus = new Server({
      path: UPLOADS_PATH,
      datastore: options.store,
      relativeLocation: true,
      namingFunction: newFileId,
      maxSize: options.limits.maxFileBytes,
      // Only the room's own page and programs use these endpoints: no other origin may read an answer.
      allowedOrigins: () => false,
      disableTerminationForFinishedUploads: true,
      // A full disk reaches tus as the file system's own error (the write stream's, through its
      // pipeline), whichever stage saw it first.
      onResponseError: (_req, error) =>
        isDiskFull(error) ? { status_code: 507, body: refusalBody('BEACON_ERR_HOST_DISK_FULL') } : undefined,
      onUploadCreate: (req, upload) => this.#create(req, upload),
      onUploadFinish: async (req, upload) => {
        // Hashing (after a restart) and syncing a large file can take longer than the idle cut
        // allows, and the client is right to wait in silence meanwhile.
        const node = this.#nodeRequests.get(req);
        node?.setTimeout(0);
        try {
          await this.#finisher.finish(upload.id);
        } finally {
          node?.setTimeout(options.limits.fileIdleMs);
        }
        return {};
      },
    });
  }

  /** A request under /files/uploads from `member`; `id` is the path's last part, null for the creation URL. */
  async handle(req: IncomingMessage, res: ServerResponse, member: string, id: string | null): Promise<void> {
    const method = req.method ?? '';
    if (id === null) {
      if (method !== 'POST' && method !== 'OPTIONS') return refuse(res, 'BEACON_ERR_FILE_REQUEST');
      // Deferred length is refused: the quota and the disk are reserved for the declared length.
      // Concatenation is not offered either: one upload per file.
      const { 'upload-length': length, 'upload-defer-length': deferred, 'upload-concat': concat } = req.headers;
      if (method === 'POST' && (length === undefined || deferred !== undefined || concat !== undefined))
        return refuse(res, 'BEACON_ERR_FILE_REQUEST');
    } else {
      if (!FILE_ID.test(id) || !['HEAD', 'PATCH', 'DELETE'].includes(method))
        return refuse(res, 'BEACON_ERR_FILE_NOT_FOUND');
      const pending = this.#pending.get(id);
      if (!pending || pending.uploader !== member) {
        if (method === 'HEAD' && this.#finishedBy(id, member, res)) return;
        return refuse(res, 'BEACON_ERR_FILE_NOT_FOUND');
      }
      if (method === 'DELETE' && pending.finishing) return refuse(res, 'BEACON_ERR_FILE_REQUEST');
    }
    const request = webRequest(req);
    this.#callers.set(request, member);
    this.#nodeRequests.set(request, req);
    const address = req.socket.remoteAddress ?? 'unknown';
    // As for every per-address limit: the host's own machine (exactly 127.0.0.1, ::1) is not counted.
    this.#addresses.set(request, isHostsOwnAddress(address) ? '' : guardKey(address));
    const response = await this.#tus.handleWeb(request);
    this.#afterwards(method, id, request, response);
    await send(res, response);
  }

  /**
   * A HEAD of an upload that has become a file, by its uploader: complete, so a client whose last
   * PATCH answer was lost learns it is done instead of starting again.
   */
  #finishedBy(id: string, member: string, res: ServerResponse): boolean {
    const file = this.#history.findFile(id);
    if (!file || file.uploader !== member) return false;
    res.writeHead(200, {
      'Tus-Resumable': TUS_VERSION,
      'Upload-Offset': String(file.size),
      'Upload-Length': String(file.size),
      'Cache-Control': 'no-store',
    });
    res.end();
    return true;
  }

  /** Keeps the limits' index in step with what tus did. */
  #afterwards(method: string, id: string | null, request: Request, response: Response): void {
    const created = method === 'POST' ? this.#created.get(request) : undefined;
    if (created && response.status !== 201) {
      this.#pending.delete(created);
      this.#store.remove(created).catch(() => {});
      return;
    }
    const pending = this.#pending.get(created ?? id ?? '');
    const offset = response.headers.get('upload-offset');
    if (pending && offset !== null && Number.isSafeInteger(Number(offset))) pending.offset = Number(offset);
    if (pending && method === 'DELETE' && response.status === 204) this.#pending.delete(pending.id);
  }

  /** tus's creation hook: the metadata checked and rewritten, the room's limits applied, the upload counted. */
  async #create(req: Request, upload: Upload): Promise<{ metadata: Record<string, string> }> {
    const member = this.#callers.get(req)!;
    const size = upload.size ?? Number.POSITIVE_INFINITY;
    if (size > this.#limits.maxFileBytes) throw new FileRefusal('BEACON_ERR_FILE_TOO_LARGE');
    const meta = creationMetadata(upload.metadata, member);
    if (meta.conversation !== 'room' && (meta.conversation === member || !this.#history.hasMember(meta.conversation)))
      throw new FileRefusal('BEACON_ERR_FILE_REQUEST', 'no such member');
    if (meta.preview !== undefined && !isPreviewFor(this.#history.findFile(meta.preview), member, meta.conversation))
      throw new FileRefusal('BEACON_ERR_FILE_REQUEST', 'not a preview');
    // The disk first (the only wait): the counts below and the reservation then happen with no await between.
    const free = await this.#freeBytes();
    const now = Date.now();
    for (const stalled of this.#dropStalled(now)) this.#store.remove(stalled.id).catch(() => {});
    if (this.#pending.countFor(member) >= this.#limits.maxUploadsInFlight)
      throw new FileRefusal('BEACON_ERR_TOO_MANY_UPLOADS');
    const address = this.#addresses.get(req) ?? '';
    if (address !== '' && this.#pending.remainingBytesFrom(address) + size > this.#reservedPerAddress())
      throw new FileRefusal('BEACON_ERR_TOO_MANY_UPLOADS', 'this address has reserved enough');
    if (this.#history.storedFileBytes() + this.#pending.reservedBytes() + size > this.#limits.roomFilesQuotaBytes)
      throw new FileRefusal('BEACON_ERR_ROOM_FILES_FULL');
    if (free - this.#limits.diskReserveBytes - this.#pending.remainingBytes() < size)
      throw new FileRefusal('BEACON_ERR_HOST_DISK_FULL');
    this.#pending.add({
      id: upload.id,
      uploader: member,
      conversation: meta.conversation,
      address,
      size,
      offset: 0,
      createdAt: now,
      lastByteAt: now,
      writing: 0,
      finishing: false,
    });
    this.#created.set(req, upload.id);
    return { metadata: storedMetadata(meta) };
  }

  /** Declared, unreceived bytes one address may hold: by default one member's most. */
  #reservedPerAddress(): number {
    return this.#limits.maxReservedBytesPerAddress ?? this.#limits.maxUploadsInFlight * this.#limits.maxFileBytes;
  }

  /**
   * Uploads that received no byte for `stalledUploadMs` give their reservation back at once (so the
   * counts of a creation never include them) and are deleted as expired ones are.
   */
  #dropStalled(now: number): PendingUpload[] {
    const stalled = this.#pending.stalledSince(now - this.#limits.stalledUploadMs);
    for (const upload of stalled) this.#pending.delete(upload.id);
    return stalled;
  }

  async #freeBytes(): Promise<number> {
    const stats = await statfs(this.#store.directory);
    return stats.bavail * stats.bsize;
  }

  /**
   * After a restart: every upload in the tus folder is counted again, an upload that was complete
   * but not yet a file (a crash during its finish) is finished now, and leftovers are removed.
   */
  async recover(warn: (message: string) => void): Promise<void> {
    const names = new Set(await readdir(this.#store.directory));
    for (const name of names) {
      const id = name.endsWith('.json') ? name.slice(0, -'.json'.length) : name;
      const partial = this.#store.partialPath(id);
      if (!FILE_ID.test(id) || !names.has(`${id}.json`) || !names.has(id)) {
        // A partial file whose record was never written, a record whose bytes are gone, or a stranger.
        await rm(partial, { force: true });
        await rm(`${partial}.json`, { force: true });
        continue;
      }
      if (name !== id) continue;
      const upload = await this.#store.getUpload(id).catch(() => null);
      const meta = upload && readUploadMetadata(upload.metadata);
      if (!upload || !meta || upload.size === undefined) {
        await rm(partial, { force: true });
        await rm(`${partial}.json`, { force: true });
        continue;
      }
      const createdAt = Date.parse(upload.creation_date ?? '') || Date.now();
      // The partial file's last write is when its last byte arrived; who created it is not known.
      const lastByteAt = await stat(partial).then(
        (stats) => stats.mtimeMs,
        () => createdAt,
      );
      this.#pending.add({
        id,
        uploader: meta.uploader,
        conversation: meta.conversation,
        address: '',
        size: upload.size,
        offset: upload.offset,
        createdAt,
        lastByteAt,
        writing: 0,
        finishing: false,
      });
      if (upload.offset === upload.size) {
        await this.#finisher.finish(id).catch((error: unknown) => {
          if (!(error instanceof FileRefusal && error.code === 'BEACON_ERR_FILE_CORRUPT'))
            warn(`could not finish upload ${id} after a restart: ${String(error)}`);
        });
      }
    }
  }

  /** Deletes uploads left unfinished past their expiry (tus expiration), and those that stalled. */
  async sweepAbandoned(now: number): Promise<void> {
    const expired = this.#pending.createdBefore(now - this.#limits.abandonedUploadMs);
    for (const upload of expired) this.#pending.delete(upload.id);
    for (const upload of [...expired, ...this.#dropStalled(now)]) await this.#store.remove(upload.id).catch(() => {});
  }
}

/** A Node request as the web Request tus reads, its body streaming from the socket as it is read. */
function webRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) headers.set(name, value.join(', '));
  }
  const method = req.method ?? 'GET';
  const body = method === 'GET' || method === 'HEAD' ? null : (Readable.toWeb(req) as ReadableStream<Uint8Array>);
  // The origin is never read: Location is relative, and the Host header was checked before. The
  // query is left out: tus takes the upload's id from the last `/` of the whole URL, so
  // `/files/uploads/<mine>?x=/<theirs>` would act on an id other than the one checked above.
  const path = new URL(req.url ?? '/', 'http://beacon.invalid').pathname;
  return new Request(`http://beacon.invalid${path}`, {
    method,
    headers,
    body,
    duplex: 'half',
  } as RequestInit);
}

/** tus's answer, written out; its plain-text refusals become our JSON. */
async function send(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!name.startsWith('access-control-')) headers[name] = value;
  });
  let body: Buffer | string = Buffer.from(await response.arrayBuffer());
  if (response.status >= 400) {
    if (!isRefusalJson(body)) body = refusalBody(codeForTusStatus(response.status));
    Object.assign(headers, REFUSAL_HEADERS);
    // A refused request's unread body is not drained: the connection ends instead.
    headers.connection = 'close';
  }
  if (res.destroyed) return;
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(response.status, headers);
  res.end(body);
}

function isRefusalJson(body: Buffer): boolean {
  try {
    const parsed = JSON.parse(body.toString()) as unknown;
    return typeof parsed === 'object' && parsed !== null && 'code' in parsed && 'message' in parsed;
  } catch {
    return false;
  }
}
