import type { Result } from './chat-api.ts';
import { type ErrorCode, errorMessage } from './errors.ts';

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

/** A refusal with its stable code and, unless told otherwise, the code's own sentence. */
export const fail = <T>(code: ErrorCode, message: string = errorMessage(code), retryAfterMs?: number): Result<T> => ({
  ok: false,
  error: retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs },
});
