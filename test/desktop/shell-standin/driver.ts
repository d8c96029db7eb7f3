/**
 * Runs the BUILT shell against the recorded Electron stand-in and prints one
 * report line (REPORT_PREFIX + JSON), then exits. Started by shell.test.ts as
 *
 *   node --import ./register.ts driver.ts app|preload
 *
 * `app` imports out/main/index.js, makes the stand-in app ready, and replays
 * inputs through everything the shell registered (IPC handlers, navigation and
 * window-open handlers, permission and header handlers). `preload` runs
 * out/preload/index.cjs the way a sandboxed preload runs: a bare script whose
 * `require` knows only Electron's few sandbox modules.
 *
 * `app` also hands the shell beacon: links: the ones in BEACON_STANDIN_INVITES
 * (a JSON array) through 'second-instance' and 'open-url', and any given after
 * `app` on the driver's own command line as if the link had started Beacon.
 *
 * No socket may be opened or listened on: the driver refuses them and reports
 * the attempt. Only payloads no schema accepts, or harmless ones, reach the
 * handlers, so hosting and joining never start.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Server, Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import * as electron from './electron.ts';
import {
  type AppReport,
  type FrameProbe,
  type HandlerReport,
  type InviteProbe,
  type LoadFailure,
  type NavigationProbe,
  type PermissionProbe,
  type PreloadReport,
  REPORT_PREFIX,
  type Report,
  type WindowOpenProbe,
  type WindowReport,
} from './report.ts';

type Listener = (...args: unknown[]) => unknown;

const mode = process.argv[2] === 'preload' ? 'preload' : 'app';
const outDir = resolve(process.env['BEACON_SHELL_OUT'] ?? join(import.meta.dirname, '../../../out'));
/** The page the window is meant to show (app-protocol.ts), and the same file as file://, which is not it. */
const rendererUrl = 'app://beacon/index.html';
const fileRendererUrl = pathToFileURL(join(outDir, 'renderer', 'index.html')).href;
const { recorder } = electron;
const errors: string[] = [];
const networkAttempts: string[] = [];

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function finish(report: Report): void {
  process.stdout.write(`${REPORT_PREFIX}${JSON.stringify(report)}\n`, () => process.exit(0));
}

const logs: string[] = [];
for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  console[level] = (...args: unknown[]) => void logs.push(args.map(String).join(' '));
}

process.on('uncaughtException', (error) => void errors.push(`uncaught: ${describe(error)}`));
process.on('unhandledRejection', (error) => void errors.push(`unhandled rejection: ${describe(error)}`));
setTimeout(() => {
  process.stderr.write(`driver: no report after 15 s (errors so far: ${errors.join('; ') || 'none'})\n`);
  process.exit(2);
}, 15_000).unref();

// No traffic at all, loopback included: the shell must not listen or connect while being probed.
Server.prototype.listen = function listen(...args: unknown[]): never {
  networkAttempts.push(`listen ${JSON.stringify(args[0]) ?? ''}`);
  throw new Error('shell test: listening is not allowed');
} as typeof Server.prototype.listen;
Socket.prototype.connect = function connect(...args: unknown[]): never {
  networkAttempts.push(`connect ${JSON.stringify(args[0]) ?? ''}`);
  throw new Error('shell test: connecting is not allowed');
} as typeof Socket.prototype.connect;

/** Lets promise callbacks and timers queued by the shell run. */
const settle = (ms = 10): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** JSON-safe copy of whatever the shell returned. */
function outcome(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value ?? null)) as unknown;
  } catch {
    return String(value);
  }
}

async function callHandler(listener: Listener, frame: FrameProbe['frame'] | null, embedded: boolean, payload: unknown) {
  const senderFrame =
    frame === null ? null : { url: frame, parent: embedded ? { url: rendererUrl, parent: null } : null };
  let result: unknown;
  try {
    result = outcome(await listener({ senderFrame, processId: 1, frameId: 1 }, payload));
  } catch (error) {
    result = { threw: describe(error) };
  }
  return { frame: frame ?? 'no frame', embedded, payload, result } satisfies FrameProbe;
}

/**
 * What the page hands the functions that take more than a payload: files as a page has them (one
 * picked, which has a path, one pasted, which has none, with a preview), and a FileRef with its variant.
 */
const PAGE_INPUT: Record<string, unknown> = {
  sendFiles: {
    conversation: 'room',
    text: 'hi',
    files: [
      { file: new File(['abc'], 'picked.txt', { type: 'text/plain' }) },
      {
        file: new File([new Uint8Array([1, 2])], 'pasted.png', { type: 'image/png' }),
        image: { width: 2, height: 1 },
        preview: { file: new File([new Uint8Array([3])], 'preview.webp', { type: 'image/webp' }), width: 2, height: 1 },
      },
    ],
  },
  fileUrl: [
    { id: 'f_AAAAAAAAAAAAAAAAAAAAAA', preview: { id: 'f_BBBBBBBBBBBBBBBBBBBBBB', width: 1, height: 1 } },
    'preview',
  ],
};

/** Payloads every command's schema accepts without anything happening outside this process; others get none. */
const HARMLESS: Record<string, unknown> = {
  markRead: { conversation: 'room', unreadTotal: 0 },
  reportUnread: { total: 0 },
  setPreferences: { notifyDirect: true, notifyMentions: true },
  setStatus: { status: 'online' },
  typing: { conversation: 'room' },
};
const UNTRUSTED_FRAMES: { url: string | null; embedded: boolean }[] = [
  { url: 'https://evil.example/', embedded: false },
  { url: 'http://localhost:5173/', embedded: false },
  { url: process.env['ELECTRON_RENDERER_URL'] ?? 'http://127.0.0.1:5173/', embedded: false },
  { url: pathToFileURL(join(outDir, 'renderer', 'other.html')).href, embedded: false },
  { url: fileRendererUrl, embedded: false },
  { url: 'file:///tmp/evil/index.html', embedded: false },
  { url: 'app://evil/index.html', embedded: false },
  { url: 'app://beacon.evil.example/index.html', embedded: false },
  { url: 'app://user@beacon/index.html', embedded: false },
  { url: 'beacon-file://file/index.html', embedded: false },
  { url: 'about:blank', embedded: false },
  { url: '', embedded: false },
  { url: rendererUrl, embedded: true },
  { url: 'https://evil.example/', embedded: true },
  { url: null, embedded: false },
];
const BAD_PAYLOADS: unknown[] = [42, null, 'text', [1, 2], { status: 'invisible', conversation: '' }];

async function probeHandlers(): Promise<HandlerReport[]> {
  const reports: HandlerReport[] = [];
  for (const { channel, listener } of recorder.handlers) {
    const name = channel.replace(/^beacon:/, '');
    const harmless = HARMLESS[name];
    const untrusted: FrameProbe[] = [];
    for (const frame of UNTRUSTED_FRAMES)
      untrusted.push(await callHandler(listener, frame.url, frame.embedded, harmless));
    const badPayloads: FrameProbe[] = [];
    for (const payload of BAD_PAYLOADS) badPayloads.push(await callHandler(listener, rendererUrl, false, payload));
    const trusted = await callHandler(listener, rendererUrl, false, harmless);
    reports.push({ channel, untrusted, badPayloads, trusted });
  }
  return reports;
}

const NAVIGATION_URLS = [
  'https://example.com/',
  'http://192.168.1.20:8080/room',
  'HTTPS://EXAMPLE.COM/Upper',
  rendererUrl,
  `${rendererUrl}?again`,
  'file:///etc/passwd',
  'javascript:alert(1)',
  'beacon://open?room=1',
  'data:text/html,<p>hi</p>',
  'mailto:someone@example.com',
  'ftp://example.com/file',
  'ws://192.168.1.20:8080/',
  'chrome://settings',
  'about:blank',
  'not a url',
  '',
];

async function probeNavigation(window: electron.BrowserWindow): Promise<NavigationProbe[]> {
  const probes: NavigationProbe[] = [];
  for (const url of NAVIGATION_URLS) {
    const before = recorder.openedExternally.length;
    let prevented = false;
    const event = { url, isMainFrame: true, preventDefault: () => void (prevented = true) };
    for (const listener of window.webContents.listeners('will-navigate')) {
      try {
        (listener as Listener)(event, url, false, true, 1, 1);
      } catch (error) {
        errors.push(`will-navigate ${url}: ${describe(error)}`);
      }
    }
    await settle(0);
    probes.push({ url, prevented, openedExternally: recorder.openedExternally.slice(before) });
  }
  return probes;
}

async function probeWindowOpen(window: electron.BrowserWindow): Promise<WindowOpenProbe[]> {
  const probes: WindowOpenProbe[] = [];
  for (const url of NAVIGATION_URLS) {
    const before = recorder.openedExternally.length;
    const details = {
      url,
      frameName: '',
      features: '',
      disposition: 'new-window',
      referrer: { url: '', policy: 'default' },
    };
    const results = window.webContents.windowOpenHandlers.map((handler) => {
      try {
        return outcome(handler(details));
      } catch (error) {
        return { threw: describe(error) };
      }
    });
    await settle(0);
    probes.push({ url, results, openedExternally: recorder.openedExternally.slice(before) });
  }
  return probes;
}

const PERMISSIONS = [
  'clipboard-sanitized-write',
  'clipboard-read',
  'media',
  'geolocation',
  'notifications',
  'openExternal',
  'fullscreen',
  'pointerLock',
  'display-capture',
  'midi',
];

function permissionPages(): string[] {
  return [
    rendererUrl,
    'https://evil.example/',
    fileRendererUrl,
    'file:///tmp/evil/index.html',
    'app://evil/index.html',
    'http://localhost:5173/',
    'about:blank',
  ];
}

const originOf = (url: string): string => {
  if (url.startsWith('file:')) return 'file:///';
  const parsed = new URL(url);
  // Node gives a non-special scheme the origin 'null'; Chromium, for a standard one, scheme://host.
  return parsed.origin === 'null' ? `${parsed.protocol}//${parsed.host}` : parsed.origin;
};
const contentsAt = (url: string) => ({ getURL: () => url, id: 1, isDestroyed: () => false });

async function probePermissionRequests(): Promise<PermissionProbe[]> {
  const asks: Promise<PermissionProbe>[] = [];
  for (const handler of recorder.permissionRequestHandlers) {
    for (const url of permissionPages()) {
      for (const permission of PERMISSIONS) {
        asks.push(
          new Promise<PermissionProbe>((done) => {
            const answer = (granted: PermissionProbe['granted']) =>
              done({ permission, url, granted, withContents: true });
            setTimeout(() => answer('no answer'), 1_000);
            try {
              // The window always shows Beacon's page; the asking frame may be another page embedded in it.
              handler(contentsAt(rendererUrl), permission, (granted: unknown) => answer(granted === true), {
                requestingUrl: url,
                isMainFrame: url === rendererUrl,
              });
            } catch (error) {
              errors.push(`permission request ${permission} ${url}: ${describe(error)}`);
              answer('threw');
            }
          }),
        );
      }
    }
  }
  return Promise.all(asks);
}

function probePermissionChecks(): PermissionProbe[] {
  const probes: PermissionProbe[] = [];
  for (const handler of recorder.permissionCheckHandlers) {
    for (const url of permissionPages()) {
      for (const permission of PERMISSIONS) {
        for (const withContents of [true, false]) {
          let granted: PermissionProbe['granted'];
          try {
            const details = { requestingUrl: url, isMainFrame: true, embeddingOrigin: originOf(url) };
            granted = handler(withContents ? contentsAt(url) : null, permission, originOf(url), details) === true;
          } catch (error) {
            errors.push(`permission check ${permission} ${url}: ${describe(error)}`);
            granted = 'threw';
          }
          probes.push({ permission, url, granted, withContents });
        }
      }
    }
  }
  return probes;
}

async function probeHeaders(): Promise<AppReport['headers']> {
  const results: AppReport['headers'] = [];
  for (const listener of recorder.headersListeners) {
    for (const url of [rendererUrl, 'https://example.com/']) {
      const responseHeaders = await new Promise<unknown>((done) => {
        setTimeout(() => done('no answer'), 1_000);
        try {
          listener(
            { url, method: 'GET', resourceType: 'mainFrame', responseHeaders: { 'X-Probe': ['kept'] } },
            (r: { responseHeaders?: unknown }) => done(outcome(r?.responseHeaders)),
          );
        } catch (error) {
          done({ threw: describe(error) });
        }
      });
      results.push({ url, responseHeaders });
    }
  }
  return results;
}

/** Requests for app://: the page, its assets, and ways out of the folder or the origin. */
const APP_REQUESTS: { url: string; method?: string }[] = [
  { url: 'app://beacon/index.html' },
  { url: 'app://beacon/' },
  { url: 'app://beacon/index.html', method: 'HEAD' },
  { url: 'app://beacon/index.html', method: 'POST' },
  { url: 'app://beacon/missing.js' },
  { url: 'app://beacon/assets' },
  { url: 'app://beacon/%2e%2e/main/index.js' },
  { url: 'app://beacon/%2E%2E%2Fmain%2Findex.js' },
  { url: 'app://beacon/assets/..%2f..%2fmain%2findex.js' },
  { url: 'app://beacon/..%5cmain%5cindex.js' },
  { url: 'app://beacon/../main/index.js' },
  { url: `app://beacon/${encodeURIComponent(join(outDir, 'main', 'index.js'))}` },
  { url: 'app://beacon//etc/passwd' },
  { url: 'app://beacon/%2fetc%2fpasswd' },
  { url: 'app://beacon/C:%5cWindows%5cwin.ini' },
  { url: 'app://beacon/index.html%00.js' },
  { url: 'app://beacon/%E0%A4%A' },
  { url: 'app://evil/index.html' },
  { url: 'app://127.0.0.1/index.html' },
  { url: 'beacon-file://beacon/index.html' },
];

async function probeAppProtocol(): Promise<AppReport['appRequests']> {
  const handler = recorder.protocolHandlers.find(({ scheme }) => scheme === 'app')?.handler;
  if (!handler) return [];
  const results: AppReport['appRequests'] = [];
  for (const { url, method = 'GET' } of APP_REQUESTS) {
    try {
      const response = (await handler(new Request(url, { method }))) as Response;
      const body = await response.text();
      results.push({
        url,
        method,
        status: response.status,
        csp: response.headers.get('content-security-policy'),
        contentType: response.headers.get('content-type'),
        bodyStart: body.slice(0, 200),
        bodyLength: body.length,
      });
    } catch (error) {
      results.push({
        url,
        method,
        status: -1,
        csp: null,
        contentType: null,
        bodyStart: describe(error),
        bodyLength: 0,
      });
    }
  }
  return results;
}

function listenerCounts(emitter: NodeJS.EventEmitter): Record<string, number> {
  return Object.fromEntries(emitter.eventNames().map((name) => [String(name), emitter.listenerCount(name)]));
}

function windowReport(window: electron.BrowserWindow, secondInstance: string[]): WindowReport {
  return {
    options: window.options,
    loadedUrls: window.loadedUrls,
    listeners: listenerCounts(window),
    contentsListeners: listenerCounts(window.webContents),
    windowOpenHandlers: window.webContents.windowOpenHandlers.length,
    callsBeforeReadyToShow: [],
    callsAfterReadyToShow: [],
    callsOnSecondInstance: secondInstance,
  };
}

/** The openInvite events the page has received so far. */
function openInvites(window: electron.BrowserWindow): unknown[] {
  return window.webContents.sent
    .filter(({ channel, args }) => channel === 'beacon:event' && (args[0] as { type?: unknown })?.type === 'openInvite')
    .map(({ args }) => outcome(args[0]));
}

async function probeInvites(window: electron.BrowserWindow): Promise<InviteProbe[]> {
  const links = JSON.parse(process.env['BEACON_STANDIN_INVITES'] ?? '[]') as string[];
  const probes: InviteProbe[] = [];
  const commandLines = links.map((link) => [process.execPath, '--no-sandbox', link]);
  // Two links at once: not something the system does.
  if (links.length >= 2) commandLines.push([process.execPath, links[0]!, links[1]!]);
  for (const argv of commandLines) {
    const before = openInvites(window).length;
    window.calls.length = 0;
    recorder.emitApp('second-instance', { preventDefault() {} }, argv, '/', {});
    await settle(0);
    probes.push({
      via: 'second-instance',
      input: argv.slice(1),
      events: openInvites(window).slice(before),
      windowCalls: [...window.calls],
      prevented: null,
    });
  }
  for (const link of links) {
    const before = openInvites(window).length;
    window.calls.length = 0;
    let prevented = false;
    recorder.emitApp('open-url', { preventDefault: () => void (prevented = true) }, link);
    await settle(0);
    probes.push({
      via: 'open-url',
      input: link,
      events: openInvites(window).slice(before),
      windowCalls: [...window.calls],
      prevented,
    });
  }
  return probes;
}

async function runApp(): Promise<Report> {
  try {
    await import(pathToFileURL(join(outDir, 'main', 'index.js')).href);
  } catch (error) {
    return { mode: 'app', loadError: describe(error), errors } satisfies LoadFailure;
  }
  // Electron is ready after the main script's first turn, as in the real app.
  await settle();
  recorder.becomeReady();
  await settle(50);

  const windows: WindowReport[] = [];
  let navigation: NavigationProbe[] = [];
  let windowOpen: WindowOpenProbe[] = [];
  const webview = { listeners: 0, prevented: false };
  const first = recorder.windows[0];
  const startLink: AppReport['startLink'] = { beforePageLoad: [], afterPageLoad: [] };
  let invites: InviteProbe[] = [];
  if (first) {
    // The page has not loaded yet: nothing may be sent that it would miss.
    startLink.beforePageLoad = openInvites(first);
    first.webContents.emit('did-start-loading');
    first.webContents.emit('did-finish-load');
    await settle(0);
    startLink.afterPageLoad = openInvites(first);
    const before = [...first.calls];
    first.emit('ready-to-show');
    const after = [...first.calls];
    first.calls.length = 0;
    first.minimized = true;
    recorder.emitApp('second-instance', { preventDefault() {} }, ['beacon'], '/');
    const report = windowReport(first, [...first.calls]);
    report.callsBeforeReadyToShow = before;
    report.callsAfterReadyToShow = after;
    windows.push(report);
    navigation = await probeNavigation(first);
    windowOpen = await probeWindowOpen(first);
    const attach = { preventDefault: () => void (webview.prevented = true) };
    for (const listener of first.webContents.listeners('will-attach-webview')) {
      webview.listeners++;
      (listener as Listener)(attach, { nodeIntegration: true }, { src: 'https://evil.example/' });
    }
    invites = await probeInvites(first);
  }
  for (const window of recorder.windows.slice(1)) windows.push(windowReport(window, []));

  const handlers = await probeHandlers();
  const report: AppReport = {
    mode: 'app',
    rendererUrl,
    isPackaged: electron.app.isPackaged,
    lockRequests: recorder.lockRequests,
    quitCalls: recorder.quitCalls,
    whenReadyCalls: recorder.whenReadyCalls,
    appEvents: recorder.appListenerNames(),
    windows,
    handlerChannels: recorder.handlers.map(({ channel }) => channel),
    handlers,
    navigation,
    navigationListeners: first?.webContents.listenerCount('will-navigate') ?? 0,
    windowOpen,
    webview,
    permissionRequests: await probePermissionRequests(),
    permissionRequestHandlers: recorder.permissionRequestHandlers.length,
    permissionChecks: probePermissionChecks(),
    permissionCheckHandlers: recorder.permissionCheckHandlers.length,
    headers: await probeHeaders(),
    headersListeners: recorder.headersListeners.length,
    networkAttempts,
    protocolClients: recorder.protocolClients,
    privilegedSchemes: recorder.privilegedSchemes,
    privilegedSchemeCalls: recorder.privilegedSchemeCalls,
    schemePrivileges: recorder.schemePrivileges,
    appRequests: await probeAppProtocol(),
    applicationMenu: (recorder.applicationMenus.at(-1)?.items ?? []).map(({ label, role, submenu }) => ({
      label: label ?? role ?? '',
      submenu: (submenu ?? []).map(({ label: item }) => item ?? ''),
    })),
    handledSchemes: recorder.protocolHandlers.map(({ scheme }) => scheme),
    startLink,
    invites,
    logs,
    errors,
  };
  return report;
}

/** What Electron's sandboxed preload `require` offers besides `electron`. */
const SANDBOX_NODE_MODULES = new Set(['events', 'timers', 'url']);

async function runPreload(): Promise<Report> {
  const file = join(outDir, 'preload', 'index.cjs');
  const required: string[] = [];
  const nodeRequire = createRequire(file);
  const sandboxRequire = (id: string): unknown => {
    required.push(id);
    if (id === 'electron') return electron;
    if (SANDBOX_NODE_MODULES.has(id)) return nodeRequire(id);
    throw new Error(`module not found: ${id}`);
  };
  try {
    const source = readFileSync(file, 'utf8');
    const context = vm.createContext({ console });
    const wrapper = vm.runInContext(
      `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
      context,
      {
        filename: file,
      },
    ) as Listener;
    const module = { exports: {} };
    wrapper(module.exports, sandboxRequire, module, file, dirname(file));
  } catch (error) {
    return { mode: 'preload', loadError: describe(error), errors } satisfies LoadFailure;
  }
  await settle(0);

  const beacon = (recorder.exposed.find(({ key }) => key === 'beacon')?.api ?? {}) as Record<string, unknown>;
  const members = Object.keys(beacon).map((key) => ({ key, type: typeof beacon[key] }));
  const calls: PreloadReport['calls'] = [];
  for (const { key, type } of members) {
    if (type !== 'function' || key === 'onEvent') continue;
    const before = recorder.invoked.length;
    let returned: unknown;
    try {
      const input = PAGE_INPUT[key];
      const fn = beacon[key] as Listener;
      returned = Array.isArray(input) ? fn(...input) : fn(input ?? { probe: key });
      // sendFiles reads the page's files before it invokes main.
      if (typeof (returned as Promise<unknown> | undefined)?.then === 'function') await returned;
    } catch (error) {
      errors.push(`beacon.${key}(): ${describe(error)}`);
    }
    const invocations = recorder.invoked
      .slice(before)
      .map(({ channel, args }) => ({ channel, args: outcome(args) as unknown[] }));
    calls.push({
      key,
      invocations,
      returnsPromise: typeof (returned as Promise<unknown> | undefined)?.then === 'function',
      ...(typeof returned === 'string' ? { value: returned } : {}),
    });
  }

  const onEvent: PreloadReport['onEvent'] = {
    subscribedChannels: [],
    receivedWhileSubscribed: [],
    receivedAfterUnsubscribe: [],
    listenersLeft: 0,
  };
  if (typeof beacon['onEvent'] === 'function') {
    const received: unknown[] = [];
    const before = recorder.rendererListeners.length;
    const unsubscribe = (beacon['onEvent'] as Listener)((event: unknown) => received.push(event));
    const channels = recorder.rendererListeners
      .slice(before)
      .filter(({ action }) => action === 'on')
      .map(({ channel }) => channel);
    onEvent.subscribedChannels = channels;
    for (const channel of channels) electron.ipcRenderer.emitFromMain(channel, { type: 'left' });
    onEvent.receivedWhileSubscribed = outcome(received) as unknown[];
    received.length = 0;
    if (typeof unsubscribe === 'function') unsubscribe();
    for (const channel of channels) electron.ipcRenderer.emitFromMain(channel, { type: 'left' });
    onEvent.receivedAfterUnsubscribe = outcome(received) as unknown[];
    onEvent.listenersLeft = channels.reduce((sum, channel) => sum + recorder.rendererListenerCount(channel), 0);
  }

  const ipc = electron.ipcRenderer as Record<string, unknown>;
  const report: PreloadReport = {
    mode: 'preload',
    required,
    exposedKeys: recorder.exposed.map(({ key }) => key),
    members,
    calls,
    leaksIpcRenderer: recorder.exposed.some(
      ({ api }) =>
        api === ipc ||
        Object.values(api as object).some((value) => value === ipc || Object.values(ipc).includes(value)),
    ),
    capabilities: outcome(beacon['capabilities']),
    onEvent,
    errors,
  };
  return report;
}

finish(mode === 'preload' ? await runPreload() : await runApp());
