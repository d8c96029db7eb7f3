/** What driver.ts prints (one JSON line after REPORT_PREFIX) and shell.test.ts asserts on. */

export const REPORT_PREFIX = 'BEACON-SHELL-REPORT ';

/** A value the shell returned (or threw) for one input, made JSON-safe. */
export type Outcome = unknown;

export interface FrameProbe {
  /** What the sending frame was: its URL, or 'no frame'. */
  frame: string;
  /** Whether the frame claimed to be embedded in another (non-null parent). */
  embedded: boolean;
  payload: unknown;
  result: Outcome;
}

export interface HandlerReport {
  channel: string;
  /** Calls from frames that are not Beacon's page (or not its main frame). */
  untrusted: FrameProbe[];
  /** Calls from Beacon's own main frame with payloads no schema accepts. */
  badPayloads: FrameProbe[];
  /** One call from Beacon's own main frame with a harmless payload (or none). */
  trusted: FrameProbe;
}

export interface NavigationProbe {
  url: string;
  prevented: boolean;
  openedExternally: string[];
}

export interface WindowOpenProbe {
  url: string;
  results: Outcome[];
  openedExternally: string[];
}

export interface PermissionProbe {
  permission: string;
  url: string;
  /** true/false as the shell answered, or 'no answer' when the callback never came. */
  granted: boolean | 'no answer' | 'threw';
  /** For the check handler: whether a webContents was passed (Electron sometimes passes null). */
  withContents: boolean;
}

export interface WindowReport {
  options: Record<string, unknown>;
  loadedUrls: string[];
  listeners: Record<string, number>;
  contentsListeners: Record<string, number>;
  windowOpenHandlers: number;
  callsBeforeReadyToShow: string[];
  callsAfterReadyToShow: string[];
  /** What a second launch of the app did to this (minimized) window. */
  callsOnSecondInstance: string[];
}

export interface AppReport {
  mode: 'app';
  /** The file:// URL of out/renderer/index.html: the page the window is meant to show. */
  rendererUrl: string;
  isPackaged: boolean;
  lockRequests: number;
  quitCalls: number;
  whenReadyCalls: number;
  appEvents: string[];
  windows: WindowReport[];
  handlerChannels: string[];
  handlers: HandlerReport[];
  navigation: NavigationProbe[];
  navigationListeners: number;
  windowOpen: WindowOpenProbe[];
  webview: { listeners: number; prevented: boolean };
  permissionRequests: PermissionProbe[];
  permissionRequestHandlers: number;
  permissionChecks: PermissionProbe[];
  permissionCheckHandlers: number;
  headers: { url: string; responseHeaders: Outcome }[];
  headersListeners: number;
  /** Sockets the app tried to open or listen on (all refused by the driver). */
  networkAttempts: string[];
  errors: string[];
}

export interface PreloadReport {
  mode: 'preload';
  /** Modules the preload required (a sandboxed preload gets only a few). */
  required: string[];
  exposedKeys: string[];
  members: { key: string; type: string }[];
  /** For each function but onEvent: what calling it with a probe payload invoked. */
  calls: { key: string; invocations: { channel: string; args: unknown[] }[]; returnsPromise: boolean }[];
  leaksIpcRenderer: boolean;
  capabilities: unknown;
  onEvent: {
    subscribedChannels: string[];
    receivedWhileSubscribed: unknown[];
    receivedAfterUnsubscribe: unknown[];
    listenersLeft: number;
  };
  errors: string[];
}

export interface LoadFailure {
  mode: 'app' | 'preload';
  loadError: string;
  errors: string[];
}

export type Report = AppReport | PreloadReport | LoadFailure;
