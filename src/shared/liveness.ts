/**
 * Whether the host is still there: a protocol-level ping (a browser cannot
 * send WebSocket pings) that measures the round-trip time, and a host silent
 * for two intervals counts as gone, without waiting for TCP to notice a
 * crashed machine or a pulled cable.
 */
export class Liveness {
  readonly #now: () => number;
  readonly #ping: (id: number, t: number) => void;
  readonly #onSilent: () => void;
  #timer: ReturnType<typeof setInterval> | null = null;
  #lastHeardAt = 0;
  #pingId = 0;
  #rttMs: number | null = null;

  constructor(options: { now: () => number; ping: (id: number, t: number) => void; onSilent: () => void }) {
    this.#now = options.now;
    this.#ping = options.ping;
    this.#onSilent = options.onSilent;
  }

  /** The last measured round-trip time, kept across reconnects. */
  get rttMs(): number | null {
    return this.#rttMs;
  }

  start(intervalMs: number): void {
    this.stop();
    this.#lastHeardAt = this.#now();
    this.#timer = setInterval(() => {
      if (this.#now() - this.#lastHeardAt > 2 * intervalMs) {
        this.stop();
        this.#onSilent();
        return;
      }
      this.#ping(++this.#pingId, this.#now());
    }, intervalMs);
  }

  /** Anything arrived from the host. */
  heard(): void {
    this.#lastHeardAt = this.#now();
  }

  /** A pong for the ping sent at `sentAt`: returns the round-trip time. */
  pong(sentAt: number): number {
    this.#rttMs = Math.max(0, this.#now() - sentAt);
    return this.#rttMs;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
