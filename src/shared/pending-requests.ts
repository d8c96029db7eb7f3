/**
 * Requests about existing messages and channels (v1.5: edit, delete, react, channel, search) and
 * about the member list (v1.6: members, watch) while they wait for the host's answer: each has a
 * `ref` of its own, settled by the frame that echoes it (`done`, `searchResults`, `membersPage`, or
 * an `error`), by a timeout, or by the connection ending. Unlike messages they are never queued
 * while offline: an edit or a search made then would land late, or twice, after the person moved
 * on, so they fail at once and the person decides.
 */
import type { Result } from './chat-api.ts';
import { type ErrorCode, errorMessage } from './errors.ts';
import { randomId } from './ids.ts';

/** How long the host has to answer a request before it counts as lost. */
export const REQUEST_TIMEOUT_MS = 10_000;

type Failure = Extract<Result<never>, { ok: false }>['error'];

interface Waiting {
  /** What answers it: 'done' for changes, 'searchResults' for a search, 'membersPage' for members and watch (v1.6). */
  answer: 'done' | 'searchResults' | 'membersPage';
  settle: (result: Result<unknown>) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class PendingRequests {
  readonly #waiting = new Map<string, Waiting>();
  readonly #timeoutMs: number;

  constructor(timeoutMs = REQUEST_TIMEOUT_MS) {
    this.#timeoutMs = timeoutMs;
  }

  get size(): number {
    return this.#waiting.size;
  }

  has(ref: string): boolean {
    return this.#waiting.has(ref);
  }

  /**
   * A fresh ref and the promise of its answer. `write` sends the request carrying the ref; it is
   * called after the ref is registered, so even an answer in the same tick finds it.
   */
  start<T>(answer: Waiting['answer'], write: (ref: string) => void): Promise<Result<T>> {
    const ref = randomId('r_');
    const promise = new Promise<Result<T>>((resolve) => {
      const timer = setTimeout(() => this.fail(ref, 'BEACON_ERR_TIMEOUT'), this.#timeoutMs);
      this.#waiting.set(ref, { answer, settle: resolve as (result: Result<unknown>) => void, timer });
    });
    write(ref);
    return promise;
  }

  /**
   * The answer to `ref` arrived. False (and nothing settled) when no request waits for it or it is
   * the wrong kind of answer: a host answering a search with `done` settles nothing.
   */
  answer(ref: string, kind: Waiting['answer'], value: unknown): boolean {
    const waiting = this.#waiting.get(ref);
    if (!waiting || waiting.answer !== kind) return false;
    this.#settle(ref, waiting, { ok: true, value });
    return true;
  }

  /** The host refused `ref` (or it timed out): false when no request waits for it. */
  fail(ref: string, code: ErrorCode, message = errorMessage(code), retryAfterMs?: number): boolean {
    const waiting = this.#waiting.get(ref);
    if (!waiting) return false;
    const error: Failure = { code, message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    this.#settle(ref, waiting, { ok: false, error });
    return true;
  }

  /** The connection ended: whatever was asked may or may not have been done, and no answer will come. */
  failAll(code: ErrorCode): void {
    for (const ref of [...this.#waiting.keys()]) this.fail(ref, code);
  }

  #settle(ref: string, waiting: Waiting, result: Result<unknown>): void {
    clearTimeout(waiting.timer);
    this.#waiting.delete(ref);
    waiting.settle(result);
  }
}
