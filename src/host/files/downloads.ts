/**
 * `GET` and `HEAD /files/<id>` (docs/PROTOCOL.md §18.4): a stored file, to those who may read its
 * conversation, streamed from its blob with the socket's backpressure (never read into memory), with
 * `Range: bytes=N-` / `bytes=N-M` to resume. Only an image the host recognised from its bytes is
 * served as itself; anything else is application/octet-stream and an attachment, so nothing a member
 * uploads can run as a page in the room's origin.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { create as contentDisposition } from 'content-disposition';
import type { HistoryStore, StoredFile } from '../store/history-store.ts';
import type { BlobStore } from './blob-store.ts';
import { refuse } from './file-refusal.ts';

const SANDBOX = "default-src 'none'; sandbox";
const IMMUTABLE = 'private, max-age=31536000, immutable';

/** Whether `member` may fetch `file`: anyone in the room for a room file, only its two people for a direct one. */
export const mayRead = (file: StoredFile, member: string): boolean =>
  file.conversation === 'room' || file.uploader === member || file.conversation === member;

export class Downloads {
  readonly #store: HistoryStore;
  readonly #blobs: BlobStore;
  readonly #maxInFlight: number;
  /** Downloads running per member. */
  readonly #running = new Map<string, number>();

  constructor(options: { store: HistoryStore; blobs: BlobStore; maxInFlight: number }) {
    this.#store = options.store;
    this.#blobs = options.blobs;
    this.#maxInFlight = options.maxInFlight;
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    member: string,
    id: string,
    query: URLSearchParams,
  ): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return refuse(res, 'BEACON_ERR_FILE_REQUEST', { status: 405, headers: { allow: 'GET, HEAD' } });
    const file = this.#store.findFile(id);
    // Someone else's direct file is answered exactly like a file that does not exist.
    if (!file || !mayRead(file, member)) return refuse(res, 'BEACON_ERR_FILE_NOT_FOUND');
    const etag = `"${file.sha256}"`;
    const headers: Record<string, string> = {
      'content-type': file.mediaType ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'content-security-policy': SANDBOX,
      'cache-control': IMMUTABLE,
      'accept-ranges': 'bytes',
      etag,
    };
    const inline = file.mediaType !== null && query.get('download') !== '1';
    headers['content-disposition'] = contentDisposition(file.name, { type: inline ? 'inline' : 'attachment' });
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers).end();
      return;
    }
    const range = parseRange(req.headers.range, file.size);
    if (range === 'unsatisfiable') {
      return refuse(res, 'BEACON_ERR_FILE_REQUEST', {
        status: 416,
        headers: { 'content-range': `bytes */${file.size}` },
      });
    }
    const { start, end } = range ?? { start: 0, end: file.size - 1 };
    headers['content-length'] = String(Math.max(0, end - start + 1));
    if (range) headers['content-range'] = `bytes ${start}-${end}/${file.size}`;
    if (req.method === 'HEAD') {
      res.writeHead(range ? 206 : 200, headers).end();
      return;
    }
    const running = this.#running.get(member) ?? 0;
    if (running >= this.#maxInFlight) return refuse(res, 'BEACON_ERR_TOO_MANY_UPLOADS');
    this.#running.set(member, running + 1);
    try {
      if (file.size === 0) {
        res.writeHead(200, headers).end();
        return;
      }
      const source = createReadStream(this.#blobs.pathOf(file.sha256), { start, end });
      // Opened before the head is written: a missing blob is a 404, not a 200 cut short.
      await new Promise<void>((resolve, reject) => {
        source.once('open', () => resolve());
        source.once('error', reject);
      }).catch((error: unknown) => {
        source.destroy();
        throw error;
      });
      res.writeHead(range ? 206 : 200, headers);
      await pipeline(source, res);
    } catch {
      // A reader that went away, or a blob that could not be read: what was sent is all it gets.
      if (!res.headersSent) refuse(res, 'BEACON_ERR_FILE_NOT_FOUND');
      else res.destroy();
    } finally {
      const left = (this.#running.get(member) ?? 1) - 1;
      if (left > 0) this.#running.set(member, left);
      else this.#running.delete(member);
    }
  }
}

/**
 * The one range of `bytes=N-` or `bytes=N-M` (M past the end means the end), null for no Range
 * header, 'unsatisfiable' for anything else: several ranges, suffix ranges, a start past the end.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const match = /^bytes=(\d{1,16})-(\d{0,16})$/.exec(header.trim());
  if (!match) return 'unsatisfiable';
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  // A start at or past the end (an empty file has none) leaves end < start.
  if (end < start) return 'unsatisfiable';
  return { start, end };
}
