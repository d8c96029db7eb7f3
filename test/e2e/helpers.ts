import { createServer as createNetServer, connect as connectTcp, type Socket } from 'node:net';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { webFilesHandler } from '../../src/host/web-files.ts';
import { eventSender, type IpcMainLike, registerIpc, type SenderFrame } from '../../src/main/ipc-bridge.ts';
import { DesktopChat } from '../../src/main/desktop-chat.ts';
import { SettingsFile } from '../../src/main/settings.ts';
import type { ChatEvent } from '../../src/shared/chat-api.ts';
import { COMMAND_NAMES } from '../harness/commands.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { freePort, killChildren, spawnNode } from '../helpers/processes.ts';
import { cleanup, tempDir } from '../helpers/room.ts';
export { launchChromium } from '../helpers/chromium.ts';

export const WEB_ROOT = resolve('out/renderer');
export const SCREENSHOTS = resolve('docs/screenshots');

/**
 * One Chromium for a test file, launched once (after checking the web client
 * is built) and closed at the end; after each test its pages, the child
 * processes and temporary folders go. `onLaunch` receives the browser.
 */
export function useChromium(onLaunch: (browser: Browser) => void): void {
  let browser: Browser | undefined;
  beforeAll(async () => {
    requireBuild();
    browser = await launchChromium();
    onLaunch(browser);
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    killChildren();
    for (const context of browser?.contexts() ?? []) await context.close();
    await cleanup();
  });
}

/** The headless host's line that ends what it prints on starting (the code is printed after the addresses). */
export const HOST_READY = /^(Join code|No join code)/;

/**
 * A headless host in a child process (so it can be killed), serving the built web client on loopback:
 * encrypted, as it runs by default (`insecure` for the opt-out). `url` is the page's https:// address;
 * browsers accept its self-signed certificate with `ignoreHTTPSErrors` (as a person does past the
 * warning), and `invite` and `fingerprint` are what the host printed.
 */
export async function headlessHost(
  options: { port?: number; data?: string; code?: string; name?: string; insecure?: boolean } = {},
) {
  const port = options.port ?? (await freePort());
  const data = options.data ?? tempDir();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--data', data, '--code', options.code ?? '1234'];
  if (options.name) args.push('--name', options.name);
  if (options.insecure) args.push('--insecure');
  args.push('--web', WEB_ROOT);
  const host = await spawnNode('src/cli/host.ts', args, HOST_READY);
  const invite = host.lines.find((line) => line.startsWith('Invite: '))?.slice('Invite: '.length) ?? null;
  const fingerprint = invite?.split('#fp=')[1] ?? null;
  const url = `${options.insecure ? 'http' : 'https'}://127.0.0.1:${port}/`;
  return { ...host, port, data, url, invite, fingerprint, args };
}

export const indicator = (page: Page) => page.getByTestId('connection-indicator');
export const member = (page: Page, name: string) =>
  page.getByTestId('members-list').getByTestId('member').filter({ hasText: name });

export function requireBuild(): void {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    throw new Error('The web client is not built: run `npm run build` (npm test does it first).');
  }
}

export interface ScreenshotOptions {
  /** Dark or light colours (prefers-color-scheme); the page's own setting otherwise. */
  theme?: 'light' | 'dark';
  /** A viewport width for this picture only (420: a phone); the height stays. */
  width?: number;
}

/** Saves docs/screenshots/NAME.png, in the theme and width asked for, then puts the page back as it was. */
export async function screenshot(page: Page, name: string, options: ScreenshotOptions = {}): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const size = page.viewportSize();
  if (options.theme) await page.emulateMedia({ colorScheme: options.theme });
  if (options.width && size) await page.setViewportSize({ width: options.width, height: size.height });
  // Two frames so layout and styles have settled after the change.
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  if (options.width && size) await page.setViewportSize(size);
  if (options.theme) await page.emulateMedia({ colorScheme: null });
}

/** The same screen light, dark, and narrow (420 px, light): NAME-light, NAME-dark, NAME-narrow. */
export async function screenshots(page: Page, name: string): Promise<void> {
  await screenshot(page, `${name}-light`, { theme: 'light' });
  await screenshot(page, `${name}-dark`, { theme: 'dark' });
  await screenshot(page, `${name}-narrow`, { theme: 'light', width: 420 });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core (WCAG 2.x A and AA rules and best practices) on the page as it
 * is now and returns the serious and critical violations, one line each.
 * The script goes in through the DevTools protocol, so the host's
 * Content-Security-Policy (script-src 'self') does not stop it.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) {
    await page.evaluate(readFileSync(AXE_SCRIPT, 'utf8'));
  }
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<AxeResults> } })
      .axe;
    const results = await axe.run(document, { resultTypes: ['violations'] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The widths a screen is checked at: a desktop window and a phone. */
const SCREEN_SIZES = [
  { width: 1280, suffix: '' },
  { width: 420, suffix: '-narrow' },
] as const;

/**
 * axe at 1280 and 420 px, light and dark, and a picture of each into
 * docs/screenshots/NAME[-narrow]-{light,dark}.png; the serious and critical violations found,
 * by "width theme". `prepare` runs after each resize (a narrow screen may need its drawer opened).
 */
export async function axeAcrossScreens(
  page: Page,
  name: string,
  prepare: (width: number) => Promise<void> = async () => {},
): Promise<Record<string, AxeViolation[]>> {
  const found: Record<string, AxeViolation[]> = {};
  const height = page.viewportSize()!.height;
  for (const { width, suffix } of SCREEN_SIZES) {
    await page.setViewportSize({ width, height });
    await prepare(width);
    for (const theme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: theme });
      found[`${width} ${theme}`] = await seriousAxeViolations(page);
      await screenshot(page, `${name}${suffix}-${theme}`);
    }
  }
  await page.emulateMedia({ colorScheme: null });
  await page.setViewportSize({ width: 1280, height });
  return found;
}

interface AxeResults {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}

const AXE_SCRIPT = resolve('node_modules/axe-core/axe.min.js');

/** Watches a page for anything a script injection would do. */
export async function trackInjection(page: Page): Promise<{ dialogs: string[]; errors: string[] }> {
  const seen = { dialogs: [] as string[], errors: [] as string[] };
  page.on('dialog', (dialog) => {
    seen.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => seen.errors.push(error.message));
  return seen;
}

/** Opens the host's page in a new browser context (one person) and joins with `name` and `code`. */
export async function browserUser(
  browser: Browser,
  url: string,
  name: string,
  code: string,
  viewport = { width: 1100, height: 720 },
): Promise<Page> {
  // A host's certificate is its own (self-signed): accepted here as a person accepts it past the browser's warning.
  const context = await browser.newContext({ viewport, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByTestId('join-name').fill(name);
  await page.getByTestId('join-code').fill(code);
  await page.getByTestId('join-submit').click();
  return page;
}

export async function sendMessage(page: Page, text: string): Promise<void> {
  const input = page.getByTestId('composer-input');
  await input.fill(text);
  await input.press('Enter');
}

export const messageRow = (page: Page, text: string) =>
  page.getByTestId('message-row').filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });

/**
 * The desktop renderer in Chromium with a real DesktopChat behind it. The
 * preload's job (window.beacon, one function per command) is done by an init
 * script whose functions call the real IPC bridge through a Playwright binding;
 * events travel back the way webContents.send would carry them.
 */
export async function desktopUser(browser: Browser, dataDir: string) {
  const server: Server = createServer(webFilesHandler(WEB_ROOT));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const page = await context.newPage();
  const handlers = new Map<string, (event: { senderFrame: SenderFrame | null }, payload: unknown) => unknown>();
  const ipc: IpcMainLike = {
    handle: (channel, listener) => handlers.set(channel, listener),
    removeHandler: (channel) => handlers.delete(channel),
  };
  const pendingEvents: ChatEvent[] = [];
  let flushing = Promise.resolve();
  const session = new DesktopChat({
    settings: new SettingsFile(join(dataDir, 'settings.json')),
    roomsDir: join(dataDir, 'rooms'),
    webRoot: WEB_ROOT,
    hostBind: '127.0.0.1',
    emit: eventSender(() => ({
      isDestroyed: () => page.isClosed(),
      send: (_channel, event) => {
        pendingEvents.push(event);
        flushing = flushing.then(async () => {
          const batch = pendingEvents.splice(0);
          if (batch.length > 0 && !page.isClosed()) {
            await page.evaluate((events) => events.forEach((e) => window.__beaconDispatch?.(e)), batch).catch(() => {});
          }
        });
      },
    })),
  });
  registerIpc(ipc, session, url);
  await page.exposeBinding('__beaconInvoke', (source, name: string, payload: unknown) =>
    handlers.get(`beacon:${name}`)!(
      { senderFrame: { url: source.frame.url(), parent: source.frame.parentFrame() } },
      payload,
    ),
  );
  // window.beacon as the preload makes it: one function per command, from the contract's own list of them.
  await page.addInitScript((names: readonly string[]) => {
    const listeners = new Set<(event: unknown) => void>();
    // Looked up at each call, so it does not matter whether the binding or this script is installed first.
    const invoke = (name: string, input: unknown): Promise<unknown> =>
      (window as unknown as { __beaconInvoke: (n: string, p: unknown) => Promise<unknown> }).__beaconInvoke(
        name,
        input,
      );
    const beacon: Record<string, unknown> = {
      capabilities: { host: true, notifications: true },
      // The preload's fileUrl gives beacon-file: URLs that only Electron serves: a page here shows no pictures.
      fileUrl: () => null,
      onEvent(listener: (event: unknown) => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    for (const name of names) beacon[name] = (input?: unknown): Promise<unknown> => invoke(name, input);
    (window as unknown as Record<string, unknown>)['__beaconDispatch'] = (event: unknown) =>
      listeners.forEach((listener) => listener(event));
    (window as unknown as Record<string, unknown>)['beacon'] = beacon;
  }, COMMAND_NAMES);
  await page.goto(url);
  return {
    page,
    session,
    close: async () => {
      await session.shutdown();
      await context.close();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

declare global {
  interface Window {
    __beaconDispatch?: (event: ChatEvent) => void;
  }
}

// ── conversations (v1.5): channels, message actions, search ─────────────────

/** A channel's or a direct conversation's entry in the sidebar, by the name it shows. */
export const sidebarEntry = (page: Page, name: string) =>
  page
    .getByTestId('conversation-list')
    .getByTestId('conversation')
    .filter({ has: page.locator('.label bdi').getByText(name, { exact: true }) });

/**
 * Clicks one of a message's own actions (reply, edit, delete), shown while the pointer is over the
 * message or the keyboard is in it. The message takes the keyboard first: a list still settling
 * can move a row away from under a pointer, but not the focus out of it.
 */
export async function messageAction(page: Page, text: string, action: 'reply' | 'edit' | 'delete'): Promise<void> {
  const row = messageRow(page, text);
  await row.focus();
  await row.getByTestId('message-actions').getByTestId(action).click();
}

/**
 * browserUser for someone this browser already knows: the resume token a page keeps for `name`
 * (localStorage, as web-chat-api saves it after a welcome) is there before joining, so the host
 * takes them back as the member the token speaks for.
 */
export async function returningBrowserUser(
  browser: Browser,
  url: string,
  name: string,
  code: string,
  token: string,
  viewport = { width: 1100, height: 720 },
): Promise<Page> {
  const context = await browser.newContext({ viewport, ignoreHTTPSErrors: true });
  await context.addInitScript(
    ([key, value]) => {
      if (localStorage.getItem(key) === null) localStorage.setItem(key, value);
    },
    [`beacon:resume:${name}`, token] as const,
  );
  const page = await context.newPage();
  await page.goto(url);
  await page.getByTestId('join-name').fill(name);
  await page.getByTestId('join-code').fill(code);
  await page.getByTestId('join-submit').click();
  return page;
}

/**
 * A cable between one browser and a host on 127.0.0.1:`port`: a TCP proxy on [::1] at the same port
 * (a host answers only to its own names and port, and ::1 is one), so a page opened at `url` can be
 * cut off alone (`cut`: its connections dropped, new ones refused) and plugged back (`plug`).
 */
export async function loopbackCable(port: number) {
  const sockets = new Set<Socket>();
  let cut = false;
  const server = createNetServer((inbound) => {
    if (cut) return inbound.destroy();
    const outbound = connectTcp(port, '127.0.0.1');
    for (const [from, to] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      sockets.add(from);
      from.pipe(to);
      const drop = (): void => {
        sockets.delete(from);
        inbound.destroy();
        outbound.destroy();
      };
      from.on('close', drop).on('error', drop);
    }
  });
  await new Promise<void>((done) => server.listen(port, '::1', done));
  afterCleanup(() => new Promise<void>((done) => server.close(() => done())));
  return {
    url: (scheme: 'https' | 'http' = 'https') => `${scheme}://[::1]:${port}/`,
    cut: () => {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    plug: () => {
      cut = false;
    },
  };
}

const closers: (() => Promise<void>)[] = [];
function afterCleanup(close: () => Promise<void>): void {
  closers.push(close);
}
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
