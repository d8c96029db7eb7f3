/**
 * Files in the desktop app, as two people with two apps (DesktopChat, no Electron): one hosts and
 * sends, the other downloads into its downloads folder, shows a download in its folder, and its
 * window loads pictures through the beacon-file: scheme that main serves.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DesktopChat } from '../../src/main/desktop-chat.ts';
import { SettingsFile } from '../../src/main/settings.ts';
import type { ChatEvent, HostInfo, Transfer } from '../../src/shared/chat-api.ts';
import type { ChatMessage } from '../../src/shared/protocol.ts';
import { cleanup, tempDir } from '../helpers/room.ts';
import { png as pngBytes } from '../engine/files-http.ts';

const sessions: DesktopChat[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.shutdown();
  await cleanup();
});

/** One person's app with its own downloads folder; "Show in folder" is written down, not shown. */
function app() {
  const dir = tempDir();
  const downloads = join(dir, 'Downloads');
  const events: ChatEvent[] = [];
  const shown: string[] = [];
  const waiters = new Set<() => void>();
  const session = new DesktopChat({
    settings: new SettingsFile(join(dir, 'settings.json')),
    roomsDir: join(dir, 'rooms'),
    emit: (event) => {
      events.push(event);
      for (const wake of waiters) wake();
    },
    hostBind: '127.0.0.1',
    discovery: false,
    downloadsDir: () => downloads,
    showItemInFolder: (path) => shown.push(path),
  });
  sessions.push(session);
  function when<T>(pick: (event: ChatEvent) => T | undefined, timeoutMs = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const look = (): boolean => {
        for (const event of events) {
          const found = pick(event);
          if (found === undefined) continue;
          waiters.delete(look);
          clearTimeout(timer);
          resolve(found);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        waiters.delete(look);
        reject(new Error(`nothing like that within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!look()) waiters.add(look);
    });
  }
  return {
    session,
    events,
    shown,
    downloads,
    when,
    /** The next message with files. */
    fileMessage: () =>
      when((event): ChatMessage | undefined =>
        event.type === 'messages' ? event.messages.find((m) => (m.files?.length ?? 0) > 0) : undefined,
      ),
    /** Downloads a file and waits until it has ended. */
    async download(fileId: string): Promise<Transfer> {
      const before = new Set(events.filter((e) => e.type === 'transfer').map((e) => e.transfer.id));
      expect(await session.download({ fileId, conversation: 'room' })).toEqual({ ok: true, value: null });
      return when((event) =>
        event.type === 'transfer' &&
        event.transfer.direction === 'download' &&
        !before.has(event.transfer.id) &&
        ['done', 'failed', 'cancelled'].includes(event.transfer.state)
          ? event.transfer
          : undefined,
      );
    },
  };
}

async function hostAndJoin() {
  const hana = app();
  const hosted = await hana.session.host({ roomName: 'Design', name: 'Hana', port: 0, code: '1234' });
  if (!hosted.ok) throw new Error(hosted.error.message);
  const info: HostInfo = hosted.value;
  const bob = app();
  const joined = await bob.session.join({ address: info.invite!, name: 'Bob', code: '1234' });
  if (!joined.ok) throw new Error(joined.error.message);
  return { hana, bob, info };
}

/** A real PNG (the host checks pictures by their bytes), as the page hands main a pasted one. */
const png = (width: number, height: number): Uint8Array<ArrayBuffer> => new Uint8Array(pngBytes(width, height));

describe('downloading in the app', () => {
  it('saves into the downloads folder under a name of its own, never leaving a .part behind, and shows it in its folder', async () => {
    const { hana, bob } = await hostAndJoin();
    const path = join(tempDir(), 'plans.pdf');
    const bytes = Buffer.from('%PDF-1.7 the plans\n'.repeat(50_000));
    writeFileSync(path, bytes);
    const sent = await hana.session.sendFiles({
      conversation: 'room',
      text: 'the plans',
      files: [{ name: 'plans.pdf', type: 'application/pdf', size: bytes.length, source: { path } }],
    });
    expect(sent.ok).toBe(true);
    const message = await bob.fileMessage();
    const fileId = message.files![0]!.id;

    const first = await bob.download(fileId);
    const second = await bob.download(fileId);
    expect(first).toMatchObject({ state: 'done', savedTo: join(bob.downloads, 'plans.pdf') });
    expect(second).toMatchObject({ state: 'done', savedTo: join(bob.downloads, 'plans (1).pdf') });
    expect(readdirSync(bob.downloads).sort()).toEqual(['plans (1).pdf', 'plans.pdf']);
    expect(readFileSync(second.savedTo!).equals(bytes)).toBe(true);

    expect(await bob.session.showInFolder({ id: second.id })).toEqual({ ok: true, value: null });
    expect(bob.shown).toEqual([second.savedTo]);
    // Only what the app saved itself: not an upload, not an id it never had.
    const upload = hana.events.find((e) => e.type === 'transfer' && e.transfer.direction === 'upload');
    expect(upload).toBeDefined();
    expect((await hana.session.showInFolder({ id: upload!.type === 'transfer' ? upload.transfer.id : '' })).ok).toBe(
      false,
    );
    expect((await bob.session.showInFolder({ id: 't_nothing' })).ok).toBe(false);
    expect(bob.shown).toHaveLength(1);
    // Downloads are part of the snapshot a reloaded window gets.
    const state = await bob.session.getState();
    expect(state.ok && state.value.transfers?.filter((t) => t.direction === 'download')).toHaveLength(2);
  });

  it('a pasted image (bytes, no path) goes with its preview; the window loads the preview by beacon-file: and nothing else', async () => {
    const { hana, bob } = await hostAndJoin();
    const image = png(1600, 1200);
    const preview = png(320, 240);
    const sent = await hana.session.sendFiles({
      conversation: 'room',
      text: '',
      files: [
        {
          name: 'screenshot.png',
          type: 'image/png',
          size: image.byteLength,
          source: { bytes: image },
          image: { width: 1600, height: 1200 },
          preview: { bytes: preview, type: 'image/png', width: 320, height: 240 },
        },
        {
          name: 'notes.txt',
          type: 'text/plain',
          size: 5,
          source: { bytes: new Uint8Array(Buffer.from('notes')) },
        },
      ],
    });
    expect(sent.ok).toBe(true);
    const message = await bob.fileMessage();
    const [picture, notes] = message.files!;
    expect(picture).toMatchObject({
      name: 'screenshot.png',
      image: { width: 1600, height: 1200 },
      preview: { width: 320, height: 240 },
    });
    const serve = bob.session.fileRequestHandler();
    const get = (url: string, init?: RequestInit): Promise<Response> => serve(new Request(url, init));

    const shownPreview = await get(`beacon-file://file/${picture!.preview!.id}`);
    expect(shownPreview.status).toBe(200);
    expect(shownPreview.headers.get('content-type')).toBe('image/png');
    expect(shownPreview.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await shownPreview.arrayBuffer()).equals(Buffer.from(preview))).toBe(true);
    const full = await get(`beacon-file://file/${picture!.id}`);
    expect(full.status).toBe(200);
    expect((await full.arrayBuffer()).byteLength).toBe(image.byteLength);

    // Not a picture: the window has no use for it through this door (it is downloaded instead).
    expect((await get(`beacon-file://file/${notes!.id}`)).status).toBe(415);
    // Other schemes, other hosts of the scheme, ids that are not ids, other methods.
    expect((await get(`https://file/${picture!.id}`)).status).toBe(400);
    expect((await get(`beacon-file://elsewhere/${picture!.id}`)).status).toBe(400);
    expect((await get('beacon-file://file/..%2F..%2Fetc%2Fpasswd')).status).toBe(400);
    expect((await get('beacon-file://file/f_AAAAAAAAAAAAAAAAAAAAAA')).status).toBe(404);
    expect((await get(`beacon-file://file/${picture!.id}`, { method: 'POST', body: 'x' })).status).toBe(405);
    // No room: nothing to fetch from.
    await bob.session.leave();
    expect((await get(`beacon-file://file/${picture!.id}`)).status).toBe(404);
  });

  it('a cancelled download leaves nothing in the downloads folder, not even its .part', async () => {
    const { hana, bob } = await hostAndJoin();
    const path = join(tempDir(), 'archive.zip');
    writeFileSync(path, randomBytes(96 * 1024 * 1024));
    const sent = await hana.session.sendFiles({
      conversation: 'room',
      text: '',
      files: [{ name: 'archive.zip', type: 'application/zip', size: 1, source: { path } }],
    });
    expect(sent.ok).toBe(true);
    const message = await bob.fileMessage();
    expect(await bob.session.download({ fileId: message.files![0]!.id, conversation: 'room' })).toEqual({
      ok: true,
      value: null,
    });
    const moving = await bob.when((e) =>
      e.type === 'transfer' && e.transfer.direction === 'download' && e.transfer.doneBytes > 0 ? e.transfer : undefined,
    );
    expect(await bob.session.cancelTransfer({ id: moving.id })).toEqual({ ok: true, value: null });
    const ended = await bob.when((e) =>
      e.type === 'transfer' && e.transfer.id === moving.id && e.transfer.state === 'cancelled' ? e.transfer : undefined,
    );
    expect(ended.savedTo).toBeUndefined();
    expect(readdirSync(bob.downloads)).toEqual([]);
    // Nothing to show, and nothing left to cancel.
    expect((await bob.session.showInFolder({ id: moving.id })).ok).toBe(false);
    expect((await bob.session.cancelTransfer({ id: moving.id })).ok).toBe(false);
  });

  it('only a file a message has shown can be downloaded: an id alone (leaked, or made up) is refused at once', async () => {
    const { bob } = await hostAndJoin();
    expect(await bob.session.download({ fileId: 'f_AAAAAAAAAAAAAAAAAAAAAA', conversation: 'room' })).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_FILE_NOT_FOUND' },
    });
    expect(bob.events.filter((e) => e.type === 'transfer')).toEqual([]);
  });

  it('a file the app cannot read is refused at once, before anything is sent', async () => {
    const { hana } = await hostAndJoin();
    const missing = await hana.session.sendFiles({
      conversation: 'room',
      text: 'gone',
      files: [{ name: 'gone.txt', type: '', size: 1, source: { path: join(tempDir(), 'gone.txt') } }],
    });
    expect(missing).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_FILE_READ' } });
    const folder = await hana.session.sendFiles({
      conversation: 'room',
      text: 'a folder',
      files: [{ name: 'dir', type: '', size: 1, source: { path: tempDir() } }],
    });
    expect(folder).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_FILE_READ' } });
    expect(hana.events.filter((e) => e.type === 'outgoing')).toEqual([]);
  });
});
