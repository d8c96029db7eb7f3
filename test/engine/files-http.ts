/**
 * Raw HTTP for the file endpoints of a real host (docs/PROTOCOL.md §18): tus creation, PATCH,
 * HEAD, DELETE and downloads, as a stranger's client would send them, over http:// or https://
 * (the host's self-signed certificate is not checked here: these tests are about files, not trust).
 */
import { createHash } from 'node:crypto';
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { crc32, deflateSync } from 'node:zlib';
import type { RoomServer } from '../../src/host/room-server.ts';
import { TUS_VERSION, UPLOADS_PATH } from '../../src/shared/files.ts';
import type { HostFrame } from '../../src/shared/protocol.ts';
import { RawPeer } from '../helpers/room.ts';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: () => { code: string; message: string };
}

export type Target = RoomServer | { port: number; encrypted: boolean };

const originOf = (target: Target): { port: number; secure: boolean } =>
  'encrypted' in target
    ? { port: target.port, secure: target.encrypted }
    : { port: target.port, secure: target.fingerprint !== null };

/** One HTTP request to the host on loopback; `body` may be a stream (sent as it is read). */
export function http(
  target: Target,
  method: string,
  path: string,
  options: { headers?: Record<string, string | number>; body?: Buffer | string | Readable; timeoutMs?: number } = {},
): Promise<Reply> {
  const { port, secure } = originOf(target);
  const request = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: () => JSON.parse(body.toString()) as { code: string; message: string },
          });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 20_000, () => req.destroy(new Error(`${method} ${path}: no answer`)));
    req.on('error', reject);
    const body = options.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

export const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** tus Upload-Metadata: `key base64(value)` pairs. */
export function metadata(values: Record<string, string | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** POST /files/uploads. */
export function create(
  target: Target,
  token: string,
  length: number | string,
  meta: Record<string, string | undefined>,
  extra: Record<string, string> = {},
): Promise<Reply> {
  return http(target, 'POST', UPLOADS_PATH, {
    headers: {
      ...bearer(token),
      'tus-resumable': TUS_VERSION,
      'upload-length': String(length),
      'upload-metadata': metadata(meta),
      ...extra,
    },
  });
}

/** PATCH bytes at `offset`. */
export function patch(
  target: Target,
  token: string,
  location: string,
  offset: number,
  body: Buffer | Readable,
): Promise<Reply> {
  return http(target, 'PATCH', location, {
    headers: {
      ...bearer(token),
      'tus-resumable': TUS_VERSION,
      'upload-offset': offset,
      'content-type': 'application/offset+octet-stream',
      ...(Buffer.isBuffer(body) ? { 'content-length': body.length } : {}),
    },
    body,
  });
}

/** Creates and sends a whole file in one PATCH; returns the file id (the creation must succeed). */
export async function upload(
  target: Target,
  token: string,
  bytes: Buffer,
  meta: Record<string, string | undefined> = {},
): Promise<{ id: string; finish: Reply }> {
  const created = await create(target, token, bytes.length, { name: 'file.bin', conversation: 'room', ...meta });
  if (created.status !== 201) throw new Error(`creation refused: ${created.status} ${created.body.toString()}`);
  const location = created.headers.location!;
  const finish = await patch(target, token, location, 0, bytes);
  return { id: location.slice(location.lastIndexOf('/') + 1), finish };
}

export type Welcome = Extract<HostFrame, { type: 'welcome' }>;

/** A member joined over a raw WebSocket, with the welcome's file token. */
export async function member(
  server: RoomServer,
  name: string,
): Promise<{ peer: RawPeer; welcome: Welcome; token: string; id: string }> {
  const peer = new RawPeer(server);
  const welcome = await peer.hello(name);
  if (!welcome.files) throw new Error('the welcome has no files');
  return { peer, welcome, token: welcome.files.token, id: welcome.you.id };
}

/** Joins again with `token` (the resume token), as a reconnecting client does; resolves with the welcome. */
export async function resume(
  server: RoomServer,
  name: string,
  token: string,
  lastSeq: number,
): Promise<{ peer: RawPeer; welcome: Welcome }> {
  const peer = new RawPeer(server);
  await peer.opened();
  peer.send({ type: 'hello', v: 1, name, resume: { token, lastSeq } });
  return { peer, welcome: await peer.frame('welcome') };
}

/** A real PNG of `width` × `height` grey pixels, made here (PNG: signature, IHDR, IDAT, IEND). */
export function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0; // filter: none
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
