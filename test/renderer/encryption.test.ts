/**
 * Issue 11 as a person sees it, in real Chromium against the fake ChatApi:
 * the Encrypted / Not encrypted label and its details, the warning when a
 * host shows another fingerprint, the host panel's fingerprint and invite,
 * a pasted invite in the join form, and a browser page's own connection.
 * Each screen is checked with axe at 1280 and 420 px, light and dark, and
 * photographed into docs/screenshots/encryption-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatEvent, ConnectionSecurity, HostInfo } from '../../src/shared/chat-api.ts';
import type { Fingerprint } from '../../src/shared/fingerprint.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { serveHarness } from '../helpers/harness-server.ts';
import { axeAcrossScreens } from '../e2e/helpers.ts';
import type { MountOptions } from '../harness/main.ts';

const FP = '3f9a21c477b05e129c0daa431b7f6e20' as Fingerprint;
const FP_SHOWN = '3F9A 21C4 77B0 5E12 9C0D AA43 1B7F 6E20';
const OTHER = 'e0a1b2c3d4e5f60718293a4b5c6d7e8f' as Fingerprint;
const OTHER_SHOWN = 'E0A1 B2C3 D4E5 F607 1829 3A4B 5C6D 7E8F';
const INVITE = `https://192.168.1.20:4747/#fp=${FP}`;
/** A made-up https origin the tests route to the harness, so the page runs as one served over https. */
const HTTPS_ORIGIN = 'https://beacon.test:4747';

let harness: Awaited<ReturnType<typeof serveHarness>> | undefined;
let browser: Browser;
let page: Page;
let baseUrl: string;

beforeAll(async () => {
  harness = await serveHarness();
  baseUrl = harness.baseUrl;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

/** A fresh page at `url` (the harness over http unless a test routes another origin to it). */
async function open(url = baseUrl): Promise<void> {
  await page?.context().close();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.setDefaultTimeout(8_000);
  page.on('pageerror', (error) => {
    throw error;
  });
  if (url.startsWith(HTTPS_ORIGIN)) await routeHttpsToHarness(page);
  // The first load waits for Vite to compile the interface: on two busy cores that took over 8 s.
  await page.goto(url, { timeout: 60_000 });
  await page.waitForFunction(() => window.harness !== undefined, null, { timeout: 60_000 });
}

/** Serves the harness at HTTPS_ORIGIN, with the /room.json a host would serve. */
async function routeHttpsToHarness(target: Page, roomJson: object = roomJsonBody): Promise<void> {
  await target.route(`${HTTPS_ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/room.json') {
      await route.fulfill({ contentType: 'application/json', body: JSON.stringify(roomJson) });
      return;
    }
    const response = await route.fetch({ url: new URL(url.pathname + url.search, baseUrl).href });
    await route.fulfill({ response });
  });
}
let roomJsonBody: object = { name: 'Lab', codeRequired: true, fingerprint: FP };

beforeEach(async () => {
  roomJsonBody = { name: 'Lab', codeRequired: true, fingerprint: FP };
  await open();
});

const tid = (id: string): string => `[data-testid="${id}"]`;

async function mount(options: MountOptions = {}): Promise<void> {
  await page.evaluate((o) => {
    window.harness.mount(o);
  }, options);
}

async function emit(event: ChatEvent): Promise<void> {
  await page.evaluate((e) => window.harness.fake!.emit(e), event);
}

async function calls(name: string): Promise<unknown[]> {
  return page.evaluate((n) => window.harness.fake!.calls.filter((c) => c.name === n).map((c) => c.input), name);
}

const connected = (security?: ConnectionSecurity): ChatEvent => ({
  type: 'connection',
  state: { kind: 'connected', address: '192.168.1.20:4747', rttMs: 3, ...(security ? { security } : {}) },
});

const hostChanged: ChatEvent = {
  type: 'connection',
  state: {
    kind: 'offline',
    address: '192.168.1.20:4747',
    reason: 'BEACON_ERR_HOST_CHANGED',
    reasonText: 'This is not the host you were invited to.',
    nextRetryAt: null,
    fingerprints: { expected: FP, presented: OTHER },
  },
};

const hosting = (fingerprint: Fingerprint | null): HostInfo => ({
  roomName: 'Lab',
  port: 4747,
  code: '424242',
  addresses: [fingerprint ? 'wss://192.168.1.20:4747' : 'ws://192.168.1.20:4747'],
  webAddresses: [fingerprint ? 'https://192.168.1.20:4747/' : 'http://192.168.1.20:4747/'],
  fingerprint,
  invite: fingerprint ? `https://192.168.1.20:4747/#fp=${fingerprint}` : null,
});

/** In the room Lab as "me" with Bob, connected with `security`. */
async function inRoom(security?: ConnectionSecurity, options: MountOptions = {}): Promise<void> {
  await mount(options);
  await emit(connected(security));
  await page.evaluate(() => {
    const h = window.harness;
    h.fake!.emit({
      type: 'welcome',
      room: {
        name: 'Lab',
        you: h.member('me', 'Me'),
        members: [h.member('me', 'Me'), h.member('bob', 'Bob'), h.member('ann', 'Ann')],
      },
      history: h.makeMessages(4, 4),
      hasMore: false,
      resumed: false,
    });
  });
  await page.waitForSelector(tid('composer-input'));
}

/**
 * axe at 1280 and 420 px, light and dark, and a picture of each into docs/screenshots/encryption-NAME-….png.
 * `prepare` runs after each resize (a narrow screen may need its drawer opened, a popover reopened).
 */
async function checkScreen(name: string, prepare: (width: number) => Promise<void> = async () => {}): Promise<void> {
  const found = await axeAcrossScreens(page, `encryption-${name}`, prepare);
  expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])));
}

describe('the room says whether it is encrypted', () => {
  it('the top bar says Encrypted, and its details show the host’s fingerprint and that it matched the invite', async () => {
    await inRoom({ encrypted: true, fingerprint: FP, trust: 'invite' });
    const badge = page.locator(tid('security-badge'));
    expect((await badge.textContent())?.trim()).toBe('Encrypted, details');
    // A padlock drawn beside the word, so it does not rest on colour, nor on an emoji font being there.
    expect(await badge.locator('svg.lock').count()).toBe(1);
    expect(await page.isVisible(tid('security-details'))).toBe(false);

    await badge.click();
    expect(await badge.getAttribute('aria-expanded')).toBe('true');
    expect(await page.textContent(tid('security-fingerprint'))).toBe(FP_SHOWN);
    expect(await page.textContent(tid('security-trust'))).toContain('matched the fingerprint in your invite');
    await checkScreen('details', async () => {
      if ((await badge.getAttribute('aria-expanded')) !== 'true') await badge.click();
    });
  });

  it('the details open from the keyboard, and Escape closes them and gives the keyboard back to the label', async () => {
    await inRoom({ encrypted: true, fingerprint: FP, trust: 'remembered' });
    const badge = page.locator(tid('security-badge'));
    await badge.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector(`${tid('security-details')}:visible`);
    expect(await page.textContent(tid('security-trust'))).toContain('same as last time');
    // Tab reaches what is inside the details.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Close');
    await page.keyboard.press('Escape');
    await page.waitForSelector(tid('security-details'), { state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('security-badge');
    // The composer still has its messages: Escape did nothing else.
    expect(await page.isVisible(tid('composer-input'))).toBe(true);
  });

  it('a first visit shows the fingerprint it now trusts in the open, until the person says they saw it', async () => {
    await inRoom({ encrypted: true, fingerprint: FP, trust: 'first-use' });
    const note = page.locator(tid('first-visit-note'));
    expect(await note.textContent()).toContain('First visit to this room');
    expect(await page.textContent(tid('first-visit-fingerprint'))).toBe(FP_SHOWN);
    expect((await note.innerText()).replace(/\s+/g, ' ')).toContain(
      'compare it with the fingerprint on the host’s screen',
    );
    await page.click(tid('security-badge'));
    const trust = await page.textContent(tid('security-trust'));
    expect(trust).toContain('First visit');
    expect(trust).toContain('compare it with the fingerprint on the host’s screen');
    await page.click(tid('security-badge'));
    await checkScreen('first-visit');

    await page.click(tid('first-visit-dismiss'));
    await note.waitFor({ state: 'detached' });
    // A reconnect to the same host does not bring it back; a room joined later by a bare address would.
    await emit(connected({ encrypted: true, fingerprint: FP, trust: 'first-use' }));
    expect(await note.count()).toBe(0);
  });

  it('a host recognised from the invite or from last time shows no first-visit note', async () => {
    await inRoom({ encrypted: true, fingerprint: FP, trust: 'invite' });
    await page.waitForSelector(tid('security-badge'));
    expect(await page.$(tid('first-visit-note'))).toBeNull();
  });

  it('a room without encryption says “Not encrypted” in words, and why that matters', async () => {
    await inRoom({ encrypted: false });
    const badge = page.locator(tid('security-badge'));
    expect((await badge.textContent())?.trim()).toBe('Not encrypted, details');
    expect(await badge.getAttribute('data-encrypted')).toBe('false');
    await badge.click();
    expect(await page.textContent(tid('security-details'))).toContain('could read the messages and the join code');
    expect(await page.$(tid('security-fingerprint'))).toBeNull();
  });

  it('says nothing about encryption while not connected', async () => {
    await inRoom({ encrypted: true, fingerprint: FP, trust: 'invite' });
    await page.waitForSelector(tid('security-badge'));
    await emit({
      type: 'connection',
      state: {
        kind: 'reconnecting',
        address: '192.168.1.20:4747',
        attempt: 1,
        nextRetryAt: Date.now() + 2000,
        reason: 'BEACON_ERR_NETWORK',
        reasonText: 'The network connection was lost.',
      },
    });
    await page.waitForSelector(tid('security-badge'), { state: 'detached' });
  });
});

describe('a host that shows another fingerprint', () => {
  it('stops the room with a warning in words, both fingerprints, and the keyboard on its heading', async () => {
    await inRoom({ encrypted: true, fingerprint: FP, trust: 'remembered' });
    await emit(hostChanged);
    const panel = page.locator(tid('host-changed'));
    await panel.waitFor();
    expect(await page.textContent('#host-changed-heading')).toContain('This is not the host you were invited to');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('host-changed-heading');
    expect(await page.textContent(tid('expected-fingerprint'))).toBe(FP_SHOWN);
    expect(await page.textContent(tid('presented-fingerprint'))).toBe(OTHER_SHOWN);
    const words = (await panel.textContent()) ?? '';
    expect(words).toMatch(/pretending to be the host/);
    expect(words).toMatch(/reinstalled Beacon/);
    expect(words).toMatch(/Ask the host.*read out the fingerprint/);
    expect(await page.textContent(tid('connection-announcement'))).toContain('not the host you were invited to');
    // Nothing to type into while this is unresolved, and no "Retry now" that would go back to the same machine.
    expect(await page.$(tid('composer-input'))).toBeNull();
    expect(await page.$(tid('retry-now'))).toBeNull();
    await checkScreen('host-changed');
  });

  it('trusts the new fingerprint only after a second, explicit confirmation', async () => {
    await inRoom({ encrypted: true, fingerprint: FP, trust: 'remembered' });
    await emit(hostChanged);
    await page.click(tid('host-changed-trust'));
    // The first click only asks.
    await page.waitForSelector(tid('host-changed-confirm'));
    expect(await page.textContent(tid('host-changed-confirm'))).toContain(OTHER_SHOWN);
    expect(await calls('trustHost')).toEqual([]);
    await checkScreen('host-changed-confirm');
    // Cancel goes back and the keyboard returns to the warning.
    await page.click(tid('host-changed-trust-cancel'));
    await page.waitForSelector(tid('host-changed-confirm'), { state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('host-changed-heading');
    expect(await calls('trustHost')).toEqual([]);

    // Now from the keyboard alone: Leave, then the trust button, then the confirmation.
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('host-changed-leave');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('host-changed-trust');
    await page.keyboard.press('Enter');
    await page.waitForSelector(tid('host-changed-confirm'));
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('host-changed-confirm-q');
    expect(await calls('trustHost')).toEqual([]);
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('host-changed-trust-confirm');
    await page.keyboard.press('Enter');
    await expect.poll(() => calls('trustHost')).toEqual([{ fingerprint: OTHER }]);
    // Trusted: the warning goes, and the room comes back when the host welcomes us again.
    await page.waitForSelector(tid('host-changed'), { state: 'detached' });
    await emit(connected({ encrypted: true, fingerprint: OTHER, trust: 'remembered' }));
    await page.waitForSelector(tid('composer-input'));
  });

  it('a refusal to trust is said beside the warning, which stays', async () => {
    await inRoom({ encrypted: true, fingerprint: FP, trust: 'remembered' });
    await emit(hostChanged);
    await page.evaluate(() =>
      window.harness.fake!.respondOnce('trustHost', {
        ok: false,
        error: { code: 'BEACON_ERR_INVALID_INPUT', message: 'That could not be saved.' },
      }),
    );
    await page.click(tid('host-changed-trust'));
    await page.click(tid('host-changed-trust-confirm'));
    await page.waitForSelector(`${tid('host-changed-problem')}:has-text("could not be saved")`);
    expect(await page.isVisible(tid('host-changed'))).toBe(true);
  });

  it('Leave is the first choice: it goes back to the start screen and trusts nothing', async () => {
    await inRoom({ encrypted: true, fingerprint: FP, trust: 'remembered' });
    await emit(hostChanged);
    await page.waitForSelector(tid('host-changed'));
    // Leave comes first in the keyboard order, before the trust button.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('host-changed-leave');
    await page.keyboard.press('Enter');
    await page.waitForSelector(tid('start-screen'));
    expect(await calls('leave')).toHaveLength(1);
    expect(await calls('trustHost')).toEqual([]);
  });

  it('stops a first join from the start screen too', async () => {
    await mount({ snapshot: { displayName: 'Me' } });
    await page.fill(tid('join-address'), INVITE);
    await page.fill(tid('join-code'), '4242');
    await page.click(tid('join-submit'));
    await emit({ type: 'connection', state: { kind: 'connecting', address: INVITE, attempt: 1 } });
    await emit(hostChanged);
    await page.waitForSelector(tid('host-changed'));
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('host-changed-heading');
    expect(await page.textContent(tid('connection-announcement'))).toContain('not the host you were invited to');
    await page.click(tid('host-changed-leave'));
    await page.waitForSelector(tid('join-form'));
    expect(await page.$(tid('host-changed'))).toBeNull();
  });
});

describe('hosting', () => {
  it('the host panel shows the fingerprint in groups, says what it is for, and Copy invite copies the link with it', async () => {
    await inRoom(
      { encrypted: true, fingerprint: FP, trust: 'invite' },
      { snapshot: { hostInfo: hosting(FP), displayName: 'Me' } },
    );
    await page.evaluate(() => {
      navigator.clipboard.writeText = async (text: string) => {
        (window as unknown as { copied: string }).copied = text;
      };
    });
    const panel = page.locator(tid('host-panel'));
    expect(await page.textContent(tid('host-fingerprint'))).toBe(FP_SHOWN);
    expect(await panel.textContent()).toContain('compare it with what their app or browser shows');
    expect(await page.textContent(tid('host-addresses'))).toContain('https://192.168.1.20:4747/');
    await page.click(tid('copy-invite'));
    await page.waitForSelector(`${tid('copy-state')}:has-text("Invite copied")`);
    expect(await page.evaluate(() => (window as unknown as { copied: string }).copied)).toBe(
      `https://192.168.1.20:4747/#fp=${FP}`,
    );
    await page.click(tid('copy-app-link'));
    await page.waitForSelector(`${tid('copy-state')}:has-text("App link copied")`);
    expect(await page.evaluate(() => (window as unknown as { copied: string }).copied)).toBe(
      `beacon://192.168.1.20:4747/#fp=${FP}`,
    );
    expect(await page.$(tid('host-not-encrypted'))).toBeNull();
    // The host's own window was given no invite: its label says whose fingerprint it is.
    await page.click(tid('security-badge'));
    expect(await page.textContent(tid('security-trust'))).toContain('the room you host');
    await page.click(tid('security-badge'));
    await checkScreen('host-panel', async (width) => {
      if (width < 700 && (await page.getAttribute(tid('sidebar-toggle'), 'aria-expanded')) !== 'true') {
        await page.click(tid('sidebar-toggle'));
        await page.waitForSelector(`${tid('host-panel')}:visible`);
      }
    });
  });

  it('a room started without encryption says so plainly in the host panel', async () => {
    await inRoom({ encrypted: false }, { snapshot: { displayName: 'Me' } });
    await emit({ type: 'hostInfo', info: hosting(null) });
    const warning = page.locator(tid('host-not-encrypted'));
    expect(await warning.textContent()).toContain('Not encrypted');
    expect(await warning.textContent()).toContain('anyone on the network could read it');
    expect(await page.$(tid('host-fingerprint'))).toBeNull();
    await checkScreen('host-panel-insecure', async (width) => {
      if (width < 700 && (await page.getAttribute(tid('sidebar-toggle'), 'aria-expanded')) !== 'true') {
        await page.click(tid('sidebar-toggle'));
      }
    });
  });
});

describe('joining with an invite', () => {
  it('a pasted invite shows the host’s fingerprint under the field and is passed on whole', async () => {
    await mount({ snapshot: { displayName: 'Me' } });
    await page.fill(tid('join-address'), INVITE);
    await page.waitForSelector(tid('join-address-hint'));
    expect(await page.textContent(tid('join-address-hint'))).toContain(
      `The invite includes the host’s fingerprint: ${FP_SHOWN}`,
    );
    expect(await page.getAttribute(tid('join-address'), 'aria-describedby')).toMatch(/-hint$/);
    await checkScreen('join-invite');
    await page.fill(tid('join-code'), '4242');
    await page.click(tid('join-submit'));
    await expect.poll(() => calls('join')).toEqual([{ address: INVITE, name: 'Me', code: '4242' }]);
  });

  it('a bare address shows no fingerprint line', async () => {
    await mount({ snapshot: { displayName: 'Me' } });
    await page.fill(tid('join-address'), '192.168.1.20:4747');
    expect(await page.$(tid('join-address-hint'))).toBeNull();
  });

  it('recent rooms that were encrypted say so', async () => {
    const now = Date.now();
    await mount({
      snapshot: {
        displayName: 'Me',
        recentRooms: [
          { address: '10.0.0.5:4747', roomName: 'Design', code: '1', name: 'Me', lastJoined: now, fingerprint: FP },
          { address: '10.0.0.6:4747', roomName: 'Old', code: '1', name: 'Me', lastJoined: now - 1000 },
        ],
      },
    });
    const rows = page.locator(`${tid('recent-rooms')} li`);
    expect(await rows.nth(0).locator(tid('recent-room-encrypted')).textContent()).toContain('encrypted');
    expect(await rows.nth(1).locator(tid('recent-room-encrypted')).count()).toBe(0);
  });
});

describe('a browser page tells its user whether the connection is encrypted', () => {
  it('over https it says Encrypted, shows the host’s fingerprint and how to compare it with the browser’s', async () => {
    await open(`${HTTPS_ORIGIN}/`);
    await mount({ capabilities: { host: false } });
    const note = page.locator(tid('page-security'));
    await note.waitFor();
    expect(await note.getAttribute('data-encrypted')).toBe('true');
    await page.waitForSelector(`${tid('page-fingerprint')}:has-text("${FP_SHOWN}")`);
    expect(await note.textContent()).toContain('SHA-256 fingerprint');
    expect(await note.textContent()).toContain('first 32 characters');
    await checkScreen('browser-encrypted');
  });

  it('over http it says Not encrypted, in words', async () => {
    await mount({ capabilities: { host: false } });
    const note = page.locator(tid('page-security'));
    await note.waitFor();
    expect(await note.getAttribute('data-encrypted')).toBe('false');
    expect(await note.textContent()).toContain('Not encrypted');
    expect(await note.textContent()).toContain('opened with http://');
    await checkScreen('browser-not-encrypted');
  });

  it('an invite whose fingerprint is not the one the host states is warned about before joining', async () => {
    await open(`${HTTPS_ORIGIN}/#fp=${OTHER}`);
    await mount({ capabilities: { host: false } });
    const warning = page.locator(tid('invite-mismatch'));
    await warning.waitFor();
    expect(await warning.textContent()).toContain('This page is not the host in your invite');
    expect(await page.textContent(tid('invite-fingerprint'))).toBe(OTHER_SHOWN);
    expect(await page.textContent(tid('stated-fingerprint'))).toBe(FP_SHOWN);
    await checkScreen('browser-invite-mismatch');
  });

  it('an invite that matches says so, and a host that states no fingerprint is still “Encrypted”', async () => {
    await open(`${HTTPS_ORIGIN}/#fp=${FP}`);
    await mount({ capabilities: { host: false } });
    await page.waitForSelector(`${tid('page-security')}:has-text("the same as in your invite")`);
    expect(await page.$(tid('invite-mismatch'))).toBeNull();

    roomJsonBody = { name: 'Lab', codeRequired: true };
    await open(`${HTTPS_ORIGIN}/`);
    await mount({ capabilities: { host: false } });
    await page.waitForSelector(tid('join-room-name'));
    expect(await page.getAttribute(tid('page-security'), 'data-encrypted')).toBe('true');
    expect(await page.$(tid('page-fingerprint'))).toBeNull();
  });

  it('in the room, the label says the browser checked the connection and how to compare', async () => {
    await open(`${HTTPS_ORIGIN}/`);
    await inRoom({ encrypted: true, fingerprint: FP, trust: 'browser' }, { capabilities: { host: false } });
    await page.click(tid('security-badge'));
    expect(await page.textContent(tid('security-trust'))).toContain('Your browser checked the connection');
    expect(await page.textContent(tid('security-details'))).toContain('SHA-256 fingerprint');
    await checkScreen('browser-room', async () => {
      if ((await page.getAttribute(tid('security-badge'), 'aria-expanded')) !== 'true') {
        await page.click(tid('security-badge'));
      }
    });
  });
});
