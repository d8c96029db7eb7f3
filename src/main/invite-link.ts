/**
 * beacon: links handed to the app by the operating system: in a second
 * instance's command line (Windows, Linux), in 'open-url' (macOS), or in the
 * first instance's own command line when the link started Beacon. Each is
 * read with parseBeaconLink; a valid one becomes one `openInvite` event (the
 * interface fills its join form in with it), anything else is dropped and
 * logged without the link itself (it may carry a join code).
 *
 * Electron-free so it can be tested alone; index.ts wires it to the app.
 */
import type { ChatEvent } from '../shared/chat-api.ts';
import { parseBeaconLink } from '../shared/address.ts';

export const PROTOCOL_SCHEME = 'beacon';

/** True for a command-line argument that claims to be a beacon: link (valid or not). */
const claimsBeaconLink = (arg: unknown): arg is string => typeof arg === 'string' && /^beacon:/i.test(arg);

/**
 * The one beacon: link among command-line arguments; null when there is none, or more
 * than one (the operating system passes exactly one: several are someone else's doing).
 */
export function beaconLinkInArgv(argv: readonly unknown[]): string | null {
  const links = argv.filter(claimsBeaconLink);
  return links.length === 1 ? links[0]! : null;
}

export interface InviteOpenerOptions {
  /** Sends the event to the window's page. */
  emit(event: ChatEvent): void;
  /** Brings the window forward. */
  focus(): void;
  /** Where refusals are told (never with the link). */
  log(line: string): void;
}

/**
 * Holds a link that arrives before the page can listen (a cold start from a link)
 * and delivers it once the page has loaded; later ones go at once.
 */
export class InviteOpener {
  readonly #options: InviteOpenerOptions;
  #pageReady = false;
  #pending: ChatEvent | null = null;

  constructor(options: InviteOpenerOptions) {
    this.#options = options;
  }

  /** A link from outside: true when it was a valid beacon: link and is on its way to the page. */
  open(raw: unknown): boolean {
    if (typeof raw !== 'string') return false;
    const parsed = parseBeaconLink(raw);
    if (!parsed.ok) {
      this.#options.log(`Beacon: ignored a beacon: link (${raw.length} characters): ${parsed.problem}`);
      return false;
    }
    const event: ChatEvent = { type: 'openInvite', address: parsed.address, code: parsed.code };
    this.#options.focus();
    if (this.#pageReady) this.#options.emit(event);
    else this.#pending = event;
    return true;
  }

  /** The page has loaded (again): it listens now; a link held until then goes. */
  pageReady(): void {
    this.#pageReady = true;
    const pending = this.#pending;
    this.#pending = null;
    if (pending) this.#options.emit(pending);
  }

  /** The page is gone or reloading: hold links until it is back. */
  pageGone(): void {
    this.#pageReady = false;
  }
}
