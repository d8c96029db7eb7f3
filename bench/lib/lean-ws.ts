/**
 * A lean WebSocket client over raw TCP, for benchmark members: thousands of
 * them live in one process, so the client must cost far less than any server
 * under test. It never decodes payloads into strings: it walks frame headers,
 * answers pings, and counts message markers (`~M~`) in text payload bytes.
 * A marker may be followed by a send time (`~M~<µs>~`) for latency runs.
 *
 * Frames it sends are masked with an all-zero key (valid; servers do not check
 * the key), so the payload goes out unchanged.
 *
 * Over TLS (`tls.fingerprint` given) it does what a Beacon client must
 * (docs/PROTOCOL.md, "Transport and security"): no CA check, and the host's
 * certificate fingerprint compared with the pinned one right after the
 * handshake, before the upgrade request is written.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export const MARK = Buffer.from('~M~');
const TILDE = 0x7e;
const M = 0x4d;
const PREFIX_BYTES = 64;

export interface LeanHandlers {
  /** A complete text frame: its first bytes (at most 64) and its length. */
  onFrame?(prefix: Buffer, length: number): void;
  /** `count` markers were found in the bytes just received; `times` holds their send times when timed. */
  onMarks?(count: number, times: number[] | null): void;
  onClose?(): void;
  /** The server pinged (and was answered): when its heartbeat reached this member. */
  onPing?(): void;
}

/** A wss:// member: the host's fingerprint (32 lowercase hex digits) it must present. */
export interface LeanTls {
  fingerprint: string;
}

/** A certificate's Beacon fingerprint: the first 16 bytes of the SHA-256 of its DER, as 32 lowercase hex digits. */
export function fingerprintOf(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').slice(0, 32);
}

export class LeanWs {
  readonly socket: Socket;
  open = false;
  closed = false;
  /** Parse the send time after each marker (latency mode). */
  timed = false;
  marks = 0;
  handlers: LeanHandlers;
  #handshake: Buffer | null = Buffer.alloc(0);
  #onOpen: ((error?: Error) => void) | null;
  // frame parser state
  readonly #hdr = Buffer.alloc(14);
  #hdrLen = 0;
  #hdrNeed = 2;
  #inFrame = false;
  #remaining = 0;
  #opcode = 0;
  #fin = true;
  #textLength = 0;
  #prefix = Buffer.alloc(PREFIX_BYTES);
  #prefixLen = 0;
  #control: Buffer[] = [];
  #messageOpcode = 0;
  #carry: Buffer | null = null;

  constructor(
    port: number,
    path: string,
    handlers: LeanHandlers,
    onOpen: (error?: Error) => void,
    tls: LeanTls | null = null,
  ) {
    this.handlers = handlers;
    this.#onOpen = onOpen;
    const upgrade = (): void => {
      this.socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    };
    if (tls) {
      // The pin is the trust: no CA check (the certificate is self-signed), the fingerprint instead.
      const secure: TLSSocket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
      this.socket = secure;
      secure.on('secureConnect', () => {
        const presented = fingerprintOf(secure.getPeerCertificate().raw);
        if (presented !== tls.fingerprint) {
          this.#fail(new Error(`host fingerprint ${presented}, expected ${tls.fingerprint}: nothing sent`));
          secure.destroy();
          return;
        }
        upgrade();
      });
    } else {
      this.socket = connect({ host: '127.0.0.1', port });
      this.socket.on('connect', upgrade);
    }
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.#data(chunk));
    this.socket.on('error', (error) => this.#fail(error));
    this.socket.on('close', () => {
      this.#fail(new Error('closed before the upgrade'));
      if (!this.closed) {
        this.closed = true;
        this.open = false;
        this.handlers.onClose?.();
      }
    });
  }

  #fail(error: Error): void {
    const onOpen = this.#onOpen;
    this.#onOpen = null;
    onOpen?.(error);
  }

  /** Sends one text frame. */
  send(text: string): void {
    this.socket.write(LeanWs.frame(text));
  }

  /** A masked (zero key) client text frame. */
  static frame(text: string): Buffer {
    const payload = Buffer.from(text);
    const n = payload.length;
    const head = n < 126 ? 6 : n < 65536 ? 8 : 14;
    const out = Buffer.allocUnsafe(head + n);
    out[0] = 0x81;
    if (n < 126) out[1] = 0x80 | n;
    else if (n < 65536) {
      out[1] = 0x80 | 126;
      out.writeUInt16BE(n, 2);
    } else {
      out[1] = 0x80 | 127;
      out.writeBigUInt64BE(BigInt(n), 2);
    }
    out.writeUInt32BE(0, head - 4);
    payload.copy(out, head);
    return out;
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  #data(chunk: Buffer): void {
    if (this.#handshake) {
      const all = this.#handshake.length ? Buffer.concat([this.#handshake, chunk]) : chunk;
      const end = all.indexOf('\r\n\r\n');
      if (end === -1) {
        this.#handshake = Buffer.from(all);
        return;
      }
      this.#handshake = null;
      const status = all.subarray(0, all.indexOf('\r\n')).toString();
      if (!status.includes(' 101')) {
        this.#fail(new Error(`upgrade refused: ${status}`));
        this.socket.destroy();
        return;
      }
      this.open = true;
      const onOpen = this.#onOpen;
      this.#onOpen = null;
      onOpen?.();
      if (all.length > end + 4) this.#parse(all.subarray(end + 4));
      return;
    }
    this.#parse(chunk);
  }

  #parse(buf: Buffer): void {
    let off = 0;
    const len = buf.length;
    while (off < len) {
      if (!this.#inFrame) {
        while (this.#hdrLen < this.#hdrNeed && off < len) this.#hdr[this.#hdrLen++] = buf[off++]!;
        if (this.#hdrLen < this.#hdrNeed) return;
        if (this.#hdrNeed === 2) {
          const b1 = this.#hdr[1]!;
          const l7 = b1 & 0x7f;
          this.#hdrNeed = 2 + (l7 === 126 ? 2 : l7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
          if (this.#hdrLen < this.#hdrNeed) continue;
        }
        const b0 = this.#hdr[0]!;
        const b1 = this.#hdr[1]!;
        const l7 = b1 & 0x7f;
        const length = l7 === 126 ? this.#hdr.readUInt16BE(2) : l7 === 127 ? Number(this.#hdr.readBigUInt64BE(2)) : l7;
        this.#fin = (b0 & 0x80) !== 0;
        this.#opcode = b0 & 0x0f;
        this.#hdrLen = 0;
        this.#hdrNeed = 2;
        this.#inFrame = true;
        this.#remaining = length;
        if (this.#opcode === 1 || this.#opcode === 2) {
          this.#messageOpcode = this.#opcode;
          this.#textLength = 0;
          this.#prefixLen = 0;
        }
        if (length === 0) this.#frameEnd();
        continue;
      }
      const n = Math.min(this.#remaining, len - off);
      const segment = buf.subarray(off, off + n);
      off += n;
      this.#remaining -= n;
      if (this.#opcode <= 2) {
        this.#textLength += n;
        if (this.#prefixLen < PREFIX_BYTES) {
          this.#prefixLen += segment.copy(this.#prefix, this.#prefixLen, 0, PREFIX_BYTES - this.#prefixLen);
        }
        if (this.#messageOpcode === 1) this.#scan(segment);
      } else {
        this.#control.push(Buffer.from(segment));
      }
      if (this.#remaining === 0) this.#frameEnd();
    }
  }

  #frameEnd(): void {
    this.#inFrame = false;
    const opcode = this.#opcode;
    if (opcode <= 2) {
      if (this.#fin && this.#messageOpcode === 1) {
        this.handlers.onFrame?.(this.#prefix.subarray(0, this.#prefixLen), this.#textLength);
      }
      return;
    }
    const payload = Buffer.concat(this.#control);
    this.#control = [];
    if (opcode === 9) {
      // ping → pong with the same payload (≤ 125 bytes)
      const out = Buffer.alloc(6 + payload.length);
      out[0] = 0x8a;
      out[1] = 0x80 | payload.length;
      payload.copy(out, 6);
      if (!this.socket.destroyed) this.socket.write(out);
      this.handlers.onPing?.();
    } else if (opcode === 8) {
      this.closed = true;
      this.open = false;
      this.socket.end();
      this.handlers.onClose?.();
    }
  }

  /** Counts markers in text payload bytes; a marker split across reads is carried to the next. */
  #scan(segment: Buffer): void {
    let buf = segment;
    if (this.#carry) {
      buf = Buffer.concat([this.#carry, segment]);
      this.#carry = null;
    }
    let pos = 0;
    let count = 0;
    let times: number[] | null = null;
    const len = buf.length;
    for (;;) {
      const i = buf.indexOf(MARK, pos);
      if (i === -1) break;
      if (this.timed) {
        const j = buf.indexOf(TILDE, i + 3);
        if (j === -1) {
          this.#carry = Buffer.from(buf.subarray(i));
          pos = len;
          break;
        }
        let t = 0;
        for (let k = i + 3; k < j; k++) t = t * 10 + (buf[k]! - 48);
        (times ??= []).push(t);
        pos = j + 1;
      } else {
        pos = i + 3;
      }
      count++;
    }
    if (!this.#carry && len > pos) {
      // Keep a tail that may be the start of a marker: "~" or "~M".
      if (buf[len - 1] === TILDE) this.#carry = Buffer.from([TILDE]);
      else if (len - 2 >= pos && buf[len - 2] === TILDE && buf[len - 1] === M) this.#carry = Buffer.from([TILDE, M]);
    }
    if (count > 0) {
      this.marks += count;
      this.handlers.onMarks?.(count, times);
    }
  }
}
