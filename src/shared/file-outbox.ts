/**
 * FileOutbox: this member's files on their way to the host, in a browser or on Node. Each file of
 * a message is read once for its SHA-256 ('preparing'), then uploaded with tus (its preview first),
 * at most `maxUploadsInFlight` at a time (the rest queue); when every file of the message is
 * finished, the message is handed back with the file ids, to go through the message outbox like
 * any other (so a resend after a reconnect is stored once). A break resumes from the same upload
 * URL; cancel forgets the upload on the host too.
 */
import type { HttpStack } from 'tus-js-client';
import type { ConversationId, Transfer } from './chat-api.ts';
import { type ErrorCode, errorMessage } from './errors.ts';
import { TransferReport } from './file-progress.ts';
import { randomId } from './ids.ts';
import type { FileRef } from './protocol.ts';
import {
  startTusUpload,
  terminateUpload,
  type TusUpload,
  type TusUploadOptions,
  type UploadDescription,
} from './tus-upload.ts';

/** What differs between runtimes: how a file is read and how HTTPS is made. `F` is the runtime's file. */
export interface FilePlatform<F> {
  /** Lower-case hex SHA-256 of the whole file, read a piece at a time (never all in memory). */
  sha256(file: F): Promise<string>;
  /** The file as tus-js-client's fileReader in this runtime takes it, made afresh for every attempt. */
  tusInput(file: F): unknown;
  /** The HTTP stack for a host with this fingerprint (null: none pinned); undefined for tus-js-client's own. */
  httpStack?(pin: string | null): HttpStack | undefined;
  fileReader?: TusUploadOptions['fileReader'];
  retryDelays?: readonly number[];
  now?: () => number;
}

/** One file to send, as the interface described it. */
export interface OutgoingFile<F> {
  file: F;
  name: string;
  size: number;
  type: string;
  image?: { width: number; height: number };
  preview?: { file: F; size: number; type: string; width: number; height: number };
}

/** Where and as whom files go: the room's origin and this member's file token (from the welcome). */
export interface FileAccess {
  origin: string;
  token: string;
  /** The fingerprint the host must show (null for an unencrypted host). */
  pin: string | null;
  maxFileBytes: number;
  maxUploadsInFlight: number;
}

export interface FileOutboxOptions<F> {
  platform: FilePlatform<F>;
  /** The current room's file access, or null when it takes no files (or there is no room). */
  access: () => FileAccess | null;
  emit: (transfer: Transfer) => void;
  /** Every file of the message is on the host: send it with these ids. */
  send: (clientId: string, fileIds: string[]) => void;
  /** A file of the message failed: the message waits, failed, until retried. */
  fail: (clientId: string, error: string) => void;
  /** Every file of the message was cancelled: it will not be sent. */
  withdraw: (clientId: string) => void;
  /** A failed upload of the message was retried: the message is pending again. */
  resume: (clientId: string) => void;
}

interface Upload<F> {
  report: TransferReport;
  clientId: string;
  conversation: ConversationId;
  file: OutgoingFile<F>;
  sha256?: string;
  previewId?: string;
  /** Upload URLs on the host, to resume from. */
  previewUrl?: string | null;
  fileUrl?: string | null;
  running: TusUpload | null;
  /** Bumped by cancel and retry: a run that finds it changed stops. */
  attempt: number;
  hasSlot: boolean;
}

interface Waiting {
  clientId: string;
  transfers: string[];
}

/** Finished and failed transfers kept for the snapshot, the latest this many. */
const KEPT_TRANSFERS = 200;

class Stopped extends Error {}

export class FileOutbox<F> {
  readonly #options: FileOutboxOptions<F>;
  readonly #uploads = new Map<string, Upload<F>>();
  readonly #messages = new Map<string, Waiting>();
  /** Uploads waiting for a free slot, in order. */
  readonly #queue: { upload: Upload<F>; admit: () => void; pass: () => void }[] = [];
  #inFlight = 0;

  constructor(options: FileOutboxOptions<F>) {
    this.#options = options;
  }

  /** Every upload of this session (the latest KEPT_TRANSFERS). */
  get transfers(): Transfer[] {
    return [...this.#uploads.values()].map((upload) => upload.report.transfer);
  }

  /** Ids for the transfers of a new message, made before the message so it can carry them. */
  plan(count: number): string[] {
    return Array.from({ length: count }, () => randomId('t_'));
  }

  /** Starts the uploads of `clientId`'s files (ids from `plan`). */
  start(clientId: string, conversation: ConversationId, ids: string[], files: OutgoingFile<F>[]): void {
    this.#messages.set(clientId, { clientId, transfers: ids });
    files.forEach((file, i) => {
      const id = ids[i]!;
      const report = new TransferReport(
        {
          id,
          direction: 'upload',
          conversation,
          clientId,
          name: file.name,
          size: file.size,
          doneBytes: 0,
          bytesPerSecond: null,
          secondsLeft: null,
          state: 'preparing',
        },
        this.#options.emit,
        this.#options.platform.now,
      );
      const upload: Upload<F> = { report, clientId, conversation, file, running: null, attempt: 0, hasSlot: false };
      this.#uploads.set(id, upload);
      this.#options.emit(report.transfer);
      void this.#run(upload);
    });
    this.#forgetOld();
  }

  /** The FileRefs of a sent message's files as this member knows them (for its own copy of the message). */
  fileRefs(clientId: string): FileRef[] | undefined {
    const waiting = this.#messages.get(clientId);
    if (!waiting) return undefined;
    const refs: FileRef[] = [];
    for (const id of waiting.transfers) {
      const upload = this.#uploads.get(id);
      const fileId = upload?.report.transfer.fileId;
      if (!upload || !fileId || upload.report.state !== 'done') continue;
      const { file } = upload;
      refs.push({
        id: fileId,
        name: file.name,
        size: file.size,
        type: file.type,
        sha256: upload.sha256 ?? '',
        ...(file.image ? { image: { ...file.image } } : {}),
        ...(file.preview && upload.previewId
          ? { preview: { id: upload.previewId, width: file.preview.width, height: file.preview.height } }
          : {}),
      });
    }
    return refs;
  }

  /** Stops an upload and has the host forget it; false when there is no such unfinished upload. */
  async cancel(id: string): Promise<boolean> {
    const upload = this.#uploads.get(id);
    if (!upload || ['done', 'cancelled'].includes(upload.report.state)) return false;
    upload.attempt++;
    upload.report.set('cancelled');
    this.#freeSlot(upload);
    this.#leaveQueue(upload);
    const running = upload.running;
    upload.running = null;
    if (running) await running.abort(true);
    else if (upload.fileUrl) await this.#terminate(upload.fileUrl);
    this.#settle(upload.clientId);
    return true;
  }

  /** Resumes a failed upload where it stopped; false when there is no such failed upload. */
  retry(id: string): boolean {
    const upload = this.#uploads.get(id);
    if (!upload || upload.report.state !== 'failed') return false;
    upload.attempt++;
    upload.report.set('preparing', { doneBytes: upload.report.transfer.doneBytes });
    this.#options.resume(upload.clientId);
    void this.#run(upload);
    return true;
  }

  /** Resumes every failed upload of a message (retrying the message itself); false when it has none. */
  retryMessage(clientId: string): boolean {
    const waiting = this.#messages.get(clientId);
    if (!waiting) return false;
    let any = false;
    for (const id of waiting.transfers) any = this.retry(id) || any;
    return any;
  }

  /** Has this message files of its own (so it is not a plain text message)? */
  owns(clientId: string): boolean {
    return this.#messages.has(clientId);
  }

  /** Leaving the room: every unfinished upload stops (kept on the host, which deletes it after a day). */
  stopAll(): void {
    for (const upload of this.#uploads.values()) {
      if (['done', 'cancelled', 'failed'].includes(upload.report.state)) continue;
      upload.attempt++;
      void upload.running?.abort(false);
      upload.running = null;
      upload.report.set('cancelled');
    }
    for (const entry of this.#queue.splice(0)) entry.pass();
    this.#inFlight = 0;
    for (const upload of this.#uploads.values()) upload.hasSlot = false;
  }

  async #run(upload: Upload<F>): Promise<void> {
    const attempt = upload.attempt;
    const check = (): void => {
      if (upload.attempt !== attempt) throw new Stopped();
    };
    try {
      const access = this.#access();
      if (upload.file.size > access.maxFileBytes) throw refusal('BEACON_ERR_FILE_TOO_LARGE');
      if (upload.sha256 === undefined) {
        upload.sha256 = await this.#hash(upload.file.file);
        check();
      }
      await this.#takeSlot(upload);
      check();
      const { file } = upload;
      if (file.preview && upload.previewId === undefined) {
        const preview = file.preview;
        upload.previewId = await this.#upload(upload, attempt, {
          input: preview.file,
          size: preview.size,
          description: { name: `preview-${file.name}`, conversation: upload.conversation, type: preview.type },
          urlKey: 'previewUrl',
          counts: false,
        });
        check();
      }
      const fileId = await this.#upload(upload, attempt, {
        input: file.file,
        size: file.size,
        description: {
          name: file.name,
          conversation: upload.conversation,
          type: file.type,
          sha256: upload.sha256,
          ...(upload.previewId ? { preview: upload.previewId } : {}),
        },
        urlKey: 'fileUrl',
        counts: true,
      });
      check();
      this.#freeSlot(upload);
      upload.report.set('done', { fileId });
      this.#settle(upload.clientId);
    } catch (error) {
      if (error instanceof Stopped || upload.attempt !== attempt) return;
      this.#freeSlot(upload);
      const failure = asTransferError(error);
      upload.report.set('failed', { error: failure });
      this.#options.fail(upload.clientId, failure.message);
    }
  }

  /** One tus upload of the file or its preview; resolves with the finished file's id. */
  #upload(
    upload: Upload<F>,
    attempt: number,
    part: {
      input: F;
      size: number;
      description: UploadDescription;
      urlKey: 'previewUrl' | 'fileUrl';
      counts: boolean;
    },
  ): Promise<string> {
    const access = this.#access();
    const platform = this.#options.platform;
    const current = (): boolean => upload.attempt === attempt;
    const httpStack = platform.httpStack?.(access.pin);
    const running = startTusUpload({
      origin: access.origin,
      token: access.token,
      description: part.description,
      size: part.size,
      input: platform.tusInput(part.input),
      uploadUrl: upload[part.urlKey] ?? null,
      ...(httpStack ? { httpStack } : {}),
      ...(platform.fileReader ? { fileReader: platform.fileReader } : {}),
      ...(platform.retryDelays ? { retryDelays: platform.retryDelays } : {}),
      onCreated: (url) => {
        if (current()) upload[part.urlKey] = url;
      },
      onProgress: (doneBytes) => {
        if (current() && part.counts) upload.report.progress(doneBytes);
      },
      onWaiting: (error) => {
        if (current()) upload.report.set('waiting', { error });
      },
    });
    upload.running = running;
    return running.done.finally(() => {
      if (upload.running === running) upload.running = null;
    });
  }

  #access(): FileAccess {
    const access = this.#options.access();
    if (!access) throw refusal('BEACON_ERR_NO_FILES');
    return access;
  }

  async #hash(file: F): Promise<string> {
    try {
      return await this.#options.platform.sha256(file);
    } catch {
      throw refusal('BEACON_ERR_FILE_READ');
    }
  }

  /** Waits for one of the host's `maxUploadsInFlight` places (the host refuses more at once). */
  #takeSlot(upload: Upload<F>): Promise<void> {
    if (upload.hasSlot) return Promise.resolve();
    const limit = Math.max(1, this.#access().maxUploadsInFlight);
    if (this.#inFlight < limit) {
      this.#inFlight++;
      upload.hasSlot = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#queue.push({
        upload,
        admit: () => {
          upload.hasSlot = true;
          resolve();
        },
        // Out of the line without a place (cancelled, or leaving the room): the run then stops.
        pass: resolve,
      });
    });
  }

  #leaveQueue(upload: Upload<F>): void {
    const at = this.#queue.findIndex((entry) => entry.upload === upload);
    if (at >= 0) this.#queue.splice(at, 1)[0]!.pass();
  }

  #freeSlot(upload: Upload<F>): void {
    if (!upload.hasSlot) return;
    upload.hasSlot = false;
    const next = this.#queue.shift();
    // The place passes straight to the next in line.
    if (next) next.admit();
    else this.#inFlight--;
  }

  /** When no upload of the message is left to wait for: send it with its files, or withdraw it. */
  #settle(clientId: string): void {
    const waiting = this.#messages.get(clientId);
    if (!waiting) return;
    const uploads = waiting.transfers.map((id) => this.#uploads.get(id)).filter((upload) => upload !== undefined);
    if (uploads.some((upload) => upload.report.state !== 'done' && upload.report.state !== 'cancelled')) return;
    const fileIds = uploads.flatMap((upload) =>
      upload.report.state === 'done' ? [upload.report.transfer.fileId!] : [],
    );
    if (fileIds.length === 0) this.#options.withdraw(clientId);
    else this.#options.send(clientId, fileIds);
  }

  async #terminate(url: string): Promise<void> {
    const access = this.#options.access();
    if (access) await terminateUpload(url, access.token, this.#options.platform.httpStack?.(access.pin));
  }

  #forgetOld(): void {
    const finished = [...this.#uploads.entries()].filter(([, upload]) =>
      ['done', 'cancelled'].includes(upload.report.state),
    );
    for (const [id, upload] of finished.slice(0, Math.max(0, this.#uploads.size - KEPT_TRANSFERS))) {
      this.#uploads.delete(id);
      const waiting = this.#messages.get(upload.clientId);
      if (waiting && waiting.transfers.every((t) => !this.#uploads.has(t))) this.#messages.delete(upload.clientId);
    }
  }
}

function refusal(code: ErrorCode): { code: ErrorCode; message: string } {
  return { code, message: errorMessage(code) };
}

function asTransferError(error: unknown): { code: ErrorCode; message: string } {
  if (typeof error === 'object' && error !== null && 'code' in error && 'message' in error) {
    return error as { code: ErrorCode; message: string };
  }
  return { code: 'BEACON_ERR_INTERNAL', message: `${errorMessage('BEACON_ERR_INTERNAL')} (${String(error)})` };
}
