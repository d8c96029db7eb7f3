/**
 * Hosting outlives the window: the BUILT shell, run against the recorded Electron stand-in
 * (shell-standin/hosting-driver.ts) with the network open, hosts a room through the IPC bridge,
 * real members join it on loopback, and the tray, the close button and quitting are worked as a
 * person would. The log file the run leaves behind is read here too.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_DIALOG, QUIT_DIALOG } from '../../src/main/hosting-policy.ts';
import { HOSTING_SECRETS } from './shell-standin/report.ts';
import { OUT, type Run, runHostingScenario } from './shell-standin/run-hosting.ts';

const TIMEOUT_MS = 45_000;
const userDataDirs: string[] = [];
const runScenario = (scenario: string): Promise<Run> => runHostingScenario(scenario, userDataDirs);

let tray: Run;
let closeStop: Run;
let closeIdle: Run;

beforeAll(async () => {
  if (!existsSync(join(OUT, 'main', 'index.js')))
    throw new Error('Run `npx electron-vite build` first (`npm test` does).');
  [tray, closeStop, closeIdle] = await Promise.all([
    runScenario('tray'),
    runScenario('close-stop'),
    runScenario('close-idle'),
  ]);
}, TIMEOUT_MS + 5_000);

afterAll(() => {
  for (const dir of userDataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const step = <T = Record<string, unknown>>(run: Run, name: string): T => run.report.steps[name] as T;

describe('hosting outlives the window (the built shell, real members on loopback)', () => {
  it('the scenarios ran without an error', () => {
    for (const run of [tray, closeStop, closeIdle]) expect(run.report.errors, run.report.scenario).toEqual([]);
  });

  it('a tray icon appears when hosting starts, showing the room and how many are in it', () => {
    expect(step(tray, 'traysBeforeHosting')).toBe(0);
    expect(step(tray, 'trayWhileAlone')).toEqual({
      count: 1,
      labels: [
        HOSTING_SECRETS.roomName,
        '1 member',
        '---',
        'Copy invite',
        'Open Beacon',
        'Open logs folder',
        '---',
        'Stop hosting',
        'Quit Beacon',
      ],
      tooltip: `Beacon: hosting “${HOSTING_SECRETS.roomName}” (1 member)`,
    });
    expect(step(tray, 'trayIconIsPng')).toBe(true);
  });

  it('the members count follows people joining and leaving', () => {
    expect(step(tray, 'guestJoined')).toBe(true);
    expect(step<string[]>(tray, 'trayWithGuest')).toContain('2 members');
    expect(step<string[]>(tray, 'trayAfterLeave')).toContain('2 members');
  });

  it('Copy invite puts the room’s invite (with its fingerprint) on the clipboard', () => {
    const info = step<{ invite: string; fingerprint: string }>(tray, 'hostInfo');
    expect(info.invite).toContain(`#fp=${info.fingerprint}`);
    expect(step(tray, 'clipboard')).toEqual([info.invite]);
  });

  it('closing the window while hosting asks once, then the room keeps running with the window hidden', () => {
    const first = step<{
      dialogs: { options: { buttons: string[]; title: string } }[];
      destroyed: boolean;
      visible: boolean;
      quitCalls: number;
    }>(tray, 'firstClose');
    expect(first.dialogs).toHaveLength(1);
    expect(first.dialogs[0]!.options.title).toBe(CLOSE_DIALOG.title);
    expect(first.dialogs[0]!.options.buttons).toEqual([...CLOSE_DIALOG.buttons]);
    expect(first).toMatchObject({ destroyed: false, visible: false, quitCalls: 0 });
    // A real member can still join after the window is gone.
    expect(step(tray, 'joinAfterClose')).toEqual({ joined: true });
    expect(tray.settings['closeWhileHosting']).toBe('keep');
    // Open Beacon brings it back; the second close hides it without asking again.
    expect(step(tray, 'openedFromTray')).toBe(true);
    expect(step(tray, 'secondClose')).toEqual({ dialogs: 1, destroyed: false, visible: false });
  });

  it('quitting while others are in the room asks first; Cancel keeps the room', () => {
    const cancelled = step<{
      dialog: { options: { title: string; message: string; buttons: string[] } };
      quitted: boolean;
      joinStillWorks: boolean;
      trays: number;
    }>(tray, 'quitCancelled');
    expect(cancelled.dialog.options.title).toBe(QUIT_DIALOG.title);
    // The host and the first guest (the late comer has left): one besides the host.
    expect(cancelled.dialog.options.message).toBe(QUIT_DIALOG.message(1));
    expect(cancelled.dialog.options.buttons).toEqual([...QUIT_DIALOG.buttons]);
    expect(cancelled).toMatchObject({ quitted: false, joinStillWorks: true, trays: 1 });
  });

  it('Stop hosting in the tray stops the room, removes the icon and brings the window back', () => {
    expect(step(tray, 'afterStop')).toEqual({ trays: 0, joined: false, windowVisible: true, guestState: 'offline' });
  });

  it('quitting confirmed stops the room and quits', () => {
    expect(step(tray, 'quitConfirmed')).toMatchObject({
      dialogs: 3,
      lastDialog: { options: { message: QUIT_DIALOG.message(1) }, response: QUIT_DIALOG.quitId },
      quitted: true,
      secondJoined: true,
      joinAfterQuit: false,
      trays: 0,
    });
  });

  it('answering “Stop hosting and close” the first time ends the room and quits without a second question', () => {
    expect(step(closeStop, 'guestJoined')).toBe(true);
    const result = step<{ dialogs: unknown[]; quitted: boolean; destroyed: boolean; joinAfter: boolean }>(
      closeStop,
      'closeStop',
    );
    expect(result.dialogs).toHaveLength(1);
    expect(result).toMatchObject({ quitted: true, destroyed: true, joinAfter: false });
    expect(closeStop.settings['closeWhileHosting']).toBe('stop');
  });

  it('closing the window when not hosting quits as before: no question, no tray', () => {
    expect(step(closeIdle, 'closeIdle')).toEqual({ dialogs: 0, destroyed: true, quitted: true, trays: 0 });
  });
});

describe('the log a user can send', () => {
  it('Open logs folder opens the folder in the user data folder', () => {
    expect(step(tray, 'openedPaths')).toEqual([join(tray.userData, 'logs')]);
  });

  it('records the lifecycle: start, hosting with its port, joins and leaves as counts, quitting', () => {
    const { port } = step<{ port: number }>(tray, 'hostInfo');
    for (const line of [
      /\[info\]\s+Beacon \S+ started/,
      new RegExp(`Hosting started on port ${port} \\(encrypted\\)`),
      /Member joined \(2 in the room\)/,
      /Member left \(2 in the room\)/,
      /Hosting stopped/,
      /Quitting/,
    ]) {
      expect(tray.log).toMatch(line);
    }
  });

  it('holds no join code, token, fingerprint, message text, name or invite', () => {
    const info = step<{ invite: string; fingerprint: string }>(tray, 'hostInfo');
    expect(tray.log.length).toBeGreaterThan(0);
    const secrets = [...Object.values(HOSTING_SECRETS), info.fingerprint, info.invite];
    // The resume tokens the host gave the members who joined.
    const tokens = step<string[]>(tray, 'tokens');
    expect(tokens.length).toBeGreaterThan(3);
    for (const run of [tray, closeStop, closeIdle]) {
      for (const secret of [...secrets, ...tokens]) expect(run.log, `${run.report.scenario} log`).not.toContain(secret);
    }
  });
});
