import { BrowserWindow, type Rectangle, screen, session, shell } from 'electron';
import { join } from 'node:path';
import { isTrustedSender } from './ipc-bridge.ts';

/** The only links Beacon opens, and only in the system browser. */
export function isExternalLink(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Locks the default session down: the CSP (`csp`, the one app://beacon serves with the page too)
 * as a header on every response, and no permission for any page but writing to the clipboard
 * ("Copy invite") from Beacon's own.
 */
export function hardenSession(rendererUrl: string, csp: string): void {
  const defaultSession = session.defaultSession;
  defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  const allowed = (permission: string, url: string | undefined): boolean =>
    permission === 'clipboard-sanitized-write' && url !== undefined && isTrustedSender(url, rendererUrl);
  // Judged by the frame that asks (`requestingUrl`), not the top page: a frame inside Beacon's page is not Beacon.
  defaultSession.setPermissionRequestHandler((contents, permission, callback, details) =>
    callback(allowed(permission, details.requestingUrl ?? contents.getURL())),
  );
  // The check gives only an origin: judge the full URL, as for requests.
  defaultSession.setPermissionCheckHandler((contents, permission, _origin, details) =>
    allowed(permission, details.requestingUrl ?? contents?.getURL()),
  );
}

function visibleBounds(bounds: Rectangle | undefined): Rectangle | undefined {
  if (!bounds) return undefined;
  const onScreen = screen
    .getAllDisplays()
    .some(
      ({ workArea: area }) =>
        bounds.x < area.x + area.width &&
        bounds.x + bounds.width > area.x &&
        bounds.y < area.y + area.height &&
        bounds.y + bounds.height > area.y,
    );
  return onScreen ? bounds : undefined;
}

/** `hidden`: started at login to host a room, the window waits in the tray until opened from there. */
export function createMainWindow(
  rendererUrl: string,
  savedBounds: Rectangle | undefined,
  { hidden = false }: { hidden?: boolean } = {},
): BrowserWindow {
  const bounds = visibleBounds(savedBounds);
  const window = new BrowserWindow({
    width: bounds?.width ?? 1100,
    height: bounds?.height ?? 720,
    ...(bounds ? { x: bounds.x, y: bounds.y } : {}),
    minWidth: 420,
    minHeight: 400,
    show: false,
    title: 'Beacon',
    autoHideMenuBar: true,
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: true,
    },
  });
  if (!hidden) window.once('ready-to-show', () => window.show());
  // The page never navigates: links open in the system browser, everything else is refused.
  window.webContents.on('will-navigate', (event, url) => {
    event.preventDefault();
    if (isExternalLink(url)) void shell.openExternal(url);
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-attach-webview', (event) => event.preventDefault());
  void window.loadURL(rendererUrl);
  return window;
}
