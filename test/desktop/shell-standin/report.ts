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

/** What one beacon: link, handed over one way, made the shell do. */
export interface InviteProbe {
  via: 'second-instance' | 'open-url';
  /** The link (or, for second-instance, the whole command line) as handed over. */
  input: string | string[];
  /** openInvite events the page received for it. */
  events: unknown[];
  /** What happened to the window meanwhile (show, focus, restore, …). */
  windowCalls: string[];
  /** For open-url: whether the shell took the event over from the system (preventDefault). */
  prevented: boolean | null;
}

export interface AppReport {
  mode: 'app';
  /** app://beacon/index.html: the page the window is meant to show. */
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
  /** Every app.setAsDefaultProtocolClient call. */
  protocolClients: { protocol: string; path: string | null; args: string[] | null }[];
  /** Schemes declared privileged, and whether before 'ready' (Electron ignores them after). */
  privilegedSchemes: { scheme: string; beforeReady: boolean }[];
  /** How many times registerSchemesAsPrivileged was called (Electron takes one list). */
  privilegedSchemeCalls: number;
  /** The privileges each scheme was declared with. */
  schemePrivileges: Record<string, Record<string, boolean>>;
  /** What the app: handler answered to each probe request. */
  appRequests: {
    url: string;
    method: string;
    status: number;
    csp: string | null;
    contentType: string | null;
    bodyStart: string;
    bodyLength: number;
  }[];
  /** The application menu's top items (label or role) and their submenu labels. */
  applicationMenu: { label: string; submenu: string[] }[];
  /** Schemes main answers itself (protocol.handle). */
  handledSchemes: string[];
  /** A beacon: link on the first instance's own command line: events before and after the page loaded. */
  startLink: { beforePageLoad: unknown[]; afterPageLoad: unknown[] };
  invites: InviteProbe[];
  /** What the shell wrote with console.* (to check no join code is logged). */
  logs: string[];
  errors: string[];
}

export interface PreloadReport {
  mode: 'preload';
  /** Modules the preload required (a sandboxed preload gets only a few). */
  required: string[];
  exposedKeys: string[];
  members: { key: string; type: string }[];
  /** For each function but onEvent: what calling it with a probe payload invoked. */
  calls: {
    key: string;
    invocations: { channel: string; args: unknown[] }[];
    returnsPromise: boolean;
    /** What it returned, when that was a string (fileUrl). */
    value?: string;
  }[];
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

/** What hosting-driver.ts prints before its report's JSON. */
export const HOSTING_REPORT_PREFIX = 'BEACON-HOSTING-REPORT ';

/** What the hosting scenarios type and say, none of which the log may hold. */
export const HOSTING_SECRETS = {
  code: 'J0IN-C0DE-7741',
  hostText: 'host says the vault combination is 31-4-15',
  guestText: 'guest whispers: the password is swordfish42',
  roomName: 'Lighthouse Keepers',
  hostName: 'Harriet Host',
  guestName: 'Gustav Guest',
};

export interface HostingReport {
  scenario: string;
  steps: Record<string, unknown>;
  errors: string[];
}
