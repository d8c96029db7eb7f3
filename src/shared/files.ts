/**
 * Files ride beside the messages (protocol v1.4): uploaded over the host's HTTPS origin with tus 1.0
 * (a standard resumable-upload protocol), fetched with a plain GET, and referred to from a `send` by
 * their ids. This module is the shared vocabulary of both sides; docs/PROTOCOL.md §7 is its prose.
 */
import type { ErrorCode } from './errors.ts';

/** Where the file endpoints live on the host's origin (the welcome repeats it as `files.path`). */
export const FILES_PATH = '/files';
/** tus creation is a POST here; each upload then lives at `${UPLOADS_PATH}/<file id>`. */
export const UPLOADS_PATH = `${FILES_PATH}/uploads`;
/** The tus version spoken. */
export const TUS_VERSION = '1.0.0';

/** Upload-Metadata keys a client sends with the creation POST (values base64, as tus says). */
export const UPLOAD_METADATA = {
  /** The file's name (required); the host sanitises it. */
  name: 'name',
  /** The declared media type, for display only (optional). */
  type: 'type',
  /** 'room', or the member id of the other person of a direct conversation (required). */
  conversation: 'conversation',
  /** Lower-case hex SHA-256 of the whole file (optional): the host refuses the upload if its bytes differ. */
  sha256: 'sha256',
  /** The id of a finished upload of the same member that is a small preview image of this one (optional). */
  preview: 'preview',
} as const;

/**
 * Image types the host serves inline (with their own Content-Type) when it recognised the bytes
 * itself; every other file is served as application/octet-stream with Content-Disposition: attachment.
 * SVG is never among them: it can carry script.
 */
export const SAFE_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type SafeImageType = (typeof SAFE_IMAGE_TYPES)[number];

/** A preview must be a safe image this small, at most this many pixels on its longer side. */
export const PREVIEW_LIMITS = { maxBytes: 256 * 1024, maxSide: 640 } as const;

/** The host's file limits unless its operator changes them (host options; the welcome announces two). */
export const DEFAULT_FILE_LIMITS = {
  /** Largest single file. */
  maxFileBytes: 4 * 1024 ** 3,
  /** All stored files of a room together (a member's identical files count once, each at least 4 KiB). */
  roomQuotaBytes: 64 * 1024 ** 3,
  /** Unfinished uploads one member may have at a time. */
  maxUploadsInFlight: 4,
  /** An unfinished upload that receives no byte for this long is deleted (it no longer holds its reservation). */
  stalledUploadMs: 60 * 60 * 1000,
  /** Downloads one member may have running at a time. */
  maxDownloadsInFlight: 8,
  /** The host keeps this much of its disk free whatever the quota says. */
  diskReserveBytes: 512 * 1024 ** 2,
  /** An unfinished upload nobody touched for this long is deleted. */
  abandonedUploadMs: 24 * 60 * 60 * 1000,
} as const;

/** The HTTP status each file error is answered with; the body is {"code", "message"} as JSON. */
export const FILE_ERROR_STATUS = {
  BEACON_ERR_FILE_REQUEST: 400,
  BEACON_ERR_FILE_AUTH: 401,
  BEACON_ERR_FILE_NOT_FOUND: 404,
  BEACON_ERR_FILE_TOO_LARGE: 413,
  BEACON_ERR_TOO_MANY_UPLOADS: 429,
  BEACON_ERR_FILE_CORRUPT: 460,
  BEACON_ERR_ROOM_FILES_FULL: 507,
  BEACON_ERR_HOST_DISK_FULL: 507,
} as const satisfies Partial<Record<ErrorCode, number>>;

/** The body of every refused file request. */
export interface FileErrorBody {
  code: ErrorCode;
  message: string;
}

/** The path of a stored file's bytes: GET (with Range) or HEAD. */
export const filePath = (id: string): string => `${FILES_PATH}/${id}`;

/**
 * A URL that fetches a file with the token in the query, for what cannot send a header (an <img>,
 * the browser's own download). `origin` is "https://host:port".
 */
export function fileUrl(origin: string, id: string, token: string, options: { download?: boolean } = {}): string {
  const url = new URL(filePath(id), origin);
  url.searchParams.set('t', token);
  if (options.download) url.searchParams.set('download', '1');
  return url.toString();
}

/** The web origin (https://host:port) of a room address (wss://host:port/...). */
export function originOfRoom(roomUrl: string): string {
  const url = new URL(roomUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url.origin;
}

/**
 * The desktop app's scheme for pictures of the room: the window loads `beacon-file://file/<id>`,
 * and main fetches it from the host with the file token (which the page never holds).
 */
export const DESKTOP_FILE_SCHEME = 'beacon-file';
/** A file's address under DESKTOP_FILE_SCHEME. */
export const desktopFileUrl = (id: string): string => `${DESKTOP_FILE_SCHEME}://file/${id}`;

/**
 * What a notification says of a message: its text, or, for files sent without a caption, their
 * names ("plans.pdf, photo.jpg"), so a picture sent in a direct message is not an empty bubble.
 */
export function messageGist(message: { text: string; files?: readonly { name: string }[] }): string {
  if (message.text.trim() !== '' || !message.files?.length) return message.text;
  return message.files.map((file) => file.name).join(', ');
}
