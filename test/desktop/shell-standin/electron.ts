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
    return false;
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
  getPath(name: string): string {
    const dir = process.env['BEACON_STANDIN_USER_DATA'];
    if (name !== 'userData' || !dir) throw new Error(`stand-in: app.getPath('${name}') is not set up`);
    return dir;
  },
  requestSingleInstanceLock(): boolean {
    recorder.lockRequests++;
    return process.env['BEACON_STANDIN_LOCK'] !== '0';
  },
  quit(): void {
    recorder.quitCalls++;
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
};

export const protocol = {
  registerSchemesAsPrivileged(schemes: { scheme: string }[]): void {
    recorder.privilegedSchemes.push(...schemes.map(({ scheme }) => ({ scheme, beforeReady: !recorder.ready })));
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
  privilegedSchemes: [] as { scheme: string; beforeReady: boolean }[],
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
  contextBridge,
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
