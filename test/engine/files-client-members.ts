/**
 * Members with files, for the client-side file tests: a ChatFeed over real sockets with Node's file
 * platform (pinned HTTPS, streams from disk), every event it would show kept, and the host's side
 * of each HTTP request it made written down (method, URL, Upload-Offset) by a thin wrapper around
 * the real HTTP stack.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpStack } from 'tus-js-client';
import type { RoomServer } from '../../src/host/room-server.ts';
import { FileDownloads } from '../../src/node/file-downloads.ts';
import { type NodeFile, nodeFilePlatform } from '../../src/node/file-http.ts';
import { wsSocketFactory } from '../../src/node/ws-socket.ts';
import type { ChatEvent, Transfer } from '../../src/shared/chat-api.ts';
import { ChatFeed } from '../../src/shared/chat-feed.ts';
import type { FilePlatform } from '../../src/shared/file-outbox.ts';
import type { Fingerprint } from '../../src/shared/fingerprint.ts';
import { tempDir } from '../helpers/room.ts';

/** Short waits between tries: a test host comes back within a second or two. */
export const TEST_RETRY_DELAYS = [100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000];

export interface RequestSeen {
  method: string;
  url: string;
  offset: number | null;
}

/** The real platform, with every request it sends written down as it goes. */
export function recordedPlatform(
  requests: RequestSeen[],
  retryDelays: readonly number[] = TEST_RETRY_DELAYS,
): FilePlatform<NodeFile> {
  const platform = nodeFilePlatform({ retryDelays });
  return {
    ...platform,
    httpStack(pin): HttpStack {
      const inner = platform.httpStack!(pin)!;
      return {
        getName: () => inner.getName(),
        createRequest(method, url) {
          const request = inner.createRequest(method, url);
          const send = request.send.bind(request);
          request.send = (body) => {
            const offset = request.getHeader('Upload-Offset');
            requests.push({ method, url, offset: offset === undefined ? null : Number(offset) });
            return send(body);
          };
          return request;
        },
      };
    },
  };
}

function withKnownHashes(platform: FilePlatform<NodeFile>, known?: Map<string, string>): FilePlatform<NodeFile> {
  if (!known) return platform;
  return {
    ...platform,
    sha256: async (file) => ('path' in file && known.get(file.path)) || platform.sha256(file),
  };
}

export type FileMember = Awaited<ReturnType<typeof fileMember>>;

/** One person in the room through a ChatFeed, pinned to the host's fingerprint. */
export async function fileMember(
  target: RoomServer | { port: number; fingerprint: Fingerprint },
  name: string,
  options: {
    downloads?: string;
    retryDelays?: readonly number[];
    /** Hashes known in advance (a test that needs every file ready at once). */
    knownHashes?: Map<string, string>;
  } = {},
) {
  const events: ChatEvent[] = [];
  const requests: RequestSeen[] = [];
  const waiters = new Set<() => void>();
  const feed = new ChatFeed<NodeFile>({
    socketFactory: wsSocketFactory,
    emit: (event) => {
      events.push(event);
      for (const wake of waiters) wake();
    },
    startInfo: () => ({ recentRooms: [], displayName: name }),
    files: withKnownHashes(recordedPlatform(requests, options.retryDelays), options.knownHashes),
    clientOptions: { backoff: { initialMs: 50, maxMs: 300, factor: 1.5 }, offlineAfterAttempts: 1_000 },
  });
  const fingerprint = target.fingerprint!;
  const joined = await feed.join({
    address: `wss://127.0.0.1:${target.port}/`,
    name,
    code: '1234',
    pin: { fingerprint, trust: 'invite' },
  });
  if (!joined.ok) throw new Error(`${name} could not join: ${joined.error.message}`);
  const downloadsFolder = options.downloads ?? tempDir();
  const downloads = new FileDownloads({
    folder: () => downloadsFolder,
    emit: (transfer) => {
      events.push({ type: 'transfer', transfer });
      for (const wake of waiters) wake();
    },
    showItemInFolder: () => {},
    retryDelays: options.retryDelays ?? TEST_RETRY_DELAYS,
  });

  /** Resolves with the first event (already seen or still to come, from index `from`) that `pick` returns something for. */
  function when<T>(pick: (event: ChatEvent) => T | undefined, timeoutMs = 20_000, from = 0): Promise<T> {
    return new Promise((resolve, reject) => {
      const look = (): boolean => {
        for (const event of events.slice(from)) {
          const found = pick(event);
          if (found !== undefined) {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve(found);
            return true;
          }
        }
        return false;
      };
      const wake = (): void => void look();
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(new Error(`${name}: nothing like that within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!look()) waiters.add(wake);
    });
  }

  const transfers = (id?: string): Transfer[] =>
    events.flatMap((event) =>
      event.type === 'transfer' && (id === undefined || event.transfer.id === id) ? [event.transfer] : [],
    );

  return {
    name,
    feed,
    events,
    requests,
    downloadsFolder,
    downloads,
    when,
    transfers,
    /** Waits for a transfer to end (done, failed or cancelled; after event index `from`) and returns that state. */
    ended: (id: string, timeoutMs?: number, from = 0) =>
      when(
        (event) =>
          event.type === 'transfer' &&
          event.transfer.id === id &&
          ['done', 'failed', 'cancelled'].includes(event.transfer.state)
            ? event.transfer
            : undefined,
        timeoutMs,
        from,
      ),
    /**
     * Starts downloading a file; returns the transfer id. A file no message showed this member (an
     * id that leaked) is asked for all the same, as a hostile app would: the host must refuse it.
     */
    download(fileId: string, conversation = 'room'): string {
      const access = feed.fileAccess();
      if (!access) throw new Error(`${name} has no file access`);
      const file = feed.fileRef(fileId) ?? { id: fileId, name: 'leaked', size: 1, sha256: '0'.repeat(64) };
      return downloads.start(file, conversation, access);
    },
    leave(): void {
      downloads.stopAll();
      feed.leave();
    },
  };
}

/** A file of random bytes in a fresh folder. */
export function randomFile(bytes: number, name = 'data.bin'): { path: string; bytes: Buffer; name: string } {
  const content = randomBytes(bytes);
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return { path, bytes: content, name };
}

/** The file as sendFiles takes it. */
export function outgoing(file: { path: string; bytes: Buffer; name: string }, type = 'application/octet-stream') {
  return { file: { path: file.path }, name: file.name, size: file.bytes.length, type };
}
