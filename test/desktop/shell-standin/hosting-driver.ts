/**
 * Runs the BUILT shell against the recorded Electron stand-in with the network open, hosts a room
 * through the IPC bridge as the window would, lets real members join it on loopback, and works the
 * tray, the window's close button and quitting. Prints one report line (HOSTING_REPORT_PREFIX + JSON).
 * Started by tray.test.ts as
 *
 *   node --import ./register.ts hosting-driver.ts <scenario>
 *
 * Scenarios: `tray` (the whole story: host, join, tray items, close twice, quit cancelled, stop
 * hosting, host again, quit confirmed), `close-stop` (the first close is answered "stop hosting and
 * close"), `close-idle` (closing the window when not hosting), `settings` (the settings screen's
 * commands: theme, login item, downloads folder, name), `login-host` (started at login with the
 * flag the login item carries: the last room is hosted again, the window stays hidden).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RoomClient } from '../../../src/shared/room-client.ts';
import { wsSocketFactory } from '../../../src/node/ws-socket.ts';
import type { HostInfo } from '../../../src/shared/chat-api.ts';
import * as electron from './electron.ts';
import { HOSTING_REPORT_PREFIX, HOSTING_SECRETS } from './report.ts';

const { recorder } = electron;
const scenario = process.argv[2] ?? 'tray';
const outDir = process.env['BEACON_SHELL_OUT'] ?? join(import.meta.dirname, '../../../out');
const rendererUrl = 'app://beacon/index.html';
const errors: string[] = [];
const steps: Record<string, unknown> = {};
const clients: RoomClient[] = [];

process.on('uncaughtException', (error) => void errors.push(`uncaught: ${String(error?.stack ?? error)}`));
process.on('unhandledRejection', (error) => void errors.push(`unhandled rejection: ${String(error)}`));
setTimeout(() => {
  process.stderr.write(
    `hosting driver: no report after 40 s; steps: ${JSON.stringify(steps)}; errors: ${errors.join('; ')}\n`,
  );
  process.exit(2);
}, 40_000).unref();

const settle = (ms = 20): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function until(what: string, check: () => boolean, timeoutMs = 8_000): Promise<boolean> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) {
      errors.push(`timed out waiting for ${what}`);
      return false;
    }
    await settle(20);
  }
  return true;
}

/** A call through the bridge from Beacon's own main frame, as the preload makes it. */
async function invoke(name: string, payload?: unknown): Promise<{ ok: boolean; value?: unknown; error?: unknown }> {
  const handler = recorder.handlers.find(({ channel }) => channel === `beacon:${name}`);
  if (!handler) throw new Error(`no handler for ${name}`);
  return (await handler.listener({ senderFrame: { url: rendererUrl, parent: null } }, payload)) as {
    ok: boolean;
    value?: unknown;
  };
}

const liveTrays = () => recorder.trays.filter((tray) => !tray.destroyed);
const trayLabels = (): string[] =>
  (liveTrays()[0]?.menu?.items ?? []).map((item) => (item.type === 'separator' ? '---' : (item.label ?? '')));
function clickTray(label: string): void {
  const item = liveTrays()[0]?.menu?.items.find((i) => i.label === label);
  if (!item?.click) throw new Error(`no tray item ${label}`);
  if (item.enabled === false) throw new Error(`tray item ${label} is disabled`);
  item.click();
}

/** A member joining on loopback with the room's code, pinned to its fingerprint; resolves to how it went. */
async function memberJoins(
  info: HostInfo,
  name: string,
): Promise<{ joined: boolean; error?: string; client?: RoomClient }> {
  const client = new RoomClient({
    url: `wss://127.0.0.1:${info.port}/`,
    name,
    code: HOSTING_SECRETS.code,
    socketFactory: wsSocketFactory,
    connectTimeoutMs: 3_000,
    ...(info.fingerprint ? { pin: { fingerprint: info.fingerprint, trust: 'invite' as const } } : {}),
  });
  clients.push(client);
  try {
    await client.connect();
    return { joined: true, client };
  } catch (error) {
    client.close();
    return { joined: false, error: JSON.stringify(error) };
  }
}

async function host(): Promise<HostInfo> {
  const result = await invoke('host', {
    roomName: HOSTING_SECRETS.roomName,
    name: HOSTING_SECRETS.hostName,
    port: 0,
    code: HOSTING_SECRETS.code,
  });
  if (!result.ok) throw new Error(`hosting failed: ${JSON.stringify(result)}`);
  return result.value as HostInfo;
}

async function start(): Promise<electron.BrowserWindow> {
  await import(pathToFileURL(join(outDir, 'main', 'index.js')).href);
  await settle();
  recorder.becomeReady();
  await settle(50);
  const window = recorder.windows[0];
  if (!window) throw new Error('no window');
  window.webContents.emit('did-start-loading');
  window.webContents.emit('did-finish-load');
  window.emit('ready-to-show');
  return window;
}

async function trayStory(window: electron.BrowserWindow): Promise<void> {
  steps['traysBeforeHosting'] = liveTrays().length;
  const info = await host();
  steps['hostInfo'] = info;
  steps['trayWhileAlone'] = { count: liveTrays().length, labels: trayLabels(), tooltip: liveTrays()[0]?.tooltip };
  steps['trayIconIsPng'] = liveTrays()[0] ? !liveTrays()[0]!.image.isEmpty() : false;

  const guest = await memberJoins(info, HOSTING_SECRETS.guestName);
  steps['guestJoined'] = guest.joined;
  await until('2 members in the tray', () => trayLabels().includes('2 members'));
  steps['trayWithGuest'] = trayLabels();
  // Something secret said both ways, to look for in the log.
  await invoke('send', { conversation: 'room', text: HOSTING_SECRETS.hostText });
  guest.client?.send(HOSTING_SECRETS.guestText, null, 'room');
  await settle(200);

  clickTray('Copy invite');
  steps['clipboard'] = [...recorder.clipboard];

  // The first close while hosting: the dialog, answered "keep hosting".
  recorder.dialogAnswers.push(0);
  window.close();
  await until('the first close to be answered', () => recorder.dialogs.length === 1);
  await settle(50);
  steps['firstClose'] = {
    dialogs: structuredClone(recorder.dialogs),
    destroyed: window.destroyed,
    visible: window.visible,
    quitCalls: recorder.quitCalls,
  };
  const late = await memberJoins(info, 'Late Comer');
  steps['joinAfterClose'] = { joined: late.joined, error: late.error };
  await until('3 members in the tray', () => trayLabels().includes('3 members'));
  // One leaves on purpose: the count goes down at once.
  late.client?.close();
  await until('2 members after a leave', () => trayLabels().includes('2 members'));
  steps['trayAfterLeave'] = trayLabels();

  // Open Beacon from the tray, close again: no second question.
  clickTray('Open Beacon');
  steps['openedFromTray'] = window.visible;
  window.close();
  await settle(50);
  steps['secondClose'] = { dialogs: recorder.dialogs.length, destroyed: window.destroyed, visible: window.visible };

  // Quit while others are in the room: asked; "Cancel" keeps everything.
  recorder.dialogAnswers.push(1);
  electron.app.quit();
  await until('the quit question', () => recorder.dialogs.length === 2);
  await settle(100);
  const stillThere = await memberJoins(info, 'After Cancel');
  steps['quitCancelled'] = {
    dialog: structuredClone(recorder.dialogs[1]),
    quitted: recorder.quitted,
    joinStillWorks: stillThere.joined,
    trays: liveTrays().length,
  };

  clickTray('Open logs folder');
  await settle(20);
  steps['openedPaths'] = [...recorder.openedPaths];

  // Stop hosting from the tray: the room is gone, so is the tray, and the window comes back.
  clickTray('Stop hosting');
  await until('the tray to go', () => liveTrays().length === 0);
  await settle(100);
  const afterStop = await memberJoins(info, 'Too Late');
  steps['afterStop'] = {
    trays: liveTrays().length,
    joined: afterStop.joined,
    windowVisible: window.visible,
    guestState: guest.client?.state.kind ?? null,
  };

  // Host again, a member joins, and quitting is confirmed: the room stops and the app quits.
  const again = await host();
  const second = await memberJoins(again, HOSTING_SECRETS.guestName);
  await until('2 members again', () => trayLabels().includes('2 members'));
  recorder.dialogAnswers.push(0);
  electron.app.quit();
  await until('the app to quit', () => recorder.quitted, 10_000);
  const afterQuit = await memberJoins(again, 'After Quit');
  steps['quitConfirmed'] = {
    dialogs: recorder.dialogs.length,
    lastDialog: structuredClone(recorder.dialogs.at(-1)),
    quitted: recorder.quitted,
    secondJoined: second.joined,
    joinAfterQuit: afterQuit.joined,
    trays: liveTrays().length,
  };
}

async function closeStop(window: electron.BrowserWindow): Promise<void> {
  const info = await host();
  const guest = await memberJoins(info, HOSTING_SECRETS.guestName);
  steps['guestJoined'] = guest.joined;
  recorder.dialogAnswers.push(1);
  window.close();
  await until('the app to quit', () => recorder.quitted, 10_000);
  const after = await memberJoins(info, 'After');
  steps['closeStop'] = {
    dialogs: structuredClone(recorder.dialogs),
    quitted: recorder.quitted,
    destroyed: window.destroyed,
    joinAfter: after.joined,
  };
}

async function closeIdle(window: electron.BrowserWindow): Promise<void> {
  window.close();
  await until('the app to quit', () => recorder.quitted, 10_000);
  steps['closeIdle'] = {
    dialogs: recorder.dialogs.length,
    destroyed: window.destroyed,
    quitted: recorder.quitted,
    trays: recorder.trays.length,
  };
}

/** The settings screen's commands through the bridge, and what each did to Electron and the disk. */
async function settingsStory(): Promise<void> {
  const userData = process.env['BEACON_STANDIN_USER_DATA']!;
  const autostart = join(process.env['XDG_CONFIG_HOME']!, 'autostart', 'beacon.desktop');
  const readAutostart = (): string | null => (existsSync(autostart) ? readFileSync(autostart, 'utf8') : null);
  steps['themeAtWindow'] = recorder.windows[0]?.themeSourceAtCreation;
  steps['initial'] = await invoke('getSettings');
  steps['dark'] = await invoke('setSettings', { theme: 'dark' });
  steps['themeSources'] = [...recorder.themeSources];
  steps['hostAtLoginAlone'] = await invoke('setSettings', { hostAtLogin: true });
  steps['autostartBefore'] = readAutostart();
  steps['login'] = await invoke('setSettings', { startAtLogin: true, hostAtLogin: true });
  steps['autostartOn'] = readAutostart();
  steps['loginItemCalls'] = recorder.loginItemSettings.length;

  const folder = join(userData, 'Shared downloads');
  mkdirSync(folder);
  recorder.folderAnswers.push(folder);
  steps['chosen'] = await invoke('chooseDownloadsFolder');
  steps['cancelled'] = await invoke('chooseDownloadsFolder');
  recorder.folderAnswers.push('relative/downloads');
  steps['relative'] = await invoke('chooseDownloadsFolder');
  recorder.folderAnswers.push(join(userData, 'not-there'));
  steps['missing'] = await invoke('chooseDownloadsFolder');
  steps['openDialogs'] = recorder.openDialogs;
  steps['pathFromPage'] = await invoke('setSettings', { downloadsFolder: '/etc' });

  steps['badName'] = await invoke('setSettings', { displayName: 'You' });
  steps['name'] = await invoke('setSettings', { displayName: '  Ann  Lee ' });
  const state = (await invoke('getState')).value as { displayName: string; preferences: unknown };
  steps['stateAfterName'] = { displayName: state.displayName, preferences: state.preferences };
  await invoke('setPreferences', { notifyDirect: false, notifyMentions: true });
  steps['afterPreferences'] = await invoke('getSettings');
  steps['close'] = await invoke('setSettings', { closeWhileHosting: 'keep' });
  steps['off'] = await invoke('setSettings', { startAtLogin: false });
  steps['autostartOff'] = readAutostart();
}

/** Started by the login item with its flag (the settings file says to host at login). */
async function loginHost(window: electron.BrowserWindow): Promise<void> {
  await until('the room hosted at login', () => liveTrays().length === 1);
  const state = (await invoke('getState')).value as { hostInfo: HostInfo | null };
  const info = state.hostInfo;
  const guest = info ? await memberJoins(info, HOSTING_SECRETS.guestName) : { joined: false };
  steps['loginHost'] = {
    hostInfo: info ? { roomName: info.roomName, code: info.code } : null,
    trays: liveTrays().length,
    visible: window.visible,
    shown: window.calls.includes('show'),
    guestJoined: guest.joined,
    themeAtWindow: window.themeSourceAtCreation,
  };
}

// The login item's command line, as the system starts it (the scenario's settings file says the rest).
if (scenario === 'login-host') process.argv.push('--host-last-room');

try {
  const window = await start();
  if (scenario === 'close-stop') await closeStop(window);
  else if (scenario === 'close-idle') await closeIdle(window);
  else if (scenario === 'settings') await settingsStory();
  else if (scenario === 'login-host') await loginHost(window);
  else await trayStory(window);
} catch (error) {
  errors.push(`scenario: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}
// Every member's resume token, for the test to look for in the log.
steps['tokens'] = clients.map((client) => client.token).filter((token) => token !== undefined);
for (const client of clients) client.close();
await settle(50);
process.stdout.write(`${HOSTING_REPORT_PREFIX}${JSON.stringify({ scenario, steps, errors })}\n`, () => process.exit(0));
