/**
 * Files fetched from the room's host on Node (the desktop app): a download into the downloads
 * folder (into a `.part` file first, resumed with a Range request after a break, held to the size
 * and SHA-256 of the file's record in its message, then given a name no other file has there),
 * with Transfer events; and the
 * handler of the app's `beacon-file:` scheme, which streams a picture from the host so the
 * interface can show it without ever holding the file token.
 */
import { createHash } from 'node:crypto';
import { createReadStream, constants as fsConstants } from 'node:fs';
import { copyFile, type FileHandle, link, mkdir, open, stat, unlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ConversationId, Transfer } from '../shared/chat-api.ts';
import { type ErrorCode, errorMessage, isErrorCode } from '../shared/errors.ts';
import { savedFileName } from '../shared/file-names.ts';
import type { FileAccess } from '../shared/file-outbox.ts';
import { TransferReport } from '../shared/file-progress.ts';
import { DESKTOP_FILE_SCHEME as FILE_SCHEME, filePath, SAFE_IMAGE_TYPES } from '../shared/files.ts';
import { randomId } from '../shared/ids.ts';
import { FileId, type FileRef } from '../shared/protocol.ts';
import { isNotTheHost, parseRefusal, UPLOAD_RETRY_DELAYS } from '../shared/tus-upload.ts';
import * as v from 'valibot';
import { hostRequest } from './file-http.ts';

export { DESKTOP_FILE_SCHEME as FILE_SCHEME } from '../shared/files.ts';

/** How many names "name (n).ext" are tried before giving up. */
const MAX_NAME_TRIES = 1_000;

/** What a download must be: the file's record as its message showed it, not what the host's answer says. */
export type ExpectedFile = Pick<FileRef, 'id' | 'name' | 'size' | 'sha256'>;

interface TransferError {
  code: ErrorCode;
  message: string;
  retry: boolean;
}

/** The connection broke or the answer stopped short: tried again, from where the `.part` file ends. */
const NETWORK_BREAK: TransferError = {
  code: 'BEACON_ERR_NETWORK',
  message: errorMessage('BEACON_ERR_NETWORK'),
  retry: true,
};

/** The host's answer is not the file of the message: asking again would only get it again. */
const NOT_THE_FILE: TransferError = {
  code: 'BEACON_ERR_FILE_CORRUPT',
  message:
    'The host sent something other than the file in the message (another size or other bytes), so nothing was saved.',
  retry: false,
};

interface Download {
  report: TransferReport;
  file: ExpectedFile;
  /** The name it is saved under, safe on this system whatever the host sent. */
  name: string;
  access: FileAccess;
  /** Where the bytes go until they are all there and checked. */
  partPath: string | null;
  /** Bumped by cancel and retry: a run that finds it changed stops. */
  attempt: number;
  abort: AbortController | null;
}

export interface FileDownloadsOptions {
  /** The downloads folder, asked for at each download (a setting may change it). */
  folder: () => string;
  emit: (transfer: Transfer) => void;
  /** Shows a file in the system's file manager (Electron's shell.showItemInFolder). */
  showItemInFolder: (path: string) => void;
  retryDelays?: readonly number[];
  now?: () => number;
}

class Stopped extends Error {}

export class FileDownloads {
  readonly #options: FileDownloadsOptions;
  readonly #downloads = new Map<string, Download>();

  constructor(options: FileDownloadsOptions) {
    this.#options = options;
  }

  get transfers(): Transfer[] {
    return [...this.#downloads.values()].map((download) => download.report.transfer);
  }

  /** Starts fetching a file into the downloads folder; resolves with the transfer's id at once. */
  start(file: ExpectedFile, conversation: ConversationId, access: FileAccess): string {
    const id = randomId('t_');
    const name = savedFileName(file.name);
    const report = new TransferReport(
      {
        id,
        direction: 'download',
        conversation,
        fileId: file.id,
        name,
        size: file.size,
        doneBytes: 0,
        bytesPerSecond: null,
        secondsLeft: null,
        state: 'preparing',
      },
      this.#options.emit,
      this.#options.now,
    );
    const download: Download = { report, file, name, access, partPath: null, attempt: 0, abort: null };
    this.#downloads.set(id, download);
    this.#options.emit(report.transfer);
    void this.#run(download);
    return id;
  }

  async cancel(id: string): Promise<boolean> {
    const download = this.#downloads.get(id);
    if (!download || ['done', 'cancelled'].includes(download.report.state)) return false;
    download.attempt++;
    download.abort?.abort();
    download.report.set('cancelled');
    if (download.partPath) await unlink(download.partPath).catch(() => {});
    return true;
  }

  retry(id: string): boolean {
    const download = this.#downloads.get(id);
    if (!download || download.report.state !== 'failed') return false;
    download.attempt++;
    download.report.set('preparing');
    void this.#run(download);
    return true;
  }

  /** Shows a file this app saved in the system's file manager; false for anything else. */
  showInFolder(id: string): boolean {
    const saved = this.#downloads.get(id)?.report.transfer.savedTo;
    if (!saved) return false;
    this.#options.showItemInFolder(saved);
    return true;
  }

  /** Leaving the room: running downloads stop (their `.part` files are removed). */
  stopAll(): void {
    for (const download of this.#downloads.values()) {
      if (download.report.state === 'done' || download.report.state === 'cancelled') continue;
      void this.cancel(download.report.transfer.id);
    }
  }

  async #run(download: Download): Promise<void> {
    const attempt = download.attempt;
    const delays = this.#options.retryDelays ?? UPLOAD_RETRY_DELAYS;
    let tries = 0;
    for (;;) {
      const had = download.report.transfer.doneBytes;
      try {
        await this.#fetchOnce(download, attempt);
        return;
      } catch (error) {
        if (error instanceof Stopped || download.attempt !== attempt) {
          // Cancelled while a request was still opening its .part: nothing of it stays.
          if (download.report.state === 'cancelled' && download.partPath)
            await unlink(download.partPath).catch(() => {});
          return;
        }
        const failure = asTransferError(error);
        // Bytes that arrived since the last break start the count of tries again.
        if (download.report.transfer.doneBytes > had) tries = 0;
        const delay = failure.retry ? delays[tries++] : undefined;
        if (delay === undefined) {
          download.report.set('failed', { error: { code: failure.code, message: failure.message } });
          return;
        }
        download.report.set('waiting', { error: { code: failure.code, message: failure.message } });
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (download.attempt !== attempt) return;
      }
    }
  }

  /** One request: from the start, or from the end of the `.part` file. Throws on any break. */
  async #fetchOnce(download: Download, attempt: number): Promise<void> {
    const check = (): void => {
      if (download.attempt !== attempt) throw new Stopped();
    };
    const { file } = download;
    const folder = this.#options.folder();
    await onThisComputer(() => mkdir(folder, { recursive: true }));
    check();
    const partPath = (download.partPath ??= join(folder, `${download.name}.${file.id.slice(2, 12)}.part`));
    let from = await sizeOf(partPath);
    if (from > file.size) from = await discard(partPath);
    // All there already (the last try broke after the last byte): only the check is left.
    const complete = from > 0 && from === file.size;
    let done = from;
    if (!complete) done = await this.#receive(download, from, check);
    check();
    if (done < file.size) throw NETWORK_BREAK;
    if ((await onThisComputer(() => hashOf(partPath))) !== file.sha256) {
      await discard(partPath);
      throw NOT_THE_FILE;
    }
    check();
    // Beside its .part, even if the downloads folder was changed meanwhile.
    const savedTo = await onThisComputer(() => keepUnderFreeName(partPath, dirname(partPath), download.name));
    download.partPath = null;
    download.report.set('done', { savedTo, doneBytes: done, size: done });
  }

  /**
   * Asks for the bytes from `from` on and writes them to the `.part` file; resolves with how many
   * the file then has. The host's word is held to the file's record: an answer of another length,
   * or a byte past the record's size, stops it at once and nothing of it is kept.
   */
  async #receive(download: Download, from: number, check: () => void): Promise<number> {
    const { access, file } = download;
    const partPath = download.partPath!;
    const abort = new AbortController();
    download.abort = abort;
    const url = new URL(filePath(file.id), access.origin);
    // An image is served inline unless asked for as a download.
    url.searchParams.set('download', '1');
    let response: IncomingMessage;
    try {
      response = await hostRequest(url.toString(), {
        pin: access.pin,
        signal: abort.signal,
        headers: { Authorization: `Bearer ${access.token}`, ...(from > 0 ? { Range: `bytes=${from}-` } : {}) },
      });
    } catch (error) {
      check();
      // Not the pinned host: said as it is, and not asked again.
      const code = (error as { code?: unknown }).code;
      if (isNotTheHost(code)) throw { code, message: errorMessage(code), retry: false };
      throw NETWORK_BREAK;
    }
    check();
    const status = response.statusCode ?? 0;
    if (status !== 200 && status !== 206) throw await refusalOf(response);
    const start = status === 206 ? startOfRange(response.headers['content-range'], file.size) : 0;
    const length = response.headers['content-length'];
    if (
      start === null ||
      (start > 0 && start !== from) ||
      (length !== undefined && Number(length) !== file.size - start)
    ) {
      response.destroy();
      await discard(partPath);
      throw NOT_THE_FILE;
    }
    let out: FileHandle;
    try {
      out = await open(partPath, start > 0 ? 'a' : 'w');
    } catch (error) {
      response.destroy();
      throw notSaved(error);
    }
    download.report.set('active', { doneBytes: start });
    let done = start;
    // What stopped the bytes, if it was not the disk: the host's answer, or its being too long.
    let stoppedBy: TransferError | null = null;
    const counted = Readable.from(
      (async function* () {
        try {
          for await (const chunk of response) {
            done += (chunk as Buffer).length;
            // Not one byte past the file's size reaches the disk (a host that sends no length could fill it).
            if (done > file.size) throw NOT_THE_FILE;
            download.report.progress(done);
            yield chunk as Buffer;
          }
        } catch (error) {
          stoppedBy = error === NOT_THE_FILE ? NOT_THE_FILE : NETWORK_BREAK;
          throw error;
        }
      })(),
    );
    try {
      await pipeline(counted, out.createWriteStream());
    } catch (error) {
      check();
      if (stoppedBy === NOT_THE_FILE) await discard(partPath);
      throw stoppedBy ?? notSaved(error);
    } finally {
      await out.close().catch(() => {});
    }
    return done;
  }
}

/**
 * The handler of `beacon-file://file/<id>` (Electron's protocol.handle): streams that file from
 * the current room's host, only when it is a picture the host recognised (PNG, JPEG, GIF, WebP),
 * so the window can show previews and images; anything else is refused.
 */
export function fileSchemeHandler(access: () => FileAccess | null): (request: Request) => Promise<Response> {
  return async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return refused(400);
    }
    const id = url.pathname.replace(/^\//, '');
    if (url.protocol !== `${FILE_SCHEME}:` || url.hostname !== 'file' || !v.is(FileId, id)) return refused(400);
    if (request.method !== 'GET') return refused(405);
    const room = access();
    if (!room) return refused(404);
    let response: IncomingMessage;
    try {
      response = await hostRequest(new URL(filePath(id), room.origin).toString(), {
        pin: room.pin,
        headers: { Authorization: `Bearer ${room.token}` },
      });
    } catch {
      return refused(502);
    }
    const type = String(response.headers['content-type'] ?? '')
      .split(';', 1)[0]!
      .trim();
    if (response.statusCode !== 200 || !(SAFE_IMAGE_TYPES as readonly string[]).includes(type)) {
      response.destroy();
      return refused(response.statusCode === 200 ? 415 : 404);
    }
    return new Response(Readable.toWeb(response) as ReadableStream<Uint8Array>, {
      status: 200,
      headers: {
        'Content-Type': type,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'private, max-age=31536000, immutable',
        ...(response.headers['content-length'] ? { 'Content-Length': String(response.headers['content-length']) } : {}),
      },
    });
  };
}

function refused(status: number): Response {
  return new Response(null, { status, headers: { 'X-Content-Type-Options': 'nosniff' } });
}

/** "name.ext", else "name (1).ext", "name (2).ext", …: the first that is free, never replacing a file. */
export function nameWithNumber(name: string, n: number): string {
  if (n === 0) return name;
  const ext = extname(name);
  const stem = ext && ext !== name ? name.slice(0, -ext.length) : name;
  return `${stem} (${n})${stem === name ? '' : ext}`;
}

async function keepUnderFreeName(partPath: string, folder: string, name: string): Promise<string> {
  for (let n = 0; n < MAX_NAME_TRIES; n++) {
    const target = join(folder, nameWithNumber(name, n));
    try {
      // A hard link fails if the name is taken: no other file is ever replaced, even by a race.
      await link(partPath, target).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') throw error;
        // A file system without hard links: an exclusive copy refuses a taken name just the same.
        await copyFile(partPath, target, fsConstants.COPYFILE_EXCL);
      });
      await unlink(partPath);
      return target;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw { code: 'BEACON_ERR_INTERNAL', message: 'Every name for this file is taken in the downloads folder.' };
}

/** Where a 206 answer starts, if it is a range of a file of `size` bytes that runs to its end; else null. */
function startOfRange(header: string | undefined, size: number): number | null {
  const match = header && /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim());
  if (!match) return null;
  const [start, end, total] = match.slice(1).map(Number) as [number, number, number];
  return total === size && end === size - 1 && start <= end ? start : null;
}

/** Removes a `.part` file whose bytes are not worth keeping; the next try starts from 0. */
async function discard(path: string): Promise<0> {
  await unlink(path).catch(() => {});
  return 0;
}

/** The sentence for what this computer's disk refused (the host did nothing wrong): not tried again. */
function notSaved(error: unknown): TransferError {
  const code = String((error as NodeJS.ErrnoException | null)?.code ?? '');
  const why =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'the disk is full'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'Beacon may not write there'
        : code === 'ENAMETOOLONG'
          ? 'its name is too long for this disk'
          : `${code || String(error)}`;
  return {
    code: 'BEACON_ERR_FILE_READ',
    message: `The file could not be saved in the downloads folder: ${why}.`,
    retry: false,
  };
}

/** Runs a step on this computer's disk: its failure is said as such, never as the network's. */
async function onThisComputer<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if ((error as TransferError).code === 'BEACON_ERR_INTERNAL') throw error;
    throw notSaved(error);
  }
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (info) => info.size,
    () => 0,
  );
}

async function hashOf(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function refusalOf(response: IncomingMessage): Promise<TransferError> {
  const status = response.statusCode ?? 0;
  let body = '';
  for await (const chunk of response) {
    body += String(chunk);
    if (body.length > 4096) break;
  }
  const retry = status >= 500 ? status !== 507 : status === 429 || status === 423;
  const refusal = parseRefusal(body);
  if (refusal) return { ...refusal, retry };
  const code: ErrorCode =
    status === 401 ? 'BEACON_ERR_FILE_AUTH' : status === 404 ? 'BEACON_ERR_FILE_NOT_FOUND' : 'BEACON_ERR_FILE_REQUEST';
  return { code, message: errorMessage(code), retry };
}

function asTransferError(error: unknown): TransferError {
  const { code, message, retry } = (error ?? {}) as { code?: unknown; message?: unknown; retry?: boolean };
  if (isErrorCode(code) && typeof message === 'string') return { code, message, retry: retry ?? false };
  return {
    code: 'BEACON_ERR_FILE_READ',
    message: `${errorMessage('BEACON_ERR_FILE_READ')} (${String(error)})`,
    retry: false,
  };
}
