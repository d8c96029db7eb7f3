/**
 * Issue 13 as a person sees it, in real Chromium against the fake ChatApi:
 * rooms nearby on the start screen (live, told apart, marked when joined
 * before, one click to a join that asks only what it needs), what it says
 * when nothing is found, an opened invite link, and the host panel's QR code.
 * Each screen is checked with axe at 1280 and 420 px, light and dark, and
 * photographed into docs/screenshots/discovery-*.png.
 */
import jsQR from 'jsqr';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatEvent, HostInfo, RecentRoom } from '../../src/shared/chat-api.ts';
import type { NearbyRoom, NearbyStatus } from '../../src/shared/discovery.ts';
import type { Fingerprint } from '../../src/shared/fingerprint.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { serveHarness } from '../helpers/harness-server.ts';
import { axeAcrossScreens, screenshot } from '../e2e/helpers.ts';
import type { MountOptions } from '../harness/main.ts';

const FP = '3f9a21c477b05e129c0daa431b7f6e20' as Fingerprint;
const FP2 = 'e0a1b2c3d4e5f60718293a4b5c6d7e8f' as Fingerprint;

let harness: Awaited<ReturnType<typeof serveHarness>> | undefined;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  harness = await serveHarness();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

beforeEach(async () => {
  await page?.context().close();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.setDefaultTimeout(8_000);
  page.on('pageerror', (error) => {
    throw error;
  });
  // The first load of a fresh Vite server compiles the whole interface: more than a step's 8 s on a busy machine.
  await page.goto(harness!.baseUrl, { timeout: 60_000 });
  await page.waitForFunction(() => window.harness !== undefined, null, { timeout: 60_000 });
});

const tid = (id: string): string => `[data-testid="${id}"]`;

async function mount(options: MountOptions = {}): Promise<void> {
  await page.evaluate((o) => {
    window.harness.mount(o);
  }, options);
  await page.waitForSelector(tid('start-screen'));
}

async function emit(event: ChatEvent): Promise<void> {
  await page.evaluate((e) => window.harness.fake!.emit(e), event);
}

async function calls(name: string): Promise<unknown[]> {
  return page.evaluate((n) => window.harness.fake!.calls.filter((c) => c.name === n).map((c) => c.input), name);
}

let ids = 0;
function nearbyRoom(fields: Partial<NearbyRoom> & { roomName: string; hostName: string; address: string }): NearbyRoom {
  const fingerprint = fields.fingerprint === undefined ? FP : fields.fingerprint;
  return {
    id: `room-${++ids}`,
    addresses: [fields.address],
    codeRequired: false,
    protocolVersion: 1,
    fingerprint,
    encrypted: fingerprint !== null,
    lastSeen: Date.now(),
    ...fields,
  };
}

const searching = (since = Date.now()): NearbyStatus => ({ state: 'searching', since });
const nearby = (rooms: NearbyRoom[], status: NearbyStatus = searching()): ChatEvent => ({
  type: 'nearby',
  rooms,
  status,
});

const lab = nearbyRoom({ roomName: 'Lab', hostName: 'Hana', address: '192.168.1.20:4747', codeRequired: true });
const labToo = nearbyRoom({ roomName: 'Lab', hostName: 'Omar', address: '192.168.1.31:4747', fingerprint: FP2 });
const open = nearbyRoom({ roomName: 'Open floor', hostName: 'Ida', address: '192.168.1.40:5000', fingerprint: null });

/** Mounted on the desktop start screen, looking for rooms, with `rooms` heard so far. */
async function startScreen(rooms: NearbyRoom[], options: MountOptions = {}, status = searching()): Promise<void> {
  await mount({ ...options, snapshot: { displayName: 'Me', nearby: { rooms, status }, ...options.snapshot } });
}

const rowTexts = () => page.locator(tid('nearby-room')).allInnerTexts();

/** axe at 1280 and 420 px, light and dark, and a picture of each into docs/screenshots/discovery-NAME-….png. */
async function checkScreen(name: string, prepare: (width: number) => Promise<void> = async () => {}): Promise<void> {
  const found = await axeAcrossScreens(page, `discovery-${name}`, prepare);
  expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])));
}

/** Whether anything on the page scrolls sideways (the page, the start screen, the list). */
async function horizontalOverflow(): Promise<string[]> {
  return page.evaluate(() =>
    [document.documentElement, ...document.querySelectorAll<HTMLElement>('main, ul, section')]
      .filter((el) => el.scrollWidth > el.clientWidth + 1)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${el.scrollWidth}>${el.clientWidth}`),
  );
}

describe('rooms nearby on the start screen', () => {
  it('rooms appear and vanish as the network announces them', async () => {
    await startScreen([]);
    await page.waitForSelector(tid('nearby-searching'));
    expect(await page.textContent(tid('nearby-searching'))).toContain('Looking for rooms on this network…');

    await emit(nearby([lab]));
    await page.waitForSelector(tid('nearby-room'));
    expect(await rowTexts()).toHaveLength(1);
    expect(await page.isVisible(tid('nearby-searching'))).toBe(false);

    await emit(nearby([lab, open]));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="nearby-room"]').length === 2);
    expect(await page.textContent(tid('nearby-count'))).toContain('2 rooms');

    await emit(nearby([open]));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="nearby-room"]').length === 1);
    expect((await rowTexts())[0]).toContain('Open floor');
  });

  it('each room says its host, whether it is encrypted, whether it needs a code, and where it is', async () => {
    await startScreen([lab, open]);
    const [first, second] = await rowTexts();
    const flat = (s: string | undefined) => s?.replace(/\s+/g, ' ');
    expect(flat(first)).toContain('Lab');
    expect(flat(first)).toContain('hosted by Hana');
    expect(flat(first)).toContain('encrypted');
    expect(flat(first)).not.toContain('not encrypted');
    expect(flat(first)).toContain('code needed');
    expect(flat(first)).toContain('192.168.1.20:4747');
    expect(flat(second)).toContain('not encrypted');
    expect(flat(second)).toContain('open');
    // Words, and a drawn padlock beside them, not a colour.
    expect(await page.locator(`${tid('nearby-room-security')} svg.lock`).count()).toBe(2);
  });

  it('two rooms of the same name are told apart by their host and address', async () => {
    await startScreen([lab, labToo]);
    const hosts = await page.locator(tid('nearby-room-host')).allInnerTexts();
    const addresses = await page.locator(tid('nearby-room-address')).allInnerTexts();
    expect(await page.locator(tid('nearby-room-name')).allInnerTexts()).toEqual(['Lab', 'Lab']);
    expect(hosts).toEqual(['hosted by Hana', 'hosted by Omar']);
    expect(addresses).toEqual(['192.168.1.20:4747', '192.168.1.31:4747']);
  });

  it('a room on a machine joined before is marked, however its address was written then', async () => {
    const recent: RecentRoom[] = [
      { address: 'https://192.168.1.20:4747/#fp=' + FP, roomName: 'Lab', code: '1234', name: 'Me', lastJoined: 1 },
    ];
    await startScreen([lab, labToo], { snapshot: { recentRooms: recent } });
    const marks = await page
      .locator(tid('nearby-room'))
      .evaluateAll((rows) => rows.map((row) => row.querySelector('[data-testid="nearby-room-before"]')?.textContent));
    expect(marks).toEqual(['joined before', undefined]);
  });

  it('a room with a code asks for the name and the code; joining holds the host to the announced fingerprint', async () => {
    await startScreen([lab]);
    await page.click(tid('nearby-room'));
    await page.waitForSelector(tid('nearby-join'));
    expect(await page.inputValue(tid('nearby-name'))).toBe('Me');
    // The name is there: the keyboard is on the code, the one thing left.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('nearby-code');
    await page.click(tid('nearby-submit'));
    expect(await page.textContent(tid('nearby-code-error'))).toContain('Enter the join code');
    expect(await calls('join')).toEqual([]);

    // Changing the name keeps the keyboard in the name field.
    await page.focus(tid('nearby-name'));
    await page.keyboard.type('g');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('nearby-name');
    await page.fill(tid('nearby-name'), 'Me');
    await page.fill(tid('nearby-code'), '424242');
    await page.click(tid('nearby-submit'));
    await page.waitForFunction(() => window.harness.fake!.callsTo('join').length === 1);
    expect(await calls('join')).toEqual([
      { address: `https://192.168.1.20:4747/#fp=${FP}`, name: 'Me', code: '424242' },
    ]);
  });

  it('an open room asks only for the name, and an unencrypted one is joined without encryption', async () => {
    await startScreen([open]);
    await page.click(tid('nearby-room'));
    await page.waitForSelector(tid('nearby-join'));
    expect(await page.$(tid('nearby-code'))).toBeNull();
    expect(await page.textContent(tid('nearby-join-room'))).toContain('not encrypted');
    await page.click(tid('nearby-submit'));
    await page.waitForFunction(() => window.harness.fake!.callsTo('join').length === 1);
    expect(await calls('join')).toEqual([{ address: 'ws://192.168.1.40:5000', name: 'Me', code: '' }]);
  });

  it('a refused join says why in the dialog', async () => {
    await startScreen([lab]);
    await page.evaluate(() =>
      window.harness.fake!.respondOnce('join', {
        ok: false,
        error: { code: 'BEACON_ERR_WRONG_CODE', message: 'That join code is not right.' },
      }),
    );
    await page.click(tid('nearby-room'));
    await page.fill(tid('nearby-code'), '1');
    await page.click(tid('nearby-submit'));
    expect(await page.textContent(tid('nearby-error'))).toBe('That join code is not right.');
  });

  it('the list is reached with Tab, the arrows move along it, Enter opens the join and Escape closes it', async () => {
    await startScreen([lab, labToo, open]);
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        return el?.getAttribute('data-testid') === 'nearby-room' ? el.getAttribute('data-address') : null;
      });
    // One tab stop for the whole list, before the forms.
    for (let i = 0; i < 10 && (await focused()) === null; i++) await page.keyboard.press('Tab');
    expect(await focused()).toBe('192.168.1.20:4747');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('192.168.1.31:4747');
    await page.keyboard.press('End');
    expect(await focused()).toBe('192.168.1.40:5000');
    await page.keyboard.press('Enter');
    await page.waitForSelector(tid('nearby-join'));
    expect(await page.textContent(tid('nearby-join-room'))).toContain('Open floor');
    // Straight to Join: an open room with the name known needs nothing typed.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('nearby-submit');
    await page.keyboard.press('Escape');
    await page.waitForSelector(tid('nearby-join'), { state: 'detached' });
    expect(await focused()).toBe('192.168.1.40:5000');
    // One tab stop for the list: from its first row, Tab leaves it.
    await page.keyboard.press('Home');
    expect(await focused()).toBe('192.168.1.20:4747');
    await page.keyboard.press('Tab');
    expect(await focused()).toBeNull();
  });

  it('200 rooms with long and right-to-left names stay inside a 420 px window, filter, and render quickly', async () => {
    const many = Array.from({ length: 200 }, (_, i) =>
      nearbyRoom({
        roomName:
          i % 3 === 0
            ? `חדר ישיבות ${i} ${'ארוך מאוד '.repeat(6)}`
            : `Room ${i} ${'with a very long name that goes on '.repeat(3)}`,
        hostName: i % 2 ? `מארח ${i}` : `Host-with-a-long-name-${i}-${'x'.repeat(40)}`,
        address: `10.0.${Math.floor(i / 250)}.${i % 250}:${4747 + i}`,
        codeRequired: i % 2 === 0,
      }),
    );
    await startScreen([]);
    await page.setViewportSize({ width: 420, height: 800 });
    const took = await page.evaluate(async (rooms) => {
      const start = performance.now();
      window.harness.fake!.emit({ type: 'nearby', rooms, status: { state: 'searching', since: Date.now() } });
      await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
      if (document.querySelectorAll('[data-testid="nearby-room"]').length !== 200) throw new Error('not all rows');
      return performance.now() - start;
    }, many);
    expect(took).toBeLessThan(1_500);
    expect(await horizontalOverflow()).toEqual([]);
    // The list scrolls inside itself: the join form is still on the screen below it.
    const list = await page.locator(tid('nearby-list')).boundingBox();
    expect(list!.height).toBeLessThan(400);
    expect(await page.isVisible(tid('join-form'))).toBe(true);
    // Right-to-left names are isolated, so they cannot reorder the words around them.
    expect(await page.locator(`${tid('nearby-room-name')} bdi`).count()).toBe(200);
    await screenshot(page, 'discovery-many-narrow-light', { theme: 'light' });
    await screenshot(page, 'discovery-many-narrow-dark', { theme: 'dark' });

    // A filter by address (or name, or host) finds the one room meant among 200.
    await page.fill(tid('nearby-filter'), '10.0.0.17:');
    expect(await page.locator(tid('nearby-room-address')).allInnerTexts()).toEqual(['10.0.0.17:4764']);
    await page.fill(tid('nearby-filter'), 'no such room');
    expect(await page.textContent(tid('nearby-no-match'))).toContain('No room matches');
  });

  it('after a while with no room found, it says so, why that happens, and points to joining by address', async () => {
    await startScreen([]);
    await page.waitForSelector(tid('nearby-searching'));
    expect(await page.$(tid('nearby-nothing'))).toBeNull();
    // Time moves by the status's start, not by waiting: looking since 9 s ago.
    await emit(nearby([], searching(Date.now() - 9_000)));
    const nothing = page.locator(tid('nearby-nothing'));
    await nothing.waitFor();
    const text = (await nothing.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('No room found on this network.');
    for (const reason of ['multicast', 'subnet', 'VPN', 'firewall']) expect(text).toContain(reason);
    expect(text).toContain('Join a room');
    expect(await page.isVisible(tid('join-address'))).toBe(true);
    await checkScreen('nothing-found');

    // A room heard later replaces the explanation.
    await emit(nearby([lab], searching(Date.now() - 20_000)));
    await page.waitForSelector(tid('nearby-room'));
    expect(await page.$(tid('nearby-nothing'))).toBeNull();
  });

  it('when looking cannot start, it says why and points to joining by address', async () => {
    const reason = 'Cannot look for rooms on this network: multicast could not be used (EADDRINUSE).';
    await startScreen([], {}, { state: 'failed', reason });
    // The engine's sentence as it is, once, then where to go instead.
    expect((await page.innerText(tid('nearby-failed'))).replace(/\s+/g, ' ')).toBe(
      `! ${reason} Join by address below instead.`,
    );
  });

  it('a browser page shows no rooms nearby, and an app without discovery says so in one line', async () => {
    await mount({ capabilities: { host: false } });
    expect(await page.$(tid('nearby'))).toBeNull();
    expect(await page.$(tid('nearby-off'))).toBeNull();
    await page.goto(harness!.baseUrl);
    await page.waitForFunction(() => window.harness !== undefined);
    await mount();
    expect(await page.$(tid('nearby'))).toBeNull();
    expect(await page.textContent(tid('nearby-off'))).toContain('join by address');
  });

  it('with rooms, the start screen passes axe at both widths in both themes', async () => {
    await startScreen([lab, labToo, open], {
      snapshot: {
        recentRooms: [{ address: '192.168.1.20:4747', roomName: 'Lab', code: '', name: 'Me', lastJoined: 1 }],
      },
    });
    await checkScreen('rooms');
    await page.click(tid('nearby-room'));
    await page.waitForSelector(tid('nearby-join'));
    await checkScreen('join');
  });
});

describe('an invite link opened from outside', () => {
  it('fills the join form with the address and code, for the person only to confirm', async () => {
    await startScreen([]);
    await emit({ type: 'openInvite', address: `https://192.168.1.20:4747/#fp=${FP}`, code: '424242' });
    await page.waitForFunction(
      (fp) => (document.querySelector('[data-testid="join-address"]') as HTMLInputElement).value.endsWith(fp),
      FP,
    );
    expect(await page.inputValue(tid('join-code'))).toBe('424242');
    expect(await page.inputValue(tid('join-name'))).toBe('Me');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('join-submit');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.harness.fake!.callsTo('join').length === 1);
    expect(await calls('join')).toEqual([
      { address: `https://192.168.1.20:4747/#fp=${FP}`, name: 'Me', code: '424242' },
    ]);
  });
});

describe('the host panel', () => {
  const info: HostInfo = {
    roomName: 'Lab',
    port: 4747,
    code: '424242',
    addresses: ['wss://192.168.1.20:4747', 'wss://10.8.0.3:4747'],
    webAddresses: ['https://192.168.1.20:4747/', 'https://10.8.0.3:4747/'],
    fingerprint: FP,
    invite: `https://192.168.1.20:4747/#fp=${FP}`,
  };

  async function hosting(): Promise<void> {
    await mount({ snapshot: { displayName: 'Me' } });
    await page.evaluate((hostInfo) => {
      const h = window.harness;
      h.fake!.emit({ type: 'hostInfo', info: hostInfo });
      h.fake!.emit({ type: 'connection', state: { kind: 'connected', address: '127.0.0.1:4747', rttMs: 1 } });
      h.fake!.emit({
        type: 'welcome',
        room: { name: 'Lab', you: h.member('me', 'Me'), members: [h.member('me', 'Me')] },
        history: [],
        hasMore: false,
        resumed: false,
      });
    }, info);
    await page.waitForSelector(tid('host-panel'));
  }

  /** The QR code as a phone would see it: a picture of the screen, read by a QR decoder. */
  async function decodeQr(): Promise<string | null> {
    const png = await page.locator(tid('host-qr')).screenshot();
    const pixels = await page.evaluate(async (base64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      const data = context.getImageData(0, 0, image.width, image.height);
      return { width: data.width, height: data.height, data: Array.from(data.data) };
    }, png.toString('base64'));
    return jsQR(Uint8ClampedArray.from(pixels.data), pixels.width, pixels.height)?.data ?? null;
  }

  it('shows a QR code that a phone reads as the browser address with the fingerprint, and the address beside it', async () => {
    await hosting();
    const qr = page.locator(tid('host-qr'));
    expect(await qr.getAttribute('role')).toBe('img');
    expect(await qr.getAttribute('aria-label')).toContain(info.invite!);
    expect(await page.textContent(tid('host-qr-address'))).toBe(info.invite);
    expect(await decodeQr()).toBe(info.invite);
  });

  it('an unencrypted host’s QR code is its plain browser address', async () => {
    await mount({ snapshot: { displayName: 'Me' } });
    await hostingWith({ ...info, fingerprint: null, invite: null, webAddresses: ['http://192.168.1.20:4747/'] });
    expect(await decodeQr()).toBe('http://192.168.1.20:4747/');
  });

  async function hostingWith(hostInfo: HostInfo): Promise<void> {
    await page.evaluate((i) => {
      const h = window.harness;
      h.fake!.emit({ type: 'hostInfo', info: i });
      h.fake!.emit({
        type: 'welcome',
        room: { name: 'Lab', you: h.member('me', 'Me'), members: [h.member('me', 'Me')] },
        history: [],
        hasMore: false,
        resumed: false,
      });
    }, hostInfo);
    await page.waitForSelector(tid('host-qr'));
  }

  it('says where the room is reachable, that discovery may not cross subnets, and what to answer the firewall', async () => {
    await hosting();
    const addresses = await page.locator(`${tid('host-addresses')} li`).allInnerTexts();
    expect(addresses).toContain('https://10.8.0.3:4747/ (browser)');
    expect(await page.textContent(tid('host-panel'))).toContain('Reachable on');
    const note = (await page.textContent(tid('host-network-note')))!.replace(/\s+/g, ' ');
    expect(note).toContain('subnets or VPNs');
    expect(note).toContain('allow it on private networks');
    await checkScreen('host-panel', async () => {
      // At 420 px the host panel is in the drawer behind ☰.
      const toggle = page.locator(tid('sidebar-toggle'));
      if ((await toggle.isVisible()) && (await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
      await page.locator(tid('host-qr')).scrollIntoViewIfNeeded();
    });
  });
});
