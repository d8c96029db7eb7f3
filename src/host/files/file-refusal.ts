/**
 * How the file endpoints say no: one stable code from the shared error table, its HTTP status
 * (FILE_ERROR_STATUS) and a body `{"code", "message"}` a client can show as it is. A FileRefusal
 * also has the `status_code` and `body` that @tus/server sends for an error thrown from its hooks,
 * so a refusal reads the same whether tus or this host answered.
 */
import type { ServerResponse } from 'node:http';
import { type ErrorCode, errorMessage } from '../../shared/errors.ts';
import { FILE_ERROR_STATUS } from '../../shared/files.ts';

/** A code with an HTTP status, or one of the two general ones a file request can also meet. */
export type FileErrorCode = keyof typeof FILE_ERROR_STATUS | 'BEACON_ERR_INTERNAL' | 'BEACON_ERR_NO_FILES';

const STATUS: Record<FileErrorCode, number> = {
  ...FILE_ERROR_STATUS,
  BEACON_ERR_INTERNAL: 500,
  BEACON_ERR_NO_FILES: 404,
};

export const statusOf = (code: FileErrorCode): number => STATUS[code];

export const refusalBody = (code: ErrorCode): string => JSON.stringify({ code, message: errorMessage(code) });

/** Headers every refusal carries: JSON that no browser may read as anything else. */
export const REFUSAL_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
} as const;

export class FileRefusal extends Error {
  readonly code: FileErrorCode;
  /** Read by @tus/server when this is thrown from one of its hooks. */
  readonly status_code: number;
  readonly body: string;

  constructor(code: FileErrorCode, detail?: string) {
    super(detail ? `${code}: ${detail}` : code);
    this.code = code;
    this.status_code = statusOf(code);
    this.body = refusalBody(code);
  }
}

/** Answers a request with a refusal (unless the response has already begun, then it is cut). */
export function refuse(
  res: ServerResponse,
  code: FileErrorCode,
  options: { headers?: Record<string, string>; status?: number } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = refusalBody(code);
  res.writeHead(options.status ?? statusOf(code), {
    ...REFUSAL_HEADERS,
    ...options.headers,
    'content-length': Buffer.byteLength(body),
    // A refused request's unread body (a hostile PATCH of gigabytes) is not drained: the connection ends.
    connection: 'close',
  });
  res.end(body);
}

/**
 * The refusal for an HTTP status @tus/server chose itself (a bad header, a wrong offset, a missing
 * upload), so its plain-text bodies become the same JSON as ours.
 */
export function codeForTusStatus(status: number): FileErrorCode {
  switch (status) {
    case 401:
      return 'BEACON_ERR_FILE_AUTH';
    case 404:
    case 410:
      return 'BEACON_ERR_FILE_NOT_FOUND';
    case 413:
      return 'BEACON_ERR_FILE_TOO_LARGE';
    case 429:
      return 'BEACON_ERR_TOO_MANY_UPLOADS';
    case 460:
      return 'BEACON_ERR_FILE_CORRUPT';
    case 507:
      return 'BEACON_ERR_HOST_DISK_FULL';
    default:
      return status >= 500 ? 'BEACON_ERR_INTERNAL' : 'BEACON_ERR_FILE_REQUEST';
  }
}
