/**
 * The smallest Redis client the prototype needs: RESP2 over one TCP socket,
 * commands pipelined (each written at once, replies matched in order), and a
 * subscriber mode that hands each pub/sub payload to a callback as bytes.
 *
 * Hand-written only because the bench must type-check in a fresh clone before
 * `npm ci --prefix bench` has run; a real site would use node-redis or ioredis,
 * which pipeline the same way. Redis itself is the real server from Debian.
 */
import { connect, type Socket } from 'node:net';

export type Reply = string | number | Buffer | null | Reply[] | Error;

const CRLF = Buffer.from('\r\n');

/** One command as RESP: an array of bulk strings. */
export function encodeCommand(args: (string | Buffer | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

/**
 * Parses one reply from `buf` at `at`; returns it and where it ended, or null
 * when the bytes are not all there yet (the caller waits for more).
 */
function parse(buf: Buffer, at: number): { value: Reply; end: number } | null {
  const lineEnd = buf.indexOf(CRLF, at);
  if (lineEnd === -1) return null;
  const kind = buf[at];
  const line = buf.toString('latin1', at + 1, lineEnd);
  const next = lineEnd + 2;
  switch (kind) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: new Error(line), end: next };
    case 0x3a: // :
      return { value: Number(line), end: next };
    case 0x24: {
      // $
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buf.length < next + length + 2) return null;
      return { value: buf.subarray(next, next + length), end: next + length + 2 };
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let end = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, end);
        if (!item) return null;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`RESP: unexpected byte ${kind} at ${at}`);
  }
}

export class Resp {
  readonly #socket: Socket;
  // A queue by index: Array.shift() is O(n), and a burst has thousands of replies in flight.
  #waiting: { resolve: (value: Reply) => void; reject: (error: Error) => void }[] = [];
  #head = 0;
  #corked = false;
  #pending: Buffer = Buffer.alloc(0);
  /** Set by subscribe(): every pushed `message` goes here instead of to a waiting command. */
  #onMessage: ((channel: string, payload: Buffer) => void) | null = null;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#data(chunk));
    socket.on('close', () => {
      for (const waiter of this.#waiting.slice(this.#head)) waiter.reject(new Error('redis connection closed'));
      this.#waiting = [];
      this.#head = 0;
    });
  }

  static open(port: number): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('error', () => {});
        resolve(new Resp(socket));
      });
    });
  }

  /** Sends one command now (pipelined behind any in flight) and resolves with its reply. */
  command(...args: (string | Buffer | number)[]): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      // Commands issued in the same tick leave in one write, as node-redis does.
      if (!this.#corked) {
        this.#corked = true;
        this.#socket.cork();
        process.nextTick(() => {
          this.#corked = false;
          this.#socket.uncork();
        });
      }
      this.#socket.write(encodeCommand(args));
    });
  }

  /** Turns this connection into a subscriber: it can run no other command afterwards. */
  async subscribe(channel: string, onMessage: (channel: string, payload: Buffer) => void): Promise<void> {
    const confirmed = this.command('SUBSCRIBE', channel);
    this.#onMessage = onMessage;
    await confirmed;
  }

  close(): void {
    this.#socket.destroy();
  }

  #data(chunk: Buffer): void {
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const reply = at < buf.length ? parse(buf, at) : null;
      if (!reply) break;
      at = reply.end;
      const value = reply.value;
      if (
        this.#onMessage &&
        Array.isArray(value) &&
        value.length === 3 &&
        Buffer.isBuffer(value[0]) &&
        value[0].toString() === 'message'
      ) {
        this.#onMessage(String(value[1]), value[2] as Buffer);
        continue;
      }
      const waiter = this.#waiting[this.#head];
      if (!waiter) continue;
      this.#head++;
      if (this.#head === this.#waiting.length) {
        this.#waiting = [];
        this.#head = 0;
      } else if (this.#head > 4096 && this.#head * 2 > this.#waiting.length) {
        this.#waiting = this.#waiting.slice(this.#head);
        this.#head = 0;
      }
      if (value instanceof Error) waiter.reject(value);
      else waiter.resolve(value);
    }
    // Keep the unparsed tail as its own copy, so the big chunk it came from can be freed.
    buf = buf.subarray(at);
    this.#pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }
}
