/**
 * Smoke test of the REAL packaged Linux app (the release workflow runs it under Xvfb):
 *
 *   xvfb-run -a npm run smoke:packaged -- dist/linux-unpacked/beacon
 *
 * 1. the executable's fuses are the ones Beacon requires (scripts/check-package.ts REQUIRED_FUSES);
 * 2. the app starts (fresh HOME, so a fresh user data folder) and its window loads app://beacon/index.html with
 *    the preload's `window.beacon` in place, driven over the Chrome DevTools Protocol (--remote-debugging-port
 *    is a Chromium switch, not one of the Node options the fuses turn off);
 * 3. the renderer reaches main: getState() answers through the IPC bridge;
 * 4. the page hosts a room on port 0, the way a person would, and curl fetches its page and /room.json over HTTPS;
 * 5. a browser (Chromium, CHROMIUM_PATH) opens the room's page, joins with the code, and a message it sends
 *    shows in the app's window;
 * 6. SIGTERM quits the app cleanly (exit code 0, within SHUTDOWN_LIMIT_MS), the browser is told the host
 *    stopped the room, and the room's port is closed.
 *
 * Needs no hook in main. Fails (exit 1) with the step that failed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/chromium.ts';
import type { ChatApi } from '../src/shared/chat-api.ts';
import { readFuseWire, REQUIRED_FUSES } from './check-package.ts';

const START_LIMIT_MS = 60_000;
const SHUTDOWN_LIMIT_MS = 15_000;
const ROOM_NAME = 'Release smoke test';
const GUEST_NAME = 'Browser guest';
const GUEST_SAYS = 'Hello from a browser';
const SEEN_LIMIT_MS = 20_000;

const step = (text: string): void => console.log(`smoke: ${text}`);

function failed(text: string): never {
  console.error(`smoke test FAILED: ${text}`);
  process.exit(1);
}

function devToolsAddress(child: ChildProcess, output: { text: string }): Promise<string> {
  return new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error('no "DevTools listening" line within the start limit')),
      START_LIMIT_MS,
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      output.text = (output.text + chunk.toString()).slice(-20_000);
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(output.text);
      if (found?.[1]) {
        clearTimeout(timer);
        done(found[1]);
      }
    });
    child.on('exit', (code, signal) => fail(new Error(`the app exited (${code ?? signal}) before it listened`)));
  });
}

async function beaconPage(connected: Awaited<ReturnType<typeof chromium.connectOverCDP>>): Promise<Page> {
  const deadline = Date.now() + START_LIMIT_MS;
  while (Date.now() < deadline) {
    const page = connected
      .contexts()
      .flatMap((c) => c.pages())
      .find((p) => p.url().startsWith('app://beacon/'));
    if (page) return page;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `no window showed app://beacon/ (pages: ${connected.contexts().flatMap((c) => c.pages().map((p) => p.url()))})`,
  );
}

function curl(url: string): string {
  const result = spawnSync('curl', ['-k', '-sS', '-f', '--max-time', '10', url], { encoding: 'utf8' });
  if (result.status !== 0) failed(`curl -k ${url}: ${result.stderr}`);
  return result.stdout;
}

function portIsClosed(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.on('error', () => done(true));
  });
}

/**
 * A colleague without the app: opens the room's page in a browser (past the warning about the host's own
 * certificate, as a person would), joins with the code and says hello. Answers the guest's page.
 */
export async function browserJoins(browser: Browser, port: number, code: string): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const guest = await context.newPage();
  await guest.goto(`https://127.0.0.1:${port}/`);
  await guest.getByTestId('join-name').fill(GUEST_NAME);
  await guest.getByTestId('join-code').fill(code);
  await guest.getByTestId('join-submit').click();
  const input = guest.getByTestId('composer-input');
  await input.waitFor({ timeout: SEEN_LIMIT_MS });
  await input.fill(GUEST_SAYS);
  await input.press('Enter');
  return guest;
}

/** Waits until `page` shows `text` (a message or a sentence), or fails the smoke test with `what`. */
async function shows(page: Page, text: string, what: string): Promise<void> {
  try {
    await page.getByText(text).first().waitFor({ timeout: SEEN_LIMIT_MS });
  } catch {
    failed(`${what}: "${text}" did not show within ${SEEN_LIMIT_MS} ms`);
  }
}

async function main(): Promise<void> {
  const executable = resolve(process.argv[2] ?? 'dist/linux-unpacked/beacon');

  const wire = readFuseWire(readFileSync(executable));
  if (wire === null) failed(`${executable} has no fuse wire`);
  const wrong = REQUIRED_FUSES.filter((f) => wire[f.index] !== (f.on ? '1' : '0'));
  if (wrong.length > 0)
    failed(`fuses not set: ${wrong.map((f) => `${f.name} should be ${f.on ? 'on' : 'off'}`).join(', ')}`);
  step(`fuses: ${REQUIRED_FUSES.map((f) => `${f.name}=${f.on ? 'on' : 'off'}`).join(', ')}`);

  const home = mkdtempSync(join(tmpdir(), 'beacon-smoke-home-'));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') };
  for (const key of ['ELECTRON_RUN_AS_NODE', 'ELECTRON_RENDERER_URL', 'NODE_OPTIONS']) delete env[key];
  const app = spawn(executable, ['--remote-debugging-port=0'], { env, stdio: ['ignore', 'inherit', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    app.on('exit', (code, signal) => done({ code, signal })),
  );
  const stderr = { text: '' };
  try {
    const address = await devToolsAddress(app, stderr);
    step(`started (pid ${app.pid}), DevTools at ${address}`);
    const browser = await chromium.connectOverCDP(address);
    const page = await beaconPage(browser);
    await page.waitForLoadState('load');
    const shown = await page.evaluate(() => ({
      bridge: typeof (window as unknown as { beacon?: ChatApi }).beacon?.host === 'function',
      text: document.body.innerText.trim().length,
    }));
    if (!shown.bridge || shown.text === 0) failed(`the window loaded ${page.url()} but ${JSON.stringify(shown)}`);
    step(`the window shows ${page.url()} with window.beacon`);

    const state = await page.evaluate(() => (window as unknown as { beacon: ChatApi }).beacon.getState());
    if (!state.ok) failed(`getState did not reach main: ${JSON.stringify(state)}`);
    step('the renderer reaches main (getState answered)');

    const hosted = await page.evaluate(
      (roomName) => (window as unknown as { beacon: ChatApi }).beacon.host({ roomName, name: 'CI', port: 0, code: '' }),
      ROOM_NAME,
    );
    if (!hosted.ok) failed(`hosting failed: ${JSON.stringify(hosted.error)}`);
    const { port } = hosted.value;
    step(`hosting "${ROOM_NAME}" on port ${port}`);
    if (!curl(`https://127.0.0.1:${port}/`).includes('<html')) failed(`the room's page is not HTML`);
    const room = curl(`https://127.0.0.1:${port}/room.json`);
    if (!room.includes(ROOM_NAME)) failed(`/room.json does not name the room: ${room.slice(0, 300)}`);
    step(`curl -k fetched the room's page and /room.json`);

    const guests = await launchChromium();
    const guest = await browserJoins(guests, port, hosted.value.code ?? '');
    await shows(page, GUEST_SAYS, "the browser guest's message in the app's window");
    step(`a browser joined as "${GUEST_NAME}" and its message showed in the app`);
    await browser.close();

    app.kill('SIGTERM');
    const timer = setTimeout(() => app.kill('SIGKILL'), SHUTDOWN_LIMIT_MS);
    const end = await exited;
    clearTimeout(timer);
    if (end.code !== 0) failed(`quitting ended with ${end.code ?? end.signal} (SIGKILL after ${SHUTDOWN_LIMIT_MS} ms)`);
    if (!(await portIsClosed(port))) failed(`port ${port} still accepts connections after quitting`);
    await shows(guest, 'The host stopped the room', 'the browser after the app quit');
    await guests.close();
    step('SIGTERM quit the app cleanly, the browser was told the host stopped, and the room stopped');
  } catch (error) {
    if (app.exitCode === null) app.kill('SIGKILL');
    failed(
      `${error instanceof Error ? error.message : String(error)}\napp stderr (last lines):\n${stderr.text.slice(-4000)}`,
    );
  }
  console.log('smoke test passed');
}

if (import.meta.main) await main();
