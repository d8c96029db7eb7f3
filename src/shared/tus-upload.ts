/**
 * One file's upload to the host with tus 1.0 (PROTOCOL.md §18.2), through tus-js-client, in a
 * browser or on Node: what differs (how HTTPS is made, how a file is read) is injected as
 * tus-js-client's own httpStack and fileReader. This module decides what tus-js-client leaves to
 * its user: which failures are worth another try (and how long to keep trying), and what a refusal
 * means to a person.
 */
import { type DetailedError, type FileSource, type HttpStack, Upload, type UploadOptions } from 'tus-js-client';
import { type ErrorCode, errorMessage, isErrorCode } from './errors.ts';
import { UPLOAD_METADATA, UPLOADS_PATH } from './files.ts';

/**
 * Waits between tries after a failure, in ms: about two minutes in all, long enough to ride out a
 * host being restarted (or its machine rebooting its network). Progress made resets the count.
 */
export const UPLOAD_RETRY_DELAYS: readonly number[] = [
  500, 1_000, 2_000, 3_000, 5_000, 5_000, 10_000, 10_000, 10_000, 15_000, 15_000, 15_000, 15_000, 15_000,
];
/** A refusal for "too many at once" is asked again no sooner than this. */
export const TOO_MANY_RETRY_MS = 2_000;

/** What the upload sends as tus Upload-Metadata (values are base64-encoded by tus-js-client). */
export interface UploadDescription {
  name: string;
  /** 'room', or the member id of the other person of a direct conversation. */
  conversation: string;
  type?: string;
  /** Lower-case hex SHA-256 of the whole file. */
  sha256?: string;
  /** The file id of this file's finished preview upload. */
  preview?: string;
}

export function uploadMetadata(description: UploadDescription): Record<string, string> {
  const metadata: Record<string, string> = {
    [UPLOAD_METADATA.name]: description.name,
    [UPLOAD_METADATA.conversation]: description.conversation,
  };
  if (description.type) metadata[UPLOAD_METADATA.type] = description.type;
  if (description.sha256) metadata[UPLOAD_METADATA.sha256] = description.sha256;
  if (description.preview) metadata[UPLOAD_METADATA.preview] = description.preview;
  return metadata;
}

/** The file id at the end of an upload URL (`…/files/uploads/<id>`), or null. */
export function fileIdOfUploadUrl(url: string | null): string | null {
  const match = url && /\/files\/uploads\/(f_[A-Za-z0-9_-]{22})(?:[?#]|$)/.exec(url);
  return match ? match[1]! : null;
}

/**
 * Whether a failed request is worth another try, by the status the host answered (0: no answer at
 * all, the host is away or the network is down). Only what can succeed later: a host that is back,
 * a lock on an upload still being written (409, 423), a server error other than a full disk or room
 * (507 stays full until someone frees space), "too many uploads at once" (a slot frees up).
 */
export function isWorthRetrying(status: number): boolean {
  if (status === 0) return true;
  if (status === 409 || status === 423 || status === 429) return true;
  return status >= 500 && status !== 507;
}

/**
 * The machine that answered is not the pinned host (or will not speak TLS): asking it again is
 * pointless and would only keep knocking on an impostor's door. The person decides (trustHost).
 */
const NOT_THE_HOST: ReadonlySet<string> = new Set([
  'BEACON_ERR_HOST_CHANGED',
  'BEACON_ERR_NOT_ENCRYPTED',
  'BEACON_ERR_TLS',
]);

/** Whether a connection failed because the machine is not the pinned host (its code, as pinned-tls gives it). */
export function isNotTheHost(code: unknown): code is ErrorCode {
  return typeof code === 'string' && NOT_THE_HOST.has(code);
}

function untrusted(error: Partial<DetailedError>): boolean {
  return isNotTheHost((error.causingError as { code?: unknown } | null | undefined)?.code);
}

/** A refused or failed upload as a Transfer's error: the host's own {code, message} when it sent one. */
export function uploadError(error: unknown): { code: ErrorCode; message: string } {
  const detailed = error as (Partial<DetailedError> & { code?: unknown }) | null;
  // A refusal from this side (the file could not be read, the host is not the one pinned) says so itself.
  if (isErrorCode(detailed?.code)) return { code: detailed.code, message: errorMessage(detailed.code) };
  const cause = (detailed?.causingError as { code?: unknown } | null | undefined)?.code;
  if (isErrorCode(cause)) return { code: cause, message: errorMessage(cause) };
  const response = detailed?.originalResponse ?? null;
  if (!response) return { code: 'BEACON_ERR_NETWORK', message: errorMessage('BEACON_ERR_NETWORK') };
  const refusal = parseRefusal(response.getBody());
  if (refusal) return refusal;
  const status = response.getStatus();
  const code: ErrorCode =
    status === 401 ? 'BEACON_ERR_FILE_AUTH' : status === 404 ? 'BEACON_ERR_FILE_NOT_FOUND' : 'BEACON_ERR_FILE_REQUEST';
  return { code, message: errorMessage(code) };
}

/** The host's JSON refusal `{code, message}`, when the body is one with a code Beacon knows. */
export function parseRefusal(body: string): { code: ErrorCode; message: string } | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { code, message } = parsed as { code?: unknown; message?: unknown };
    if (!isErrorCode(code)) return null;
    return { code, message: typeof message === 'string' && message !== '' ? message : errorMessage(code) };
  } catch {
    return null;
  }
}

export interface TusUploadOptions {
  /** The host's web origin, "https://host:port". */
  origin: string;
  /** welcome.files.token */
  token: string;
  description: UploadDescription;
  size: number;
  /** The file as this runtime's fileReader takes it (a Blob in a browser; a Buffer or fs.ReadStream on Node). */
  input: unknown;
  /** An upload created earlier: resume it (HEAD for its offset) instead of creating a new one. */
  uploadUrl?: string | null;
  httpStack?: HttpStack;
  fileReader?: UploadOptions['fileReader'];
  retryDelays?: readonly number[];
  /** Bytes the host has (or is being sent) so far. */
  onProgress(doneBytes: number): void;
  /** The host cannot be reached, or asked to wait: tus-js-client tries again by itself after `delayMs`. */
  onWaiting(error: { code: ErrorCode; message: string }, delayMs: number): void;
  /** The upload exists on the host (its URL is known): kept to resume it after a failure or a restart. */
  onCreated(uploadUrl: string): void;
}

/** A running upload: resolves with the finished file's id, or rejects with a Transfer error. */
export interface TusUpload {
  readonly done: Promise<string>;
  /** The upload's URL on the host, once created. */
  readonly url: string | null;
  /** Stops sending; with `terminate`, also asks the host to forget the upload (tus termination), once, without retries. */
  abort(terminate: boolean): Promise<void>;
}

export function startTusUpload(options: TusUploadOptions): TusUpload {
  const retryDelays = [...(options.retryDelays ?? UPLOAD_RETRY_DELAYS)];
  const headers = { Authorization: `Bearer ${options.token}` };
  let upload!: Upload;
  // tus-js-client keeps its file source open after a failure or an abort (to resume); this upload
  // object will not resume (a retry makes a new one), so it closes the source then.
  let source: FileSource | null = null;
  const reader = options.fileReader;
  const fileReader: UploadOptions['fileReader'] = reader && {
    openFile: async (input, chunkSize) => (source = await reader.openFile(input, chunkSize)),
  };
  const done = new Promise<string>((resolve, reject) => {
    upload = new Upload(options.input as Blob, {
      endpoint: new URL(UPLOADS_PATH, options.origin).toString(),
      ...(options.uploadUrl ? { uploadUrl: options.uploadUrl } : {}),
      headers,
      metadata: uploadMetadata(options.description),
      uploadSize: options.size,
      retryDelays,
      // Resuming is by the URL this module keeps, never by tus-js-client's own storage (localStorage, a file).
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: false,
      ...(options.httpStack ? { httpStack: options.httpStack } : {}),
      ...(fileReader ? { fileReader } : {}),
      onShouldRetry(error, attempt) {
        const status = error.originalResponse?.getStatus() ?? 0;
        if (!isWorthRetrying(status) || untrusted(error)) return false;
        // tus-js-client reads the delay from this very array after this answer: a refusal for
        // "too many at once" waits long enough for another upload to finish.
        if (status === 429) retryDelays[attempt] = Math.max(retryDelays[attempt] ?? 0, TOO_MANY_RETRY_MS);
        options.onWaiting(uploadError(error), retryDelays[attempt] ?? 0);
        return true;
      },
      onUploadUrlAvailable() {
        if (upload.url) options.onCreated(upload.url);
      },
      onProgress: (sent) => options.onProgress(sent),
      onSuccess() {
        const id = fileIdOfUploadUrl(upload.url);
        if (id) resolve(id);
        else reject({ code: 'BEACON_ERR_FILE_REQUEST', message: errorMessage('BEACON_ERR_FILE_REQUEST') });
      },
      onError: (error) => reject(uploadError(error)),
    });
  });
  // A failure is reported through `done`; nobody awaiting it must not make it an unhandled rejection.
  done.catch(() => {}).finally(() => source?.close());
  upload.start();
  return {
    done,
    get url() {
      return upload.url;
    },
    async abort(terminate) {
      await upload.abort(false);
      source?.close();
      if (terminate && upload.url) await terminateUpload(upload.url, options.token, options.httpStack);
    },
  };
}

/** Asks the host to forget an unfinished upload (tus termination), once: a host that is away deletes it after a day anyway. */
export async function terminateUpload(url: string, token: string, httpStack?: HttpStack): Promise<void> {
  await Upload.terminate(url, {
    headers: { Authorization: `Bearer ${token}` },
    retryDelays: null,
    ...(httpStack ? { httpStack } : {}),
  }).catch(() => {});
}
