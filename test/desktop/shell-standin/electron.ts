/**
 * A recorded stand-in for the `electron` module: just enough of Electron's main
 * and preload APIs for the built shell (out/main/index.js, out/preload/index.cjs)
 * to run on plain Node. Nothing here does anything; every call is kept in
 * `recorder` so the driver can replay inputs through what the shell registered.
 *
 * Configured by the environment of the process that loads it:
 *   BEACON_STANDIN_USER_DATA  app.getPath('userData') (required before the app is ready)
 *   BEACON_STANDIN_LOCK=0     requestSingleInstanceLock() returns false (another instance runs)
 *   BEACON_STANDIN_PACKAGED=1 app.isPackaged is true
 *
 * Dialogs answer from `recorder.dialogAnswers` (first in, first out; 0 when empty), after
 * `recorder.dialogDelayMs`, and are kept in `recorder.dialogs`.
 */
import { EventEmitter } from 'node:events';

type Listener = (...args: unknown[]) => unknown;

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

class FakeWebContents extends EventEmitter {
  readonly windowOpenHandlers: Listener[] = [];
  readonly sent: { channel: string; args: unknown[] }[] = [];
  url = '';
  destroyed = false;

  setWindowOpenHandler(handler: Listener): void {
    this.windowOpenHandlers.push(handler);
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  getURL(): string {
    return this.url;
  }
}

export class BrowserWindow extends EventEmitter {
  readonly options: Record<string, unknown>;
  readonly webContents = new FakeWebContents();
  readonly loadedUrls: string[] = [];
  readonly calls: string[] = [];
  minimized = false;
  visible = false;
  destroyed = false;
  /** nativeTheme.themeSource when the window was made (null: never set), so its first paint has the right colours. */
  readonly themeSourceAtCreation: string | null = recorder.themeSources.at(-1) ?? null;
  #bounds: Rectangle;

  constructor(options: Record<string, unknown> = {}) {
    super();
    // A deep copy: what the shell passed at construction, whatever it changes later.
    this.options = structuredClone(options);
    const number = (key: string, fallback: number): number =>
      typeof options[key] === 'number' ? (options[key] as number) : fallback;
    this.#bounds = {
      x: number('x', 0),
      y: number('y', 0),
      width: number('width', 800),
      height: number('height', 600),
    };
    recorder.windows.push(this);
  }

  loadURL(url: string): Promise<void> {
    this.loadedUrls.push(url);
    this.webContents.url = url;
    return Promise.resolve();
  }
  loadFile(file: string): Promise<void> {
    return this.loadURL(`file://${file}`);
  }
  show(): void {
    this.calls.push('show');
    this.visible = true;
  }
  hide(): void {
    this.calls.push('hide');
    this.visible = false;
  }
  isVisible(): boolean {
    return this.visible;
  }
  /** As Electron's: 'close' can be prevented; otherwise the window goes and 'closed' follows. */
  close(): void {
    this.calls.push('close');
    let prevented = false;
    this.emit('close', { preventDefault: () => void (prevented = true) });
    if (prevented) return;
    this.destroy();
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.visible = false;
    this.webContents.destroyed = true;
    this.emit('closed');
    if (recorder.windows.every((w) => w.destroyed)) appEmitter.emit('window-all-closed');
  }
  focus(): void {
    this.calls.push('focus');
  }
  restore(): void {
    this.calls.push('restore');
    this.minimized = false;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isFocused(): boolean {
    return false;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  setTitle(title: string): void {
    this.calls.push(`setTitle:${title}`);
  }
  getBounds(): Rectangle {
    return { ...this.#bounds };
  }
  getNormalBounds(): Rectangle {
    return { ...this.#bounds };
  }
}

const appEmitter = new EventEmitter();
let readyResolve: () => void = () => {};
const ready = new Promise<void>((resolve) => (readyResolve = resolve));

export const app = {
  isPackaged: process.env['BEACON_STANDIN_PACKAGED'] === '1',
  on(event: string, listener: Listener) {
    appEmitter.on(event, listener);
    return app;
  },
  once(event: string, listener: Listener) {
    appEmitter.once(event, listener);
    return app;
  },
  whenReady(): Promise<void> {
    recorder.whenReadyCalls++;
    return ready;
  },
  isReady: () => recorder.ready,
  getVersion: () => '0.0.0-standin',
  off(event: string, listener: Listener) {
    appEmitter.off(event, listener);
    return app;
  },
  getPath(name: string): string {
    const dir = process.env['BEACON_STANDIN_USER_DATA'];
    // Downloads: a folder inside the user data folder, so a run never writes to the real one.
    if (name === 'downloads' && dir) return `${dir}/system-downloads`;
    if (name !== 'userData' || !dir) throw new Error(`stand-in: app.getPath('${name}') is not set up`);
    return dir;
  },
  requestSingleInstanceLock(): boolean {
    recorder.lockRequests++;
    return process.env['BEACON_STANDIN_LOCK'] !== '0';
  },
  /** As Electron's: 'before-quit' first (it may be prevented); otherwise the app is done. */
  quit(): void {
    recorder.quitCalls++;
    let prevented = false;
    appEmitter.emit('before-quit', { preventDefault: () => void (prevented = true) });
    if (prevented) return;
    // Then every window is closed, and may still refuse.
    for (const window of recorder.windows.filter((w) => !w.destroyed)) window.close();
    if (recorder.windows.every((w) => w.destroyed)) recorder.quitted = true;
  },
  exit(code = 0): void {
    recorder.exitCalls.push(code);
  },
  setBadgeCount(count: number): boolean {
    recorder.badgeCounts.push(count);
    return true;
  },
  setAppUserModelId(id: string): void {
    recorder.appUserModelId = id;
  },
  setLoginItemSettings(settings: { openAtLogin?: boolean; args?: string[] }): void {
    recorder.loginItemSettings.push(structuredClone(settings));
  },
  getLoginItemSettings(): { openAtLogin: boolean; wasOpenedAtLogin: boolean } {
    const last = recorder.loginItemSettings.at(-1);
    return { openAtLogin: last?.openAtLogin ?? false, wasOpenedAtLogin: false };
  },
  setAsDefaultProtocolClient(protocol: string, path?: string, args?: string[]): boolean {
    recorder.protocolClients.push({ protocol, path: path ?? null, args: args ?? null });
    return true;
  },
};

export const ipcMain = {
  handle(channel: string, listener: Listener): void {
    recorder.handlers.push({ channel, listener });
  },
  removeHandler(channel: string): void {
    recorder.removedHandlers.push(channel);
  },
};

export const screen = {
  getAllDisplays: () => [{ id: 1, bounds: recorder.display, workArea: recorder.display, scaleFactor: 1 }],
  getPrimaryDisplay: () => ({ id: 1, bounds: recorder.display, workArea: recorder.display, scaleFactor: 1 }),
};

export class Notification extends EventEmitter {
  static isSupported(): boolean {
    return true;
  }
  readonly options: unknown;
  constructor(options: unknown) {
    super();
    this.options = options;
    recorder.notifications.push(options);
  }
  show(): void {}
}

const powerEmitter = new EventEmitter();
export const powerMonitor = {
  on(event: string, listener: Listener) {
    powerEmitter.on(event, listener);
    return powerMonitor;
  },
  getSystemIdleTime: () => 0,
};

export const session = {
  defaultSession: {
    webRequest: {
      /** Electron accepts `(listener)` or `(filter, listener)`. */
      onHeadersReceived(...args: unknown[]): void {
        const listener = args.find((arg) => typeof arg === 'function') as Listener | undefined;
        if (listener) recorder.headersListeners.push(listener);
      },
    },
    setPermissionRequestHandler(handler: Listener | null): void {
      if (handler) recorder.permissionRequestHandlers.push(handler);
    },
    setPermissionCheckHandler(handler: Listener | null): void {
      if (handler) recorder.permissionCheckHandlers.push(handler);
    },
  },
};

export const shell = {
  openExternal(url: string): Promise<void> {
    recorder.openedExternally.push(url);
    return Promise.resolve();
  },
  showItemInFolder(path: string): void {
    recorder.shownInFolder.push(path);
  },
  openPath(path: string): Promise<string> {
    recorder.openedPaths.push(path);
    return Promise.resolve('');
  },
};

export const clipboard = {
  writeText(text: string): void {
    recorder.clipboard.push(text);
  },
};

class FakeImage {
  readonly representations: unknown[] = [];
  readonly dataUrl: string;
  constructor(dataUrl: string) {
    this.dataUrl = dataUrl;
  }
  addRepresentation(options: unknown): void {
    this.representations.push(options);
  }
  isEmpty(): boolean {
    return !this.dataUrl.startsWith('data:image/png;base64,');
  }
}

export const nativeImage = {
  createFromDataURL: (dataUrl: string) => new FakeImage(dataUrl),
};

export interface MenuItemOptions {
  label?: string;
  role?: string;
  type?: string;
  enabled?: boolean;
  click?: () => void;
  submenu?: MenuItemOptions[];
}

export class Menu {
  readonly items: MenuItemOptions[];
  constructor(items: MenuItemOptions[]) {
    this.items = items;
  }
  static buildFromTemplate(template: MenuItemOptions[]): Menu {
    return new Menu(template);
  }
  static setApplicationMenu(menu: Menu | null): void {
    recorder.applicationMenus.push(menu);
  }
}

export class Tray extends EventEmitter {
  menu: Menu | null = null;
  tooltip = '';
  destroyed = false;
  readonly image: FakeImage;
  constructor(image: FakeImage) {
    super();
    this.image = image;
    recorder.trays.push(this);
  }
  setContextMenu(menu: Menu | null): void {
    this.menu = menu;
  }
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  destroy(): void {
    this.destroyed = true;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

export interface RecordedDialog {
  withWindow: boolean;
  options: { title?: string; message?: string; buttons?: string[]; cancelId?: number };
  response: number;
}

export const dialog = {
  async showMessageBox(...args: unknown[]): Promise<{ response: number; checkboxChecked: boolean }> {
    const options = args.at(-1) as RecordedDialog['options'];
    const response = recorder.dialogAnswers.shift() ?? 0;
    recorder.dialogs.push({ withWindow: args.length > 1, options: structuredClone(options), response });
    await new Promise((done) => setTimeout(done, recorder.dialogDelayMs));
    return { response, checkboxChecked: false };
  },
  /** Answers the next of `recorder.folderAnswers` (cancelled when there is none). */
  async showOpenDialog(...args: unknown[]): Promise<{ canceled: boolean; filePaths: string[] }> {
    recorder.openDialogs.push({ withWindow: args.length > 1, options: structuredClone(args.at(-1)) });
    const folder = recorder.folderAnswers.shift();
    return folder === undefined ? { canceled: true, filePaths: [] } : { canceled: false, filePaths: [folder] };
  },
  showErrorBox(title: string, content: string): void {
    recorder.dialogs.push({ withWindow: false, options: { title, message: content }, response: 0 });
  },
};

/** Electron's nativeTheme: what the shell set themeSource to, in order. */
export const nativeTheme = {
  get themeSource(): string {
    return recorder.themeSources.at(-1) ?? 'system';
  },
  set themeSource(value: string) {
    recorder.themeSources.push(value);
  },
};

export const protocol = {
  registerSchemesAsPrivileged(schemes: { scheme: string; privileges?: Record<string, boolean> }[]): void {
    recorder.privilegedSchemeCalls++;
    recorder.privilegedSchemes.push(...schemes.map(({ scheme }) => ({ scheme, beforeReady: !recorder.ready })));
    for (const { scheme, privileges } of schemes) recorder.schemePrivileges[scheme] = { ...privileges };
  },
  handle(scheme: string, handler: Listener): void {
    recorder.protocolHandlers.push({ scheme, handler });
  },
};

/** A file named picked… was picked from the disk (it has a path); any other was pasted (none). */
export const webUtils = {
  getPathForFile: (file: File): string => (file.name.startsWith('picked') ? `/picked/${file.name}` : ''),
};

// ── the preload's side ──────────────────────────────────────────────────────

const rendererEmitter = new EventEmitter();

export const contextBridge = {
  exposeInMainWorld(key: string, api: unknown): void {
    recorder.exposed.push({ key, api });
  },
};

export const ipcRenderer = {
  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    recorder.invoked.push({ channel, args });
    return Promise.resolve({ ok: true, value: null });
  },
  on(channel: string, listener: Listener) {
    recorder.rendererListeners.push({ action: 'on', channel });
    rendererEmitter.on(channel, listener);
    return ipcRenderer;
  },
  removeListener(channel: string, listener: Listener) {
    recorder.rendererListeners.push({ action: 'removeListener', channel });
    rendererEmitter.removeListener(channel, listener);
    return ipcRenderer;
  },
  /** Not Electron's: lets the driver deliver an event from main to the page. */
  emitFromMain(channel: string, ...args: unknown[]): void {
    rendererEmitter.emit(channel, { sender: ipcRenderer }, ...args);
  },
};

/** Everything the shell did to Electron, for the driver to inspect and replay. */
export const recorder = {
  ready: false,
  whenReadyCalls: 0,
  lockRequests: 0,
  quitCalls: 0,
  exitCalls: [] as number[],
  badgeCounts: [] as number[],
  appUserModelId: null as string | null,
  protocolClients: [] as { protocol: string; path: string | null; args: string[] | null }[],
  display: { x: 0, y: 0, width: 1920, height: 1080 } as Rectangle,
  windows: [] as BrowserWindow[],
  handlers: [] as { channel: string; listener: Listener }[],
  removedHandlers: [] as string[],
  headersListeners: [] as Listener[],
  permissionRequestHandlers: [] as Listener[],
  permissionCheckHandlers: [] as Listener[],
  openedExternally: [] as string[],
  shownInFolder: [] as string[],
  openedPaths: [] as string[],
  clipboard: [] as string[],
  trays: [] as Tray[],
  applicationMenus: [] as (Menu | null)[],
  dialogs: [] as RecordedDialog[],
  dialogAnswers: [] as number[],
  openDialogs: [] as { withWindow: boolean; options: unknown }[],
  folderAnswers: [] as string[],
  themeSources: [] as string[],
  loginItemSettings: [] as { openAtLogin?: boolean; args?: string[] }[],
  dialogDelayMs: 0,
  /** app.quit() went through: nothing prevented 'before-quit'. */
  quitted: false,
  privilegedSchemes: [] as { scheme: string; beforeReady: boolean }[],
  privilegedSchemeCalls: 0,
  schemePrivileges: {} as Record<string, Record<string, boolean>>,
  protocolHandlers: [] as { scheme: string; handler: Listener }[],
  notifications: [] as unknown[],
  exposed: [] as { key: string; api: unknown }[],
  invoked: [] as { channel: string; args: unknown[] }[],
  rendererListeners: [] as { action: string; channel: string }[],
  appListenerNames: () => appEmitter.eventNames().map(String),
  emitApp: (event: string, ...args: unknown[]) => appEmitter.emit(event, ...args),
  powerListenerNames: () => powerEmitter.eventNames().map(String),
  rendererListenerCount: (channel: string) => rendererEmitter.listenerCount(channel),
  /** Electron becomes ready once the main script's first turn is over. */
  becomeReady(): void {
    recorder.ready = true;
    appEmitter.emit('ready');
    readyResolve();
  },
};

export default {
  app,
  BrowserWindow,
  clipboard,
  contextBridge,
  dialog,
  Menu,
  nativeImage,
  nativeTheme,
  Tray,
  ipcMain,
  ipcRenderer,
  Notification,
  powerMonitor,
  protocol,
  screen,
  session,
  shell,
  webUtils,
};
