/**
 * File requests to a Beacon host from Node (the desktop app's main process, the terminal client):
 * HTTPS held to the same pinned fingerprint as the room's WebSocket (pinned-tls.ts), for tus
 * uploads (tus-js-client's NodeHttpStack) and for downloads; and how Node reads a file to send it
 * (from its path, a piece at a time, or from bytes in memory).
 */
import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DefaultHttpStack, type FileSource, type HttpStack } from 'tus-js-client';
import { errorMessage } from '../shared/errors.ts';
import type { FilePlatform } from '../shared/file-outbox.ts';
import type { Fingerprint } from '../shared/fingerprint.ts';
import { pinnedConnection } from './pinned-tls.ts';

/** A file to send as main has it: a path on this machine, or the bytes of one pasted without a path. */
export type NodeFile = { path: string } | { bytes: Uint8Array };

/** Request options that make an https: request only to the host with this fingerprint. */
export function pinnedRequestOptions(pin: string | null): Pick<RequestOptions, 'createConnection' | 'agent'> {
  if (pin === null) return {};
  return {
    agent: undefined,
    // Node's HTTP client waits for the asynchronous form's callback: nothing is written before the check.
    createConnection: pinnedConnection(pin as Fingerprint, () => {}) as unknown as RequestOptions['createConnection'],
  };
}

/** tus-js-client's Node HTTP stack, every https: request held to `pin`. */
export function pinnedHttpStack(pin: string | null): HttpStack {
  return new DefaultHttpStack(pinnedRequestOptions(pin));
}

/**
 * One request to the host: resolves with the response once its head arrives (the body is the
 * caller's to read or destroy). An https: URL with a pin is made only to that host.
 */
export function hostRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; pin: string | null; signal?: AbortSignal },
): Promise<IncomingMessage> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const make = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = make(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        ...(secure ? pinnedRequestOptions(options.pin) : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      resolve,
    );
    request.on('error', reject);
    request.end();
  });
}

/** A file that cannot be read (moved, deleted, no permission), as a transfer's error. */
const readError = (): Error & { code: 'BEACON_ERR_FILE_READ' } =>
  Object.assign(new Error(errorMessage('BEACON_ERR_FILE_READ')), { code: 'BEACON_ERR_FILE_READ' as const });

/**
 * tus-js-client's file reader for a NodeFile. tus-js-client's own takes an fs.ReadStream and opens
 * slices without an error listener, so a file deleted during an upload would end the whole process
 * with an uncaught error; here each slice (the rest of the file after a break) is opened first, a
 * file that is gone fails the transfer, and a read error later only stalls the request (which the
 * host then cuts) rather than the app.
 */
export const nodeFileReader = {
  async openFile(input: unknown): Promise<FileSource> {
    if (input instanceof Uint8Array) {
      const bytes = input;
      return {
        size: bytes.byteLength,
        slice: async (start, end) => {
          const value = bytes.subarray(start, end);
          // tus-js-client's Node HTTP stack sends it with this Content-Length (else chunked, which a PATCH may not be).
          return { value: Object.assign(value, { size: value.byteLength }), done: end >= bytes.byteLength };
        },
        close: () => {},
      };
    }
    const { path } = input as { path: string };
    const info = await stat(path).catch(() => {
      throw readError();
    });
    // The slice being sent: a break leaves it half read, so it is closed when the next one opens.
    let current: ReadStream | null = null;
    return {
      size: info.size,
      async slice(start, end) {
        current?.destroy();
        const last = Math.min(end, info.size);
        const handle = await open(path, 'r').catch(() => {
          throw readError();
        });
        const stream = handle.createReadStream({ start, end: Math.max(start, last) - 1 });
        stream.on('error', () => {});
        // tus-js-client's Node HTTP stack sends it with this Content-Length.
        Object.assign(stream, { size: last - start });
        current = stream;
        return { value: stream, done: last >= info.size };
      },
      close: () => {
        current?.destroy();
        current = null;
      },
    };
  },
};

/** Node's side of the FileOutbox: a file is hashed and sent from its path by streams, bytes as they are. */
export function nodeFilePlatform(options: { retryDelays?: readonly number[] } = {}): FilePlatform<NodeFile> {
  return {
    async sha256(file) {
      const hash = createHash('sha256');
      if ('bytes' in file) return hash.update(file.bytes).digest('hex');
      for await (const chunk of createReadStream(file.path)) hash.update(chunk as Buffer);
      return hash.digest('hex');
    },
    tusInput: (file) => ('bytes' in file ? Buffer.from(file.bytes) : { path: file.path }),
    fileReader: nodeFileReader,
    httpStack: (pin) => pinnedHttpStack(pin),
    ...(options.retryDelays ? { retryDelays: options.retryDelays } : {}),
  };
}
