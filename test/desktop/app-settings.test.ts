/**
 * The settings screen's commands on DesktopChat (no Electron): one settings file behind the
 * screen, the join form and the notification choices; and downloads going where the screen
 * said, as two apps on loopback exchange a real file.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DesktopChat } from '../../src/main/desktop-chat.ts';
import { SettingsFile } from '../../src/main/settings.ts';
import type { AppSettings, ChatEvent, Transfer } from '../../src/shared/chat-api.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

const sessions: DesktopChat[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.shutdown();
  await cleanup();
});

/** One person's app; the folder picker answers from `picks`; what the shell was asked to apply is kept. */
function app() {
  const dir = tempDir();
  const systemDownloads = join(dir, 'Downloads');
  const events: ChatEvent[] = [];
  const applied: AppSettings[] = [];
  const picks: (string | null)[] = [];
  const settings = new SettingsFile(join(dir, 'settings.json'));
  const session = new DesktopChat({
    settings,
    roomsDir: join(dir, 'rooms'),
    emit: (event) => events.push(event),
    hostBind: '127.0.0.1',
    discovery: false,
    downloadsDir: () => systemDownloads,
    applySettings: (saved) => applied.push(saved),
    pickFolder: async () => picks.shift() ?? null,
  });
  sessions.push(session);
  return { dir, systemDownloads, events, applied, picks, settings, session };
}

const value = <T>(result: { ok: boolean; value?: T }): T => {
  if (!result.ok) throw new Error(JSON.stringify(result));
  return result.value as T;
};

describe('the settings screen’s commands', () => {
  it('each change is saved, answered whole, and handed to the shell to apply', async () => {
    const { session, applied, settings } = app();
    const answered = value(await session.setSettings({ theme: 'light', notifyMentions: false }));
    expect(answered).toMatchObject({ theme: 'light', notifyMentions: false, notifyDirect: true });
    expect(applied).toEqual([answered]);
    expect(settings.value).toMatchObject({ theme: 'light', notifyMentions: false });
    expect(value(await session.getSettings())).toEqual(answered);
  });

  it('a refused change saves nothing of the call, not even its good parts', async () => {
    const { session, applied, settings } = app();
    const refused = await session.setSettings({ theme: 'dark', displayName: '\u202Eevil' });
    expect(refused).toEqual({
      ok: false,
      error: { code: 'BEACON_ERR_INVALID_INPUT', message: 'A name cannot contain invisible or control characters.' },
    });
    expect(settings.value.theme).toBe('system');
    expect(applied).toEqual([]);
  });

  it('the name saved here is the one joining remembers and the start screen fills in, and the other way round', async () => {
    const { session } = app();
    value(await session.setSettings({ displayName: 'Ann' }));
    expect(value(await session.getState()).displayName).toBe('Ann');
    // Hosting under another name: the settings screen shows that one now.
    value(await session.host({ roomName: 'Design', name: 'Ann L', port: 0, code: '' }));
    expect(value(await session.getSettings()).displayName).toBe('Ann L');
  });

  it('“ask” forgets the remembered close choice, so the next close asks again', async () => {
    const { session, settings } = app();
    value(await session.setSettings({ closeWhileHosting: 'stop' }));
    expect(settings.value.closeWhileHosting).toBe('stop');
    expect(value(await session.setSettings({ closeWhileHosting: 'ask' })).closeWhileHosting).toBe('ask');
    expect(settings.value.closeWhileHosting).toBeUndefined();
  });

  it('without a folder picker (no window to show it), choosing a folder is refused with a sentence', async () => {
    const dir = tempDir();
    const session = new DesktopChat({
      settings: new SettingsFile(join(dir, 'settings.json')),
      roomsDir: join(dir, 'rooms'),
      emit: () => {},
      discovery: false,
    });
    sessions.push(session);
    expect(await session.chooseDownloadsFolder()).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_INVALID_INPUT' },
    });
  });
});

describe('where downloads go', () => {
  async function shareAFile() {
    const hana = app();
    const info = value(await hana.session.host({ roomName: 'Design', name: 'Hana', port: 0, code: '1234' }));
    const bob = app();
    value(await bob.session.join({ address: info.invite!, name: 'Bob', code: '1234' }));
    const path = join(hana.dir, 'plans.pdf');
    writeFileSync(path, '%PDF-1.7 the plans\n'.repeat(1000));
    value(
      await hana.session.sendFiles({
        conversation: 'room',
        text: 'the plans',
        files: [{ name: 'plans.pdf', type: 'application/pdf', size: 19_000, source: { path } }],
      }),
    );
    await expect
      .poll(() => bob.events.some((e) => e.type === 'messages' && e.messages.some((m) => m.files)))
      .toBe(true);
    const fileId = bob.events.flatMap((e) => (e.type === 'messages' ? e.messages : [])).find((m) => m.files)!.files![0]!
      .id;
    const download = async (): Promise<Transfer> => {
      const seen = bob.events.length;
      value(await bob.session.download({ fileId, conversation: 'room' }));
      let ended: Transfer | undefined;
      await expect
        .poll(
          () => {
            ended = bob.events
              .slice(seen)
              .flatMap((e) => (e.type === 'transfer' && e.transfer.direction === 'download' ? [e.transfer] : []))
              .find((t) => t.state === 'done' || t.state === 'failed');
            return ended !== undefined;
          },
          { timeout: 10_000 },
        )
        .toBe(true);
      return ended!;
    };
    return { bob, download };
  }

  it('into the folder chosen in Settings; back in Downloads after “Use Downloads”', async () => {
    const { bob, download } = await shareAFile();
    const chosen = join(bob.dir, 'Shared with me');
    mkdirSync(chosen);
    bob.picks.push(chosen);
    expect(value(await bob.session.chooseDownloadsFolder()).downloadsFolder).toBe(chosen);
    expect(await download()).toMatchObject({ state: 'done', savedTo: join(chosen, 'plans.pdf') });
    expect(value(await bob.session.setSettings({ downloadsFolder: null })).downloadsFolder).toBeNull();
    expect(await download()).toMatchObject({ state: 'done', savedTo: join(bob.systemDownloads, 'plans.pdf') });
  });

  it('a chosen folder that has gone (a drive unplugged) sends the next download to Downloads, not nowhere', async () => {
    const { bob, download } = await shareAFile();
    const stick = join(bob.dir, 'USB stick');
    mkdirSync(stick);
    bob.picks.push(stick);
    value(await bob.session.chooseDownloadsFolder());
    rmSync(stick, { recursive: true });
    expect(await download()).toMatchObject({ state: 'done', savedTo: join(bob.systemDownloads, 'plans.pdf') });
    expect(readdirSync(bob.dir)).not.toContain('USB stick');
  });
});
