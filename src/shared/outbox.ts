/**
 * This member's own messages until the host acknowledges them: queued while
 * offline, written in order as fast as the room's rate allows, written again
 * after a reconnect (the host stores a clientId once, so a resend is safe),
 * and refused at once when they could never be sent.
 */
import type { ConversationId, OutgoingMessage } from './chat-api.ts';
import { type ErrorCode, errorMessage } from './errors.ts';
import { randomId } from './ids.ts';
import { DEFAULT_CHANNEL, DEFAULT_ROOM_LIMITS, encode, WIRE_LIMITS } from './protocol.ts';
import { TokenBucket } from './token-bucket.ts';

/** A little under the host's rate, so clocks drifting apart never trip its limit. */
const RATE_MARGIN = 0.9;
const BURST_MARGIN = 5;

/** What a v1.5 `send` carries besides its text: written the same in every resend of the message. */
export interface SendExtras {
  /** A channel of the room ("c_…"); absent for the default channel and direct messages. */
  channel?: string;
  /** The seq of the message this one answers. */
  replyTo?: number;
  /** Ids of the members the text mentions. */
  mentions?: string[];
}

interface Queued extends OutgoingMessage {
  /** The `send` frame, encoded once (with its file ids once they are all uploaded). */
  frame: string;
  to: string | null;
  extras: SendExtras;
  /** Waits for its files' uploads: written only once `release` gives their ids. */
  held: boolean;
  /** Written on the current connection and not answered yet. */
  inFlight: boolean;
}

export interface OutboxOptions {
  /** Writes a frame on the current connection. */
  write: (frame: string) => void;
  now: () => number;
}

export class Outbox {
  readonly #write: (frame: string) => void;
  readonly #now: () => number;
  readonly #queue = new Map<string, Queued>();
  #maxMessageBytes: number = DEFAULT_ROOM_LIMITS.maxMessageBytes;
  #bucket: TokenBucket;
  #connected = false;
  #pumpTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: OutboxOptions) {
    this.#write = options.write;
    this.#now = options.now;
    this.#bucket = Outbox.#bucketFor(DEFAULT_ROOM_LIMITS, this.#now());
  }

  /** Messages not acknowledged yet, in the order typed. */
  list(): OutgoingMessage[] {
    return [...this.#queue.values()].map(publicView);
  }

  has(clientId: string): boolean {
    return this.#queue.has(clientId);
  }

  /**
   * Queues a message, or returns it failed when it could never be sent (empty, broken text, too
   * large). With `transfers` (the uploads of its files) it waits, pending, until `release`.
   */
  add(
    text: string,
    to: string | null,
    conversation: ConversationId,
    transfers?: string[],
    extras: SendExtras = {},
  ): OutgoingMessage {
    const clientId = randomId('c_');
    const kept = keptExtras(extras);
    const frame = sendFrame(clientId, to, text, kept);
    const held = transfers !== undefined && transfers.length > 0;
    const message: Queued = {
      clientId,
      conversation,
      text,
      ts: this.#now(),
      status: 'pending',
      frame,
      to,
      extras: kept,
      held,
      inFlight: false,
      ...(held ? { transfers: [...transfers] } : {}),
      ...(kept.replyTo === undefined ? {} : { replyTo: kept.replyTo }),
      ...(kept.mentions === undefined ? {} : { mentions: kept.mentions }),
    };
    const refusal = this.#refusal(text, frame, held);
    if (refusal) return publicView({ ...message, status: 'failed', error: errorMessage(refusal) });
    this.#queue.set(clientId, message);
    this.pump();
    return publicView(message);
  }

  /**
   * A held message's files are all uploaded: it is written with their ids (and, after a reconnect,
   * written again with the same clientId, which the host stores once). False when it cannot go.
   */
  release(clientId: string, files: string[]): boolean {
    const message = this.#queue.get(clientId);
    if (!message?.held) return false;
    const { to, text, extras } = message;
    message.frame = sendFrame(clientId, to, text, extras, files);
    message.held = false;
    const refusal = this.#refusal(text, message.frame, files.length > 0);
    if (refusal) {
      message.status = 'failed';
      message.error = errorMessage(refusal);
      return false;
    }
    this.pump();
    return true;
  }

  /** Drops a message that will not be sent (its files were cancelled). */
  remove(clientId: string): boolean {
    return this.#queue.delete(clientId);
  }

  /** Puts a failed message back in line; false when there is no such failed message. */
  retry(clientId: string): boolean {
    const message = this.#queue.get(clientId);
    if (!message || message.status !== 'failed') return false;
    message.status = 'pending';
    message.inFlight = false;
    delete message.error;
    this.pump();
    return true;
  }

  /** The host stored it: it leaves the outbox. True when it was ours and waiting. */
  acknowledge(clientId: string): boolean {
    return this.#queue.delete(clientId);
  }

  /** The host refused it for good: it stays, failed, until retried. */
  fail(clientId: string, error: string): boolean {
    const message = this.#queue.get(clientId);
    if (!message) return false;
    message.status = 'failed';
    message.error = error;
    message.inFlight = false;
    return true;
  }

  /** The host refused it for rate only: written again after `retryAfterMs`. */
  throttled(clientId: string, retryAfterMs: number): boolean {
    const message = this.#queue.get(clientId);
    if (!message) return false;
    setTimeout(() => {
      message.inFlight = false;
      this.pump();
    }, retryAfterMs);
    return true;
  }

  /** A connection was welcomed: the room's limits are known and pending messages go out. */
  connected(limits: { maxMessageBytes: number; messagesPerSecond: number; messageBurst: number }): void {
    this.#connected = true;
    this.#maxMessageBytes = limits.maxMessageBytes;
    this.#bucket = Outbox.#bucketFor(limits, this.#now());
    this.pump();
  }

  /** The connection is gone: whatever was written may or may not have arrived, so all of it is written again. */
  disconnected(): void {
    this.#connected = false;
    if (this.#pumpTimer) clearTimeout(this.#pumpTimer);
    this.#pumpTimer = null;
    for (const message of this.#queue.values()) message.inFlight = false;
  }

  /** Typing notices share the message budget and are dropped, not delayed, when it is spent. */
  takeForTyping(): boolean {
    return this.#connected && this.#bucket.take(this.#now()).ok;
  }

  /**
   * Edits, deletions, reactions and channel requests (v1.5) share the message budget at the host: one takes a
   * token here, or answers how long until one is free (the request then fails at once, rather
   * than making the host refuse it and a queued message after it).
   */
  takeForRequest(): { ok: true } | { ok: false; retryAfterMs: number } {
    return this.#bucket.take(this.#now());
  }

  /** Writes pending messages in order, as fast as the room's rate limit allows. */
  pump(): void {
    if (this.#pumpTimer || !this.#connected) return;
    for (const message of this.#queue.values()) {
      if (message.status !== 'pending' || message.inFlight || message.held) continue;
      const token = this.#bucket.take(this.#now());
      if (!token.ok) {
        this.#pumpTimer = setTimeout(() => {
          this.#pumpTimer = null;
          this.pump();
        }, token.retryAfterMs);
        return;
      }
      message.inFlight = true;
      this.#write(message.frame);
    }
  }

  /** `withFiles`: files go with it, so an empty caption is fine. */
  #refusal(text: string, frame: string, withFiles = false): ErrorCode | null {
    if (text.trim().length === 0 && !withFiles) return 'BEACON_ERR_EMPTY';
    if (!text.isWellFormed()) return 'BEACON_ERR_BAD_TEXT';
    if (text.length > WIRE_LIMITS.textChars || new TextEncoder().encode(frame).length > this.#maxMessageBytes) {
      return 'BEACON_ERR_TOO_LARGE';
    }
    return null;
  }

  static #bucketFor(limits: { messagesPerSecond: number; messageBurst: number }, now: number): TokenBucket {
    const burst = Math.max(1, limits.messageBurst - BURST_MARGIN);
    return new TokenBucket(limits.messagesPerSecond * RATE_MARGIN, burst, now);
  }
}

function publicView({
  clientId,
  conversation,
  text,
  ts,
  status,
  error,
  transfers,
  replyTo,
  mentions,
}: OutgoingMessage): OutgoingMessage {
  return {
    clientId,
    conversation,
    text,
    ts,
    status,
    ...(error === undefined ? {} : { error }),
    ...(transfers === undefined ? {} : { transfers: [...transfers] }),
    ...(replyTo === undefined ? {} : { replyTo }),
    ...(mentions === undefined ? {} : { mentions: [...mentions] }),
  };
}

/** The extras as they go on the wire: the default channel unnamed, no empty list of mentions. */
function keptExtras({ channel, replyTo, mentions }: SendExtras): SendExtras {
  return {
    ...(channel === undefined || channel === DEFAULT_CHANNEL ? {} : { channel }),
    ...(replyTo === undefined ? {} : { replyTo }),
    ...(mentions === undefined || mentions.length === 0 ? {} : { mentions: [...new Set(mentions)] }),
  };
}

function sendFrame(
  clientId: string,
  to: string | null,
  text: string,
  extras: SendExtras,
  files: string[] = [],
): string {
  return encode({ type: 'send', clientId, to, text, ...extras, ...(files.length > 0 ? { files } : {}) });
}
