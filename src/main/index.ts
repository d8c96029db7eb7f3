/**
 * Beacon's Electron shell: app lifecycle, the window, the IPC bridge,
 * notifications, idle/away and wake-from-sleep, beacon: links. Kept thin on purpose: the
 * behaviour lives in DesktopChat and below, which are tested without Electron.
 */
import { app, BrowserWindow, ipcMain, Notification, powerMonitor, protocol, shell } from 'electron';
import { FILE_SCHEME } from '../node/file-downloads.ts';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ChatEvent, ROOM } from '../shared/chat-api.ts';
import { messageGist } from '../shared/files.ts';
import { eventSender, registerIpc } from './ipc-bridge.ts';
import { NOTIFICATION_BODY_CHARS, shouldNotify } from '../shared/notify-policy.ts';
import { DesktopChat } from './desktop-chat.ts';
import { beaconLinkInArgv, InviteOpener, PROTOCOL_SCHEME } from './invite-link.ts';
import { SettingsFile } from './settings.ts';
import { createMainWindow, hardenSession } from './window.ts';

const AWAY_AFTER_IDLE_SECONDS = 5 * 60;
/** Quitting waits at most this long for the room to be told and the history closed. */
const SHUTDOWN_LIMIT_MS = 5_000;
/** How often the system's idle time is looked at. */
const IDLE_CHECK_MS = 15_000;
const rendererDir = join(import.meta.dirname, '../renderer');
// The dev server's URL is honoured only in development: a packaged app loads nothing but its own files.
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const rendererUrl = devServerUrl ?? pathToFileURL(join(rendererDir, 'index.html')).href;

let toWindow: (event: ChatEvent) => void = () => {};
// beacon: links: checked here, handed to the page as an openInvite event (held until the page listens).
const invites = new InviteOpener({
  emit: (event) => toWindow(event),
  focus: showWindow,
  log: (line) => console.warn(line),
});

// Pictures of the room (previews, images) reach the window by beacon-file://file/<id>, served by
// main with the file token the page never holds. Privileges must be declared before 'ready'.
protocol.registerSchemesAsPrivileged([
  { scheme: FILE_SCHEME, privileges: { standard: true, secure: true, stream: true, supportFetchAPI: false } },
]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  if (process.platform === 'win32') app.setAppUserModelId('app.beacon.desktop');
  start();
}

let window: BrowserWindow | null = null;
let quitting = false;

function showWindow(): void {
  if (!window) return;
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}

function start(): void {
  // Installers register the scheme too (electron-builder.yml); a development build leaves the system's choice alone.
  if (app.isPackaged && !app.setAsDefaultProtocolClient(PROTOCOL_SCHEME)) {
    console.warn(`Beacon: could not register itself for ${PROTOCOL_SCHEME}: links.`);
  }
  app.on('second-instance', (_event, argv: string[]) => {
    showWindow();
    const link = beaconLinkInArgv(argv);
    if (link !== null) invites.open(link);
  });
  // macOS hands links over with 'open-url' (before 'ready' when a link started Beacon).
  app.on('open-url', (event, url) => {
    event.preventDefault();
    invites.open(url);
  });
  // Windows and Linux start Beacon with the link on its command line.
  const startLink = beaconLinkInArgv(process.argv);
  if (startLink !== null) invites.open(startLink);
  app.on('window-all-closed', () => app.quit());
  void app.whenReady().then(startChat);
}

function startChat(): void {
  hardenSession(rendererUrl, devServerUrl !== undefined);
  const settings = new SettingsFile(join(app.getPath('userData'), 'settings.json'));
  toWindow = eventSender(() => window?.webContents ?? null);
  const emit = (event: ChatEvent): void => toWindow(event);

  const chat = new DesktopChat({
    settings,
    roomsDir: join(app.getPath('userData'), 'rooms'),
    webRoot: rendererDir,
    // BEACON_DISCOVERY=off: no announcing or browsing (networks where multicast is unwelcome; tests).
    ...(process.env['BEACON_DISCOVERY'] === 'off' ? { discovery: false as const } : {}),
    emit,
    // Issue 15 may make this a setting; until then, the system's downloads folder.
    downloadsDir: () => app.getPath('downloads'),
    showItemInFolder: (path) => shell.showItemInFolder(path),
    onMessage(message, me) {
      const context = {
        windowFocused: window?.isFocused() ?? false,
        notifyDirect: settings.value.notifyDirect,
        notifyMentions: settings.value.notifyMentions,
      };
      if (!Notification.isSupported() || !shouldNotify(message, me, context)) return;
      const conversation = message.to === null ? ROOM : message.from;
      const notification = new Notification({
        title: message.to === null ? 'Mentioned in the room' : 'Direct message',
        body: messageGist(message).slice(0, NOTIFICATION_BODY_CHARS),
      });
      notification.on('click', () => {
        showWindow();
        emit({ type: 'openConversation', conversation });
      });
      notification.show();
    },
    onUnread(total) {
      window?.setTitle(total > 0 ? `Beacon (${total})` : 'Beacon');
      app.setBadgeCount(total);
    },
  });
  registerIpc(ipcMain, chat, rendererUrl);
  protocol.handle(FILE_SCHEME, chat.fileRequestHandler());

  window = createMainWindow(rendererUrl, settings.value.windowBounds);
  window.on('close', () => {
    // The bounds to restore to, not those of a maximised or minimised window.
    if (window) settings.update({ windowBounds: window.getNormalBounds() });
  });
  window.on('closed', () => {
    window = null;
    invites.pageGone();
  });
  window.webContents.on('did-start-loading', () => invites.pageGone());
  window.webContents.on('did-finish-load', () => invites.pageReady());

  // Coming back from sleep or a lock screen: reconnect now, not after the backoff.
  powerMonitor.on('resume', () => chat.wake());
  powerMonitor.on('unlock-screen', () => {
    chat.wake();
    void chat.setStatus({ status: 'online' });
  });
  powerMonitor.on('lock-screen', () => void chat.setStatus({ status: 'away' }));
  let away = false;
  setInterval(() => {
    const idle = powerMonitor.getSystemIdleTime() >= AWAY_AFTER_IDLE_SECONDS;
    if (idle !== away) {
      away = idle;
      void chat.setStatus({ status: idle ? 'away' : 'online' });
    }
  }, IDLE_CHECK_MS);

  // Quitting while hosting: tell the members and close the history cleanly first.
  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    quitting = true;
    // Telling the room and closing the history takes well under a second; a hung shutdown must not keep the app open.
    const gaveUp = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_LIMIT_MS));
    void Promise.race([chat.shutdown(), gaveUp]).finally(() => app.quit());
  });
}
