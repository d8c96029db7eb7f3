import type { Socket } from 'node:net';
import { guardKey } from './join-guard.ts';

/**
 * Admission at the TCP level, before a connection has said anything: a flood
 * of sockets that never send a byte must not fill the host's file descriptors
 * and keep people out.
 *
 * - Each address (an IPv6 /64 counts as one) may hold `perAddress` sockets.
 * - The whole host holds at most `total`; when full, the oldest socket that has
 *   not joined is closed to make room, so an idle flood only ever delays itself.
 * - A socket that sends no request or upgrade within `handshakeTimeoutMs` is closed.
 *
 * The host's own machine (exactly 127.0.0.1 and ::1) is not counted per
 * address: local tools and the benchmark connect from there. Other loopback
 * addresses (127.0.0.2 …) are counted like any LAN address, which is how the
 * tests play an attacker with many addresses.
 */
export interface ConnectionGateOptions {
  total: number;
  perAddress: number;
  handshakeTimeoutMs: number;
}

interface Entry {
  key: string;
  /** The socket has said something (an HTTP request or an upgrade). */
  spoke: boolean;
  /** A member joined over it: never closed to make room. */
  joined: boolean;
  timer: ReturnType<typeof setTimeout> | null;
}

export class ConnectionGate {
  readonly #options: ConnectionGateOptions;
  /** In arrival order: the first idle entry is the oldest. */
  readonly #sockets = new Map<Socket, Entry>();
  readonly #perAddress = new Map<string, number>();

  constructor(options: ConnectionGateOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#sockets.size;
  }

  /** Called for every new TCP connection; closes it and returns false if it may not stay. */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? 'unknown';
    const key = guardKey(address);
    const counted = !isHostsOwnAddress(address);
    if (counted && (this.#perAddress.get(key) ?? 0) >= this.#options.perAddress) {
      socket.destroy();
      return false;
    }
    if (this.#sockets.size >= this.#options.total && !this.#evictOneIdle()) {
      socket.destroy();
      return false;
    }
    const entry: Entry = { key: counted ? key : '', spoke: false, joined: false, timer: null };
    entry.timer = setTimeout(() => {
      if (!entry.spoke) socket.destroy();
    }, this.#options.handshakeTimeoutMs);
    entry.timer.unref();
    this.#sockets.set(socket, entry);
    if (counted) this.#perAddress.set(key, (this.#perAddress.get(key) ?? 0) + 1);
    socket.once('close', () => this.#forget(socket));
    return true;
  }

  /** The socket sent an HTTP request or an upgrade; from here on the HTTP server's and the hello's timeouts apply. */
  spoke(socket: Socket): void {
    const entry = this.#sockets.get(socket);
    if (!entry || entry.spoke) return;
    entry.spoke = true;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
  }

  /** A member joined over this socket. */
  joined(socket: Socket): void {
    const entry = this.#sockets.get(socket);
    if (entry) entry.joined = true;
  }

  /** Closes every socket held (the host is stopping). */
  closeAll(): void {
    for (const socket of [...this.#sockets.keys()]) socket.destroy();
  }

  #evictOneIdle(): boolean {
    for (const [socket, entry] of this.#sockets) {
      if (entry.joined) continue;
      socket.destroy();
      this.#forget(socket);
      return true;
    }
    return false;
  }

  #forget(socket: Socket): void {
    const entry = this.#sockets.get(socket);
    if (!entry) return;
    this.#sockets.delete(socket);
    if (entry.timer) clearTimeout(entry.timer);
    if (!entry.key) return;
    const left = (this.#perAddress.get(entry.key) ?? 1) - 1;
    if (left <= 0) this.#perAddress.delete(entry.key);
    else this.#perAddress.set(entry.key, left);
  }
}

/** Exactly this machine's loopback (not all of 127/8): see the class comment. */
export function isHostsOwnAddress(address: string): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}
