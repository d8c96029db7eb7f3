/**
 * Beacon's Electron shell: app lifecycle, the window, the IPC bridge,
 * notifications, idle/away and wake-from-sleep, beacon: links, the tray while hosting, the log.
 * Kept thin on purpose: the behaviour lives in DesktopChat and below, and the decisions about
 * closing and quitting while hosting in hosting-policy.ts, all tested without Electron.
 */
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  nativeTheme,
  Notification,
  powerMonitor,
  protocol,
  shell,
} from 'electron';
import { FILE_SCHEME } from '../node/file-downloads.ts';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RoomServer } from '../host/room-server.ts';
import { type AppSettings, type ChatEvent, type HostInfo, ROOM } from '../shared/chat-api.ts';
import { contentSecurityPolicy } from '../shared/csp.ts';
import { messageGist } from '../shared/files.ts';
import { eventSender, registerIpc } from './ipc-bridge.ts';
import { NOTIFICATION_BODY_CHARS, shouldNotify } from '../shared/notify-policy.ts';
import { DesktopChat } from './desktop-chat.ts';
import { beaconLinkInArgv, InviteOpener, PROTOCOL_SCHEME } from './invite-link.ts';
import { SettingsFile } from './settings.ts';
import { createMainWindow, hardenSession } from './window.ts';
import { createAppLog, logsFolder } from './app-log.ts';
import { setAppMenu } from './app-menu.ts';
import { APP_PAGE_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, appSchemeHandler } from './app-protocol.ts';
import {
  CLOSE_DIALOG,
  closeAction,
  closeChoice,
  othersInRoom,
  QUIT_DIALOG,
  quitNeedsConfirmation,
} from './hosting-policy.ts';
import { HostingTray } from './hosting-tray.ts';
import { applyLoginItem, autostartFolder, loginItemFor, roomToHostAtLaunch } from './login-item.ts';

const AWAY_AFTER_IDLE_SECONDS = 5 * 60;
/** Quitting waits at most this long for the room to be told and the history closed. */
const SHUTDOWN_LIMIT_MS = 5_000;
/** How often the system's idle time is looked at. */
const IDLE_CHECK_MS = 15_000;
const rendererDir = join(import.meta.dirname, '../renderer');
// The dev server's URL is honoured only in development: a packaged app loads nothing but its own files.
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const rendererUrl = devServerUrl ?? APP_PAGE_URL;
// Written only once this is the one running instance (a second launch quits without a line).
const log = createAppLog(logsFolder(app.getPath('userData')));

let toWindow: (event: ChatEvent) => void = () => {};
// beacon: links: checked here, handed to the page as an openInvite event (held until the page listens).
const invites = new InviteOpener({
  emit: (event) => toWindow(event),
  focus: showWindow,
  log: (line) => log.warn(line),
});

// Declared once, before 'ready' (Electron takes one list). The window's own pages come from
// app://beacon (app-protocol.ts). Pictures of the room (previews, images) reach the window by
// beacon-file://file/<id>, served by main with the file token the page never holds.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES },
  { scheme: FILE_SCHEME, privileges: { standard: true, secure: true, stream: true, supportFetchAPI: false } },
]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  if (process.platform === 'win32') app.setAppUserModelId('app.beacon.desktop');
  start();
}

let window: BrowserWindow | null = null;
/** Set once quitting is decided (asked if need be): from then on nothing holds the app back. */
let quitting = false;
/** A question (close or quit) is on screen: another close or quit waits for its answer. */
let asking = false;

function showWindow(): void {
  if (!window) return;
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}

function openLogsFolder(): void {
  mkdirSync(log.folder, { recursive: true });
  void shell.openPath(log.folder).then((problem) => {
    if (problem) log.warn(`Could not open the logs folder: ${problem}`);
  });
}

function start(): void {
  log.info(
    `Beacon ${app.getVersion()} started (${process.platform} ${process.arch}, Electron ${process.versions['electron'] ?? '?'})`,
  );
  // A monitor only: Electron's own handling of an uncaught error (its dialog) is left as it is.
  process.on('uncaughtExceptionMonitor', (error, origin) => log.error(`Uncaught in main (${origin})`, error));
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
  // The window closes for good only when the room is not kept in the tray (hosting-policy.ts): then quit, as always.
  app.on('window-all-closed', () => app.quit());
  // macOS: the dock icon brings a window hidden behind the tray back.
  app.on('activate', showWindow);
  void app.whenReady().then(startChat);
}

function startChat(): void {
  // One policy (src/shared/csp.ts) for the session's headers and app://beacon's answers.
  const csp = contentSecurityPolicy({ dev: devServerUrl !== undefined, header: true, app: true });
  hardenSession(rendererUrl, csp);
  protocol.handle(APP_SCHEME, appSchemeHandler(rendererDir, csp));
  setAppMenu(openLogsFolder);
  const settings = new SettingsFile(join(app.getPath('userData'), 'settings.json'));
  // Before the window: the page's prefers-color-scheme follows it from the first paint.
  nativeTheme.themeSource = settings.value.theme;
  const applyLoginSetting = (wanted: Pick<AppSettings, 'startAtLogin' | 'hostAtLogin'>): void => {
    try {
      applyLoginItem(loginItemFor(wanted), {
        platform: process.platform,
        setLoginItemSettings: (item) => app.setLoginItemSettings(item),
        autostartDir: autostartFolder(process.env, homedir()),
        // An AppImage runs from a mount that changes each start: the login item starts the image itself.
        executable: process.env['APPIMAGE'] ?? process.execPath,
      });
    } catch (error) {
      log.error('Could not change the login item', error);
    }
  };
  // Kept current with where the app is now (an AppImage moved since, an update); nothing is written while off.
  if (settings.value.startAtLogin) applyLoginSetting(settings.value);
  toWindow = eventSender(() => window?.webContents ?? null);
  const emit = (event: ChatEvent): void => {
    toWindow(event);
    if (event.type === 'hostInfo') hostingChanged(event.info);
  };

  const chat = new DesktopChat({
    settings,
    roomsDir: join(app.getPath('userData'), 'rooms'),
    webRoot: rendererDir,
    // BEACON_DISCOVERY=off: no announcing or browsing (networks where multicast is unwelcome; tests).
    ...(process.env['BEACON_DISCOVERY'] === 'off' ? { discovery: false as const } : {}),
    emit,
    // The system's Downloads folder, unless Settings chose another that is still there (DesktopChat).
    downloadsDir: () => app.getPath('downloads'),
    applySettings(saved) {
      nativeTheme.themeSource = saved.theme;
      applyLoginSetting(saved);
    },
    async pickFolder() {
      const options: Electron.OpenDialogOptions = {
        title: 'Where downloads go',
        buttonLabel: 'Use this folder',
        properties: ['openDirectory', 'createDirectory'],
      };
      const picked = await (window ? dialog.showOpenDialog(window, options) : dialog.showOpenDialog(options));
      return picked.canceled ? null : (picked.filePaths[0] ?? null);
    },
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

  // ── hosting outlives the window: the tray, and questions before closing or quitting ──
  const hostedRoom = (server: RoomServer) => ({
    roomName: server.roomName,
    members: server.members().length,
    invite: server.info().invite,
  });
  const tray = new HostingTray({
    copyInvite: () => {
      const invite = chat.hosting?.info().invite;
      if (invite) clipboard.writeText(invite);
    },
    open: showWindow,
    openLogs: openLogsFolder,
    stopHosting: () => void chat.leave().then(showWindow),
    quit: () => app.quit(),
  });
  let watched: RoomServer | null = null;
  // Counts only: names, addresses and codes stay out of the log (app-log.ts).
  const onPresence = (event: string): void => {
    const server = watched;
    if (!server || (event !== 'joined' && event !== 'left')) return;
    log.info(`Member ${event} (${server.members().length} in the room)`);
    tray.show(hostedRoom(server));
  };
  const onHostError = (error: Error): void => log.error('Host error', error);
  function hostingChanged(info: HostInfo | null): void {
    const previous = watched;
    previous?.off('presence', onPresence).off('error', onHostError);
    watched = null;
    const server = chat.hosting;
    if (!info || !server) {
      // Not after a start that failed half way (its room was never announced as hosted).
      if (previous) log.info('Hosting stopped');
      tray.hide();
      return;
    }
    log.info(`Hosting started on port ${info.port}${info.fingerprint ? ' (encrypted)' : ''}`);
    watched = server.on('presence', onPresence).on('error', onHostError);
    tray.show(hostedRoom(server));
  }

  const quitNow = (): void => {
    quitting = true;
    app.quit();
  };
  async function ask(options: Electron.MessageBoxOptions): Promise<number> {
    asking = true;
    try {
      const parent = window?.isVisible() ? window : null;
      return (await (parent ? dialog.showMessageBox(parent, options) : dialog.showMessageBox(options))).response;
    } finally {
      asking = false;
    }
  }
  /** Quits, asking first when that would end the room for someone else. */
  async function requestQuit(): Promise<void> {
    const others = othersInRoom(chat.hosting?.members().length ?? 0);
    if (quitNeedsConfirmation({ hosting: chat.hosting !== null, othersInRoom: others })) {
      const response = await ask({
        type: 'question',
        title: QUIT_DIALOG.title,
        message: QUIT_DIALOG.message(others),
        buttons: [...QUIT_DIALOG.buttons],
        defaultId: QUIT_DIALOG.cancelId,
        cancelId: QUIT_DIALOG.cancelId,
      });
      if (response !== QUIT_DIALOG.quitId) return;
    }
    quitNow();
  }

  // Started at login to host the room hosted last: the room comes back, the window waits in the tray.
  const roomAtLogin = roomToHostAtLaunch({
    argv: process.argv,
    // macOS passes a login item no arguments: it says so itself.
    wasOpenedAtLogin: process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin,
    settings: settings.value,
  });
  window = createMainWindow(rendererUrl, settings.value.windowBounds, { hidden: roomAtLogin !== null });
  if (roomAtLogin) {
    log.info('Started at login: hosting the last room again');
    void chat.host({ ...roomAtLogin, name: settings.value.displayName }).then((hosted) => {
      if (hosted.ok) return;
      // Nothing in the tray to open it from: the window shows, and the start screen offers the room.
      log.warn(`Hosting at login failed: ${hosted.error.code}`);
      showWindow();
    });
  }
  window.on('close', (event) => {
    // The bounds to restore to, not those of a maximised or minimised window.
    if (window) settings.update({ windowBounds: window.getNormalBounds() });
    const action = closeAction({
      hosting: chat.hosting !== null,
      quitting,
      remembered: settings.value.closeWhileHosting,
    });
    if (action === 'close') return;
    event.preventDefault();
    if (asking) return;
    if (action === 'hide') {
      window?.hide();
    } else if (action === 'stop') {
      void requestQuit();
    } else {
      const roomName = chat.hosting?.roomName ?? '';
      void ask({
        type: 'question',
        title: CLOSE_DIALOG.title,
        message: CLOSE_DIALOG.message(roomName),
        detail: CLOSE_DIALOG.detail,
        buttons: [...CLOSE_DIALOG.buttons],
        defaultId: 0,
        cancelId: CLOSE_DIALOG.cancelId,
      }).then((response) => {
        const choice = closeChoice(response);
        settings.update({ closeWhileHosting: choice });
        log.info(
          `Closing the window while hosting: ${choice === 'keep' ? 'keep the room in the tray' : 'stop hosting'}`,
        );
        // The person just answered "stop hosting and close": no second question.
        if (choice === 'stop') quitNow();
        else window?.hide();
      });
    }
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

  // Quitting while hosting: ask when others are in the room, then tell the members and close the history cleanly.
  let shuttingDown = false;
  app.on('before-quit', (event) => {
    if (shuttingDown) return;
    event.preventDefault();
    if (!quitting) {
      if (!asking) void requestQuit();
      return;
    }
    shuttingDown = true;
    log.info('Quitting');
    // Telling the room and closing the history takes well under a second; a hung shutdown must not keep the app open.
    const gaveUp = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_LIMIT_MS));
    void Promise.race([chat.shutdown(), gaveUp])
      .catch((error: unknown) => log.error('Shutting down', error))
      .finally(() => {
        tray.hide();
        app.quit();
      });
  });
}
