/**
 * The room's files (protocol v1.4, docs/PROTOCOL.md §18): everything under `/files` on the room's
 * web origin, and what the rest of the host asks about files. Its parts, one job each:
 *
 * - file-tokens.ts: who is asking (a stateless token per member, checked on every request)
 * - uploads.ts: tus creation, resume, cancel, with the room's limits (pending-uploads.ts counts)
 * - upload-store.ts: the tus folder of unfinished uploads
 * - upload-finisher.ts: a complete upload becomes a stored file (hash, image header, blob, record)
 * - blob-store.ts: the bytes, once per content; downloads.ts: GET and HEAD with Range
 * - ../../shared/file-names.ts, image-header.ts, upload-metadata.ts: what a sender's claims become
 *
 * On disk, under the room's data folder: `file-secret`, `files/uploads/` (tus) and
 * `files/blobs/<2 hex>/<sha256>`; the records are in the history's SQLite (migration 4).
 */
import { mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { ErrorCode } from '../../shared/errors.ts';
import { FILES_PATH, UPLOADS_PATH } from '../../shared/files.ts';
import type { FileRef } from '../../shared/protocol.ts';
import type { RoomLimits } from '../options.ts';
import type { HistoryStore, StoredFile } from '../store/history-store.ts';
import { BlobStore } from './blob-store.ts';
import { Downloads } from './downloads.ts';
import { refuse } from './file-refusal.ts';
import { FileTokens } from './file-tokens.ts';
import { PendingUploads } from './pending-uploads.ts';
import { isPreviewFor, UploadFinisher } from './upload-finisher.ts';
import { UploadStore } from './upload-store.ts';
import { FILE_ID, Uploads } from './uploads.ts';

/** How often abandoned uploads are looked for. */
const ABANDONED_SWEEP_MS = 60 * 60_000;

/** What the welcome tells a member about files. */
export interface WelcomeFiles {
  token: string;
  path: string;
  maxFileBytes: number;
  maxUploadsInFlight: number;
}

export type FilesForMessage = { ok: true; files: FileRef[] } | { ok: false; code: ErrorCode };

export class FileService {
  readonly #store: HistoryStore;
  readonly #limits: RoomLimits;
  readonly #tokens: FileTokens;
  readonly #uploads: Uploads;
  readonly #downloads: Downloads;
  readonly #warn: (message: string) => void;
  #sweeper: ReturnType<typeof setInterval> | null = null;

  private constructor(options: {
    store: HistoryStore;
    limits: RoomLimits;
    tokens: FileTokens;
    uploads: Uploads;
    downloads: Downloads;
    warn: (message: string) => void;
  }) {
    this.#store = options.store;
    this.#limits = options.limits;
    this.#tokens = options.tokens;
    this.#uploads = options.uploads;
    this.#downloads = options.downloads;
    this.#warn = options.warn;
  }

  /**
   * Opens the room's files in `dataDir`: uploads cut by a crash are counted (or finished) again,
   * and blobs no record names are removed, before any request is served.
   */
  static async open(options: {
    dataDir: string;
    store: HistoryStore;
    limits: RoomLimits;
    warn: (message: string) => void;
  }): Promise<FileService> {
    const { dataDir, store, limits, warn } = options;
    const uploadsDir = join(dataDir, 'files', 'uploads');
    const blobsDir = join(dataDir, 'files', 'blobs');
    // One file system for both: a finished upload becomes a blob by a hard link, not a copy.
    for (const dir of [uploadsDir, blobsDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tokens = FileTokens.load(dataDir);
    const pending = new PendingUploads();
    const uploadStore = new UploadStore({
      directory: uploadsDir,
      expirationPeriodInMilliseconds: limits.abandonedUploadMs,
      finishedSize: (id) => store.findFile(id)?.size,
      watcher: pending,
    });
    const blobs = new BlobStore(blobsDir);
    const finisher = new UploadFinisher({ uploads: uploadStore, pending, blobs, store });
    const uploads = new Uploads({ store: uploadStore, pending, finisher, history: store, limits });
    const downloads = new Downloads({ store, blobs, maxInFlight: limits.maxDownloadsInFlight });
    await uploads.recover(warn);
    await uploads.sweepAbandoned(Date.now());
    const swept = await blobs.sweep((sha256) => store.hasContent(sha256));
    if (swept > 0) warn(`removed ${swept} stored file(s) no record named (left by a crash)`);
    const service = new FileService({ store, limits, tokens, uploads, downloads, warn });
    // At least as often as uploads expire or stall, so their files go soon after (a creation stops
    // counting a stalled one at once).
    const every = Math.max(1_000, Math.min(ABANDONED_SWEEP_MS, limits.abandonedUploadMs, limits.stalledUploadMs));
    service.#sweeper = setInterval(() => void uploads.sweepAbandoned(Date.now()), every);
    service.#sweeper.unref();
    return service;
  }

  welcomeFiles(memberId: string): WelcomeFiles {
    return {
      token: this.#tokens.issue(memberId),
      path: FILES_PATH,
      maxFileBytes: this.#limits.maxFileBytes,
      maxUploadsInFlight: this.#limits.maxUploadsInFlight,
    };
  }

  /** Any request whose path is /files or under it (the Host header already checked). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    // A request that moves no byte for this long lets go of its slot, its open file and its socket.
    req.setTimeout(this.#limits.fileIdleMs, () => req.socket.destroy());
    this.#route(req, res).catch((error: unknown) => {
      this.#warn(`a file request failed: ${String(error)}`);
      refuse(res, 'BEACON_ERR_INTERNAL');
    });
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://beacon.invalid');
    } catch {
      return refuse(res, 'BEACON_ERR_FILE_REQUEST');
    }
    const member = this.#caller(req, url);
    if (!member) return refuse(res, 'BEACON_ERR_FILE_AUTH', { headers: { 'www-authenticate': 'Bearer' } });
    const path = url.pathname;
    if (path === UPLOADS_PATH) return this.#uploads.handle(req, res, member, null);
    if (path.startsWith(`${UPLOADS_PATH}/`))
      return this.#uploads.handle(req, res, member, path.slice(UPLOADS_PATH.length + 1));
    const id = path.slice(FILES_PATH.length + 1);
    if (path.startsWith(`${FILES_PATH}/`) && FILE_ID.test(id))
      return this.#downloads.handle(req, res, member, id, url.searchParams);
    refuse(res, 'BEACON_ERR_FILE_NOT_FOUND');
  }

  /** The member a request speaks for: a token (header, or `?t=` on a GET or HEAD) of an identity the room still knows. */
  #caller(req: IncomingMessage, url: URL): string | null {
    const header = /^Bearer ([^\s]+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const query = req.method === 'GET' || req.method === 'HEAD' ? url.searchParams.get('t') : null;
    const token = header ?? query;
    if (!token || token.length > 200) return null;
    const member = this.#tokens.memberOf(token);
    return member !== null && this.#store.hasMember(member) ? member : null;
  }

  /**
   * The host's records of the files a `send` names, or why they may not be sent: each must be a
   * finished upload of `sender` for this very conversation (`to`: null for the room).
   */
  filesForMessage(sender: string, to: string | null, ids: readonly string[]): FilesForMessage {
    const conversation = to ?? 'room';
    const files: FileRef[] = [];
    for (const id of new Set(ids)) {
      const file = this.#store.findFile(id);
      if (!file || file.uploader !== sender) return { ok: false, code: 'BEACON_ERR_FILE_NOT_READY' };
      if (file.conversation !== conversation) return { ok: false, code: 'BEACON_ERR_FILE_ELSEWHERE' };
      files.push(this.#refOf(file));
    }
    return { ok: true, files };
  }

  #refOf(file: StoredFile): FileRef {
    const ref: FileRef = {
      id: file.id,
      name: file.name,
      size: file.size,
      type: file.declaredType,
      sha256: file.sha256,
    };
    if (file.mediaType !== null && file.width !== null && file.height !== null)
      ref.image = { width: file.width, height: file.height };
    const preview = file.previewId === null ? undefined : this.#store.findFile(file.previewId);
    if (preview && isPreviewFor(preview, file.uploader, file.conversation) && preview.width && preview.height)
      ref.preview = { id: preview.id, width: preview.width, height: preview.height };
    return ref;
  }

  stop(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }
}
