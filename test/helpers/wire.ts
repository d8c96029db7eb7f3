/**
 * What a listener on the LAN can read from a capture: the pcap's TCP
 * connections put back together byte stream by byte stream, and the WebSocket
 * frames in them unmasked (a client's mask is in the frame itself: it hides
 * nothing from a listener, it only stops caching proxies from being confused).
 * Enough of pcap, Ethernet, IPv4, TCP, WebSocket and TLS framing for a test to
 * say "this text crossed the wire" or "every byte crossed inside TLS records".
 */

/** One direction of one TCP connection, e.g. "10.77.0.2:51234 > 10.77.0.1:4747". */
export interface TcpStream {
  from: string;
  to: string;
  bytes: Buffer;
  /** Bytes of the stream the capture missed (left as zeros in `bytes`). */
  missing: number;
}

/** Reads a classic pcap (tcpdump -w) of Ethernet frames into TCP streams over IPv4. */
export function tcpStreams(pcap: Buffer): TcpStream[] {
  if (pcap.length < 24) return [];
  const magic = pcap.readUInt32LE(0);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!little && pcap.readUInt32BE(0) !== 0xa1b2c3d4 && pcap.readUInt32BE(0) !== 0xa1b23c4d) {
    throw new Error('not a pcap file');
  }
  const u32 = (at: number) => (little ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  if (u32(20) !== 1) throw new Error(`pcap link type ${u32(20)}, expected Ethernet (1)`);
  const flows = new Map<string, { from: string; to: string; start: number | null; segments: [number, Buffer][] }>();
  for (let at = 24; at + 16 <= pcap.length;) {
    const length = u32(at + 8);
    const frame = pcap.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    if (frame.length < 14 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    if (ip.length < 20 || ip[9] !== 6) continue;
    const ipHeader = (ip[0]! & 0x0f) * 4;
    const tcp = ip.subarray(ipHeader, ip.readUInt16BE(2));
    if (tcp.length < 20) continue;
    const from = `${ip.subarray(12, 16).join('.')}:${tcp.readUInt16BE(0)}`;
    const to = `${ip.subarray(16, 20).join('.')}:${tcp.readUInt16BE(2)}`;
    const seq = tcp.readUInt32BE(4);
    const syn = (tcp[13]! & 0x02) !== 0;
    const payload = tcp.subarray((tcp[12]! >> 4) * 4);
    const key = `${from} > ${to}`;
    let flow = flows.get(key);
    if (!flow || (syn && flow.start !== null && flow.segments.length > 0)) {
      // A new connection on the same ports starts a new stream.
      if (flow) flows.set(`${key} #${flows.size}`, flow);
      flow = { from, to, start: null, segments: [] };
      flows.set(key, flow);
    }
    if (syn) flow.start = (seq + 1) >>> 0;
    if (payload.length === 0) continue;
    flow.start ??= seq;
    flow.segments.push([(seq - flow.start) >>> 0, Buffer.from(payload)]);
  }
  return [...flows.values()].map(({ from, to, segments }) => {
    const end = Math.max(0, ...segments.map(([offset, data]) => offset + data.length));
    const bytes = Buffer.alloc(end);
    const seen = new Uint8Array(end);
    for (const [offset, data] of segments) {
      data.copy(bytes, offset);
      seen.fill(1, offset, offset + data.length);
    }
    return { from, to, bytes, missing: seen.reduce((sum, byte) => sum + (1 - byte), 0) };
  });
}

/**
 * The text payloads of the WebSocket frames in a stream that starts with an
 * HTTP upgrade (request or response), unmasked; [] when it does not.
 */
export function webSocketTexts(stream: Buffer): string[] {
  const head = stream.subarray(0, 16).toString('latin1');
  if (!head.startsWith('GET ') && !head.startsWith('HTTP/1.1 101')) return [];
  const headerEnd = stream.indexOf('\r\n\r\n');
  if (headerEnd < 0) return [];
  const texts: string[] = [];
  let message: Buffer[] = [];
  for (let at = headerEnd + 4; at + 2 <= stream.length;) {
    const opcode = stream[at]! & 0x0f;
    const fin = (stream[at]! & 0x80) !== 0;
    const masked = (stream[at + 1]! & 0x80) !== 0;
    let length = stream[at + 1]! & 0x7f;
    at += 2;
    if (length === 126) {
      length = stream.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      length = Number(stream.readBigUInt64BE(at));
      at += 8;
    }
    const mask = masked ? stream.subarray(at, at + 4) : null;
    if (masked) at += 4;
    const payload = Buffer.from(stream.subarray(at, at + length));
    at += length;
    if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
    if (opcode === 1 || opcode === 0) message.push(payload);
    if ((opcode === 1 || opcode === 0) && fin) {
      texts.push(Buffer.concat(message).toString('utf8'));
      message = [];
    }
  }
  return texts;
}

/** Everything a listener reads in a stream: its bytes as text, and its WebSocket messages unmasked. */
export function readable(stream: TcpStream): string {
  return [stream.bytes.toString('utf8'), stream.bytes.toString('latin1'), ...webSocketTexts(stream.bytes)].join('\n');
}

/** The needles (texts, codes, tokens) that appear anywhere a listener can read them in the streams. */
export function foundOnWire(streams: TcpStream[], needles: string[]): string[] {
  const all = streams.map(readable).join('\n');
  return needles.filter((needle) => all.includes(needle));
}

/** TLS record content types by number. */
const RECORD_TYPES: Record<number, string> = {
  20: 'change_cipher_spec',
  21: 'alert',
  22: 'handshake',
  23: 'application_data',
};

/**
 * The TLS records a stream is made of, in order, with their lengths; null when
 * some byte of it is not inside a well-formed TLS record (so it may be clear
 * text). The last record may be cut short: the capture ended while it was
 * still on its way.
 */
export function tlsRecords(stream: Buffer): { type: string; length: number }[] | null {
  const records: { type: string; length: number }[] = [];
  for (let at = 0; at < stream.length;) {
    const type = RECORD_TYPES[stream[at]!];
    if (!type || (at + 1 < stream.length && stream[at + 1] !== 3)) return null;
    if (at + 5 > stream.length) break;
    const length = stream.readUInt16BE(at + 3);
    if (length > 16_384 + 256) return null;
    records.push({ type, length });
    at += 5 + length;
  }
  return records;
}

/** A stream in one line for a failure message: its ends, size, bytes the capture missed, and how it starts. */
export function describeStream(stream: TcpStream): string {
  const start = JSON.stringify(stream.bytes.subarray(0, 48).toString('latin1'));
  return `${stream.from} > ${stream.to}: ${stream.bytes.length} bytes, ${stream.missing} missed, starts ${start}`;
}
