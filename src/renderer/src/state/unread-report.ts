/** Rises are reported this long after the first one, so a burst of messages is one call. */
export const UNREAD_REPORT_DELAY_MS = 250;

/**
 * Tells main the unread total, which it shows as the window title and the
 * dock or taskbar badge. Reading is reported at once (the badge should clear
 * as soon as the person looks); rises wait a moment and go out together.
 */
export class UnreadReport {
  readonly #send: (total: number) => void;
  readonly #total: () => number;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(send: (total: number) => void, total: () => number) {
    this.#send = send;
    this.#total = total;
  }

  /** The total rose: report it shortly, with whatever else arrives meanwhile. */
  soon(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => this.now(), UNREAD_REPORT_DELAY_MS);
  }

  /** Reports the total now; a report still waiting is folded into this one. */
  now(): void {
    this.stop();
    this.#send(this.#total());
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
