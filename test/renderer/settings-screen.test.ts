/**
 * The settings screen in real Chromium (the harness: the real App over the fake ChatApi, and once
 * over the real in-browser ChatApi): reached from the start screen and from a room, worked with
 * the keyboard only, each change saved and applied, refusals said in a sentence; checked by axe
 * and photographed for the docs at 1280 and 420 px, light and dark.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.ts';
import { serveHarness } from '../helpers/harness-server.ts';
import { axeAcrossScreens } from '../e2e/helpers.ts';

let harness: Awaited<ReturnType<typeof serveHarness>> | undefined;
let browser: Browser;

beforeAll(async () => {
  harness = await serveHarness();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

const LIGHT_BG = 'rgb(247, 247, 248)';
const DARK_BG = 'rgb(22, 24, 28)';

async function openHarness(width = 1280): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  page.setDefaultTimeout(8_000);
  await page.goto(harness!.baseUrl, { timeout: 60_000 });
  await page.waitForFunction(() => window.harness !== undefined, null, { timeout: 60_000 });
  return page;
}

/** The desktop app's window at the start screen, someone who hosted "Design team" before. */
async function desktopAtStart(page: Page): Promise<void> {
  await page.evaluate(() => {
    window.harness.mount({
      capabilities: { host: true, notifications: true, desktopSettings: true },
      snapshot: {
        displayName: 'Ann',
        lastHosted: { roomName: 'Design team', port: 4747, code: '48213657' },
      },
    });
  });
  await page.getByTestId('start-screen').waitFor();
}

/** Presses Tab until `testid` has the keyboard (at most 40 times). */
async function tabTo(page: Page, testid: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((id) => document.activeElement?.getAttribute('data-testid') === id, testid)) return;
  }
  throw new Error(`Tab never reached ${testid}`);
}

const calls = (page: Page, name: string): Promise<unknown[]> =>
  page.evaluate((n) => window.harness.fake!.callsTo(n as never), name);
const background = (page: Page): Promise<string> =>
  page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
const status = (page: Page): Promise<string> => page.getByTestId('settings-status').innerText();

describe('the settings screen', () => {
  it('opens from the start screen with the keyboard, shows what is saved, and has no serious axe violations, wide and narrow, light and dark', async () => {
    const page = await openHarness();
    await desktopAtStart(page);
    await page.evaluate(() =>
      window.harness.fake!.respondOnce('getSettings', {
        ok: true,
        value: {
          displayName: 'Ann',
          notifyDirect: true,
          notifyMentions: true,
          theme: 'system',
          startAtLogin: true,
          hostAtLogin: false,
          downloadsFolder: '/home/ann/Shared with the team',
          closeWhileHosting: 'ask',
        },
      }),
    );
    await tabTo(page, 'open-settings');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('Settings');
    await page.keyboard.press('Enter');
    await page.getByTestId('settings-name').waitFor();
    expect(await page.getByTestId('settings-name').inputValue()).toBe('Ann');
    expect(await page.getByTestId('downloads-folder').innerText()).toBe('/home/ann/Shared with the team');
    expect(await page.getByTestId('start-at-login').isChecked()).toBe(true);
    expect(await page.getByText('That is “Design team”, with the same join code.').count()).toBe(1);

    const found = await axeAcrossScreens(page, 'settings-screen');
    expect(found).toEqual({ '1280 light': [], '1280 dark': [], '420 light': [], '420 dark': [] });

    await page.keyboard.press('Escape');
    await page.getByTestId('settings-panel').waitFor({ state: 'detached' });
    // Focus goes back to the button that opened it.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('open-settings');
    await page.close();
    // Four axe runs and screenshots: about 25 s alone, more beside other test files.
  }, 90_000);

  it('choosing a theme saves it and switches the colours at once, either way round from the system’s', async () => {
    const page = await openHarness();
    await page.emulateMedia({ colorScheme: 'light' });
    await desktopAtStart(page);
    expect(await background(page)).toBe(LIGHT_BG);
    await tabTo(page, 'open-settings');
    await page.keyboard.press('Enter');
    await page.getByTestId('theme-choice').waitFor();
    await tabTo(page, 'theme-choice-system');
    // Arrow keys move through a radio group and choose as they go.
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => calls(page, 'setSettings')).toEqual([{ theme: 'light' }, { theme: 'dark' }]);
    await expect.poll(() => background(page)).toBe(DARK_BG);
    expect(await page.evaluate(() => document.documentElement.dataset['theme'])).toBe('dark');
    expect(await status(page)).toBe('Theme saved: dark.');

    // A system in dark mode, Light chosen: light it is.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => background(page)).toBe(LIGHT_BG);
    // Back to the system's: dark, as the system is now.
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => background(page)).toBe(DARK_BG);
    expect(await page.evaluate(() => document.documentElement.dataset['theme'])).toBeUndefined();
    await page.close();
  });

  it('a name a room would refuse is refused with a sentence before saving; a refusal from the app is shown too; a good name is saved', async () => {
    const page = await openHarness();
    await desktopAtStart(page);
    await tabTo(page, 'open-settings');
    await page.keyboard.press('Enter');
    await tabTo(page, 'settings-name');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('you');
    await page.keyboard.press('Enter');
    const error = page.getByTestId('settings-name-error');
    expect(await error.innerText()).toBe('“You” is how the app shows your own name; pick another name.');
    expect(await page.getByTestId('settings-name').getAttribute('aria-invalid')).toBe('true');
    expect(await calls(page, 'setSettings')).toEqual([]);

    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Enter');
    expect(await error.innerText()).toBe('Enter your name.');

    await page.evaluate(() =>
      window.harness.fake!.respondOnce('setSettings', {
        ok: false,
        error: { code: 'BEACON_ERR_INVALID_INPUT', message: 'The settings file could not be written.' },
      }),
    );
    await page.keyboard.type('Ann Lee');
    await page.keyboard.press('Enter');
    await expect.poll(() => error.innerText()).toBe('The settings file could not be written.');

    await tabTo(page, 'settings-name-save');
    await page.keyboard.press('Enter');
    await expect.poll(() => status(page)).toBe('Name saved.');
    expect(await error.count()).toBe(0);
    expect(await calls(page, 'setSettings')).toEqual([{ displayName: 'Ann Lee' }, { displayName: 'Ann Lee' }]);
    await page.close();
  });

  it('notifications, start at login, hosting at login, the downloads folder and the close choice are each saved as they change', async () => {
    const page = await openHarness();
    await desktopAtStart(page);
    await tabTo(page, 'open-settings');
    await page.keyboard.press('Enter');
    await page.getByTestId('notify-direct').waitFor();

    await tabTo(page, 'notify-direct');
    await page.keyboard.press('Space');
    await expect.poll(() => status(page)).toBe('Direct messages will not notify you.');

    // Hosting at login waits for starting at login.
    expect(await page.getByTestId('host-at-login').isDisabled()).toBe(true);
    await tabTo(page, 'start-at-login');
    await page.keyboard.press('Space');
    await expect.poll(() => page.getByTestId('host-at-login').isDisabled()).toBe(false);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await expect.poll(() => status(page)).toBe('The room you hosted last will be hosted again when you log in.');

    await page.evaluate(() => {
      const fake = window.harness.fake!;
      void fake.getSettings().then((saved) => {
        if (saved.ok)
          fake.respondOnce('chooseDownloadsFolder', {
            ok: true,
            value: { ...saved.value, downloadsFolder: '/media/ann/USB stick/Beacon' },
          });
      });
    });
    await tabTo(page, 'choose-downloads');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('downloads-folder').innerText()).toBe('/media/ann/USB stick/Beacon');
    expect(await status(page)).toBe('Downloads folder saved.');
    await tabTo(page, 'use-downloads');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('downloads-folder').innerText()).toBe('Downloads (the system’s folder)');

    await tabTo(page, 'closing-choice-ask');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => status(page)).toBe('Closing the window will keep hosting in the tray.');

    expect(await calls(page, 'setSettings')).toEqual([
      { notifyDirect: false },
      { startAtLogin: true },
      { hostAtLogin: true },
      { downloadsFolder: null },
      { closeWhileHosting: 'keep' },
    ]);
    expect(await calls(page, 'chooseDownloadsFolder')).toHaveLength(1);
    await page.close();
  });

  it('a change the app refuses puts the box back and says why', async () => {
    const page = await openHarness();
    await desktopAtStart(page);
    await page.evaluate(() =>
      window.harness.fake!.respondOnce('setSettings', {
        ok: false,
        error: { code: 'BEACON_ERR_INTERNAL', message: 'Beacon could not add itself to the login items.' },
      }),
    );
    await tabTo(page, 'open-settings');
    await page.keyboard.press('Enter');
    await tabTo(page, 'start-at-login');
    await page.keyboard.press('Space');
    await expect
      .poll(() => page.getByRole('alert').innerText())
      .toBe('Beacon could not add itself to the login items.');
    expect(await page.getByTestId('start-at-login').isChecked()).toBe(false);
    expect(await status(page)).toBe('');
    await page.close();
  });

  it('is reachable from a room too, with its status choice; the desktop-only part is absent in a browser', async () => {
    const page = await openHarness();
    await page.evaluate(() => {
      const h = window.harness;
      const me = h.member('me', 'Me');
      h.mount({
        capabilities: { host: false, notifications: false, desktopSettings: false },
        snapshot: {
          connection: { kind: 'connected', address: '10.0.0.2:4747', rttMs: 3 },
          room: { name: 'Design team', you: me, members: [me, h.member('bob', 'Bob')] },
          displayName: 'Me',
        },
      });
    });
    await page.getByTestId('composer-input').waitFor();
    await page.getByTestId('open-settings').click();
    await page.getByTestId('status-choice').waitFor();
    expect(await page.getByTestId('theme-choice').count()).toBe(1);
    for (const desktopOnly of ['startup-choice', 'downloads-choice', 'closing-choice', 'notification-preferences'])
      expect(await page.getByTestId(desktopOnly).count(), desktopOnly).toBe(0);
    await page.close();
  });
});

describe('the settings screen in a browser (the real in-browser ChatApi)', () => {
  it('keeps the name, notifications and theme in this browser across a reload; the desktop’s own settings are not offered', async () => {
    const page = await openHarness();
    await page.evaluate(() => localStorage.clear());
    await page.evaluate(() => window.harness.mountWeb());
    await page.getByTestId('start-screen').waitFor();
    await page.getByTestId('open-settings').click();
    await page.getByTestId('settings-name').fill('Dana');
    await page.getByTestId('settings-name-save').click();
    await expect.poll(() => status(page)).toBe('Name saved.');
    await page.getByTestId('theme-choice-dark').check();
    await expect.poll(() => background(page)).toBe(DARK_BG);
    if (await page.getByTestId('notify-mentions').count()) await page.getByTestId('notify-mentions').uncheck();
    for (const desktopOnly of ['startup-choice', 'downloads-choice', 'closing-choice'])
      expect(await page.getByTestId(desktopOnly).count(), desktopOnly).toBe(0);

    await page.reload();
    await page.waitForFunction(() => window.harness !== undefined);
    await page.evaluate(() => window.harness.mountWeb());
    await page.getByTestId('start-screen').waitFor();
    // The theme before anything else is drawn.
    expect(await background(page)).toBe(DARK_BG);
    await page.getByTestId('open-settings').click();
    await page.getByTestId('settings-name').waitFor();
    expect(await page.getByTestId('settings-name').inputValue()).toBe('Dana');
    expect(await page.getByTestId('theme-choice-dark').isChecked()).toBe(true);
    const notify = await page.evaluate(() => localStorage.getItem('beacon:preferences'));
    if (await page.getByTestId('notify-mentions').count()) {
      expect(await page.getByTestId('notify-mentions').isChecked()).toBe(false);
      expect(JSON.parse(notify!)).toEqual({ notifyDirect: true, notifyMentions: false });
    }
    await page.keyboard.press('Escape');
    // The join form fills in the saved name.
    expect(await page.getByTestId('join-name').inputValue()).toBe('Dana');
    await page.close();
  });
});
