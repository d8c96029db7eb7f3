/**
 * The interface in real Chromium, against a fake ChatApi the test drives.
 * Each test loads a fresh page, mounts the App and pushes chat events.
 */
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.ts';
import { serveHarness } from '../helpers/harness-server.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../src/shared/chat-api.ts';
import type { MountOptions } from '../harness/main.ts';

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

beforeEach(async () => {
  await page?.close();
  page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  // Fail at the step that hangs, well inside the test's own timeout.
  page.setDefaultTimeout(8_000);
  page.on('pageerror', (error) => {
    throw error;
  });
  // The first load of a fresh Vite server compiles the whole interface: more than a step's 8 s on a busy machine.
  await page.goto(baseUrl, { timeout: 60_000 });
  await page.waitForFunction(() => window.harness !== undefined, null, { timeout: 60_000 });
});

const tid = (id: string): string => `[data-testid="${id}"]`;
/** The scrolling element inside the message list. */
const SCROLLER = '[data-testid="message-list"] [data-virtua-scroller]';

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

/** Joins a room as "me" with Bob and Ann present and `count` room messages ending at seq `lastSeq`. */
async function enterRoom(count: number, lastSeq: number, hasMore: boolean): Promise<void> {
  await mount();
  await page.evaluate(
    ({ count, lastSeq, hasMore }) => {
      const h = window.harness;
      h.fake!.emit({ type: 'connection', state: { kind: 'connected', address: '10.0.0.2:4747', rttMs: 3 } });
      h.fake!.emit({
        type: 'welcome',
        room: {
          name: 'Lab',
          you: h.member('me', 'Me'),
          members: [h.member('me', 'Me'), h.member('bob', 'Bob'), h.member('ann', 'Ann')],
        },
        history: h.makeMessages(count, lastSeq),
        hasMore,
        resumed: false,
      });
    },
    { count, lastSeq, hasMore },
  );
  await page.waitForSelector(tid('message-list'));
}

/**
 * Waits until the list has stopped moving. virtua keeps refining a scroll to
 * the end for 150 ms after the last row measurement, and a scroll made inside
 * that window is pulled back to the end.
 */
async function settled(): Promise<void> {
  await page.waitForFunction(
    () =>
      new Promise<boolean>((resolve) => {
        const list = document.querySelector<HTMLElement>('[data-testid="message-list"] [data-virtua-scroller]')!;
        const first = list.scrollTop;
        const start = performance.now();
        const check = (): void => {
          if (list.scrollTop !== first) return resolve(false);
          if (performance.now() - start > 250) return resolve(true);
          requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      }),
    undefined,
    { polling: 50 },
  );
}

/** Scrolls the way a person does, with the wheel, so the list sees a user scroll. */
async function wheelToTop(): Promise<void> {
  await settled();
  const box = (await page.locator(SCROLLER).boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -1e7);
  await page.waitForFunction(
    () => document.querySelector('[data-testid="message-list"] [data-virtua-scroller]')!.scrollTop === 0,
  );
}

describe('Beacon interface in Chromium', () => {
  it('start screen explains a malformed address and does not try to join with it', async () => {
    await mount({ snapshot: { displayName: 'Me' } });
    await page.waitForSelector(tid('start-screen'));
    await page.fill(tid('join-address'), 'ftp://10.0.0.2:4747');
    await page.waitForSelector(tid('join-address-error'));
    expect(await page.textContent(tid('join-address-error'))).toMatch(/ws:\/\//);
    await page.fill(tid('join-address'), '10.0.0.2:99999');
    await page.click(tid('join-submit'));
    expect(await page.textContent(tid('join-address-error'))).toMatch(/port/);
    expect(await calls('join')).toEqual([]);

    // A refusal from the api is shown in words.
    await page.evaluate(() =>
      window.harness.fake!.respondOnce('join', {
        ok: false,
        error: { code: 'BEACON_ERR_WRONG_CODE', message: 'The join code is wrong. Ask the host for the current code.' },
      }),
    );
    await page.fill(tid('join-address'), '10.0.0.2:4747');
    await page.fill(tid('join-code'), '123456');
    await page.click(tid('join-submit'));
    await page.waitForSelector(`${tid('form-error')}:has-text("join code is wrong")`);
    expect(await calls('join')).toEqual([{ address: '10.0.0.2:4747', name: 'Me', code: '123456' }]);

    // A busy port offers the next one.
    await page.evaluate(() =>
      window.harness.fake!.respondOnce('host', {
        ok: false,
        error: { code: 'BEACON_ERR_PORT_IN_USE', message: 'That port is already in use by another program.' },
      }),
    );
    await page.fill(tid('host-room-name'), 'Lab');
    await page.click(tid('host-submit'));
    await page.click('button:has-text("Try port 4748")');
    await expect
      .poll(async () => ((await calls('host')) as Array<{ port: number }>).map((c) => c.port))
      .toEqual([4747, 4748]);
    expect(await page.inputValue(tid('host-code'))).toMatch(/^\d{8}$/);
  });

  it('a browser page offers only joining the host that served it', async () => {
    await mount({ capabilities: { host: false } });
    await page.waitForSelector(tid('join-form'));
    expect(await page.$(tid('host-form'))).toBeNull();
    expect(await page.inputValue(tid('join-address'))).toBe(new URL(baseUrl).host);
  });

  it('a recent room rejoins in one click, and hosting shows how to invite people', async () => {
    await mount({
      snapshot: {
        displayName: 'Me',
        recentRooms: [
          { address: '10.0.0.5:4747', roomName: 'Design', code: '111222', name: 'Me', lastJoined: Date.now() },
        ],
      },
    });
    await page.click(`${tid('recent-rooms')} button:has-text("Rejoin")`);
    await expect.poll(() => calls('join')).toEqual([{ address: '10.0.0.5:4747', name: 'Me', code: '111222' }]);

    await page.fill(tid('host-room-name'), 'Lab');
    await page.fill(tid('host-code'), '424242');
    await page.click(tid('host-submit'));
    await page.evaluate(() => {
      const h = window.harness;
      h.fake!.emit({
        type: 'welcome',
        room: { name: 'Lab', you: h.member('me', 'Me'), members: [h.member('me', 'Me')] },
        history: [],
        hasMore: false,
        resumed: false,
      });
    });
    await page.waitForSelector(tid('host-panel'));
    expect(await page.textContent(tid('host-addresses'))).toContain('ws://192.168.1.20:4747');
    expect(await page.textContent(tid('host-code-display'))).toBe('424242');
    await page.click(tid('stop-hosting'));
    await page.waitForSelector(tid('start-screen'));
    expect(await calls('leave')).toHaveLength(1);
  });

  it('message text with markup shows as text and runs nothing', async () => {
    await enterRoom(3, 3, false);
    await page.evaluate(() => {
      window.alert = () => {
        (window as unknown as { pwned: boolean }).pwned = true;
      };
    });
    const nasty = '<img src=x onerror=alert(1)> <script>window.pwned=true</script> see https://example.org/x';
    await emit({
      type: 'messages',
      messages: [{ seq: 4, from: 'bob', to: null, text: nasty, ts: Date.now(), clientId: 'x4' }],
    });
    const row = `${tid('message-row')}[data-seq="4"] ${tid('message-text')}`;
    await page.waitForSelector(row);
    expect(await page.textContent(row)).toBe(nasty);
    expect(await page.$$(`${tid('message-list')} img, ${tid('message-list')} script`)).toEqual([]);
    const links = await page.$$eval(`${row} a`, (as) =>
      as.map((a) => [a.getAttribute('href'), a.getAttribute('rel'), a.getAttribute('target')]),
    );
    expect(links).toEqual([['https://example.org/x', 'noopener noreferrer', '_blank']]);
    expect(await page.evaluate(() => (window as unknown as { pwned?: boolean }).pwned)).toBeUndefined();
  });

  it('a conversation of 100,000 messages keeps few rows in the page and loads older ones at the top without a jump', async () => {
    await enterRoom(100_000, 200_000, true);
    await page.waitForSelector(`${tid('message-row')}[data-seq="200000"]`);
    expect((await page.$$(tid('message-row'))).length).toBeLessThanOrEqual(100);

    // Jumping straight to the top right after opening must stick, not be pulled back to the end.
    await page.$eval(SCROLLER, (el) => {
      el.scrollTop = 0;
    });
    await expect.poll(() => calls('loadOlder')).toEqual([{ conversation: 'room', before: 100_001 }]);
    // Remember which row is at the top and where, then prepend a page.
    const before = await page.$eval(SCROLLER, (list) => {
      const top = list.getBoundingClientRect().top;
      const rows = [...list.querySelectorAll<HTMLElement>('[data-testid="message-row"]')];
      const first = rows.find((r) => r.getBoundingClientRect().bottom > top + 1)!;
      return { seq: first.dataset.seq!, y: first.getBoundingClientRect().top };
    });
    await page.evaluate(() =>
      window.harness.fake!.emit({
        type: 'history',
        conversation: 'room',
        messages: window.harness.makeMessages(500, 100_000),
        hasMore: true,
      }),
    );
    await page.waitForFunction(
      () => document.querySelector('[data-testid="message-list"] [data-virtua-scroller]')!.scrollTop > 1000,
    );
    const after = await page.$eval(
      `${tid('message-row')}[data-seq="${before.seq}"]`,
      (row) => row.getBoundingClientRect().top,
    );
    expect(Math.abs(after - before.y)).toBeLessThan(40);
    expect((await page.$$(tid('message-row'))).length).toBeLessThanOrEqual(100);

    await wheelToTop();
    await page.waitForSelector(`${tid('message-row')}[data-seq="99501"]`);
    await expect.poll(async () => (await calls('loadOlder')).at(-1)).toEqual({ conversation: 'room', before: 99_501 });
  });

  it('a new message while scrolled up shows a pill that jumps to it', async () => {
    await enterRoom(300, 300, false);
    await page.waitForSelector(`${tid('message-row')}[data-seq="300"]`);
    await wheelToTop();
    await page.waitForSelector(`${tid('message-row')}[data-seq="1"]`);
    await emit({
      type: 'messages',
      messages: [{ seq: 301, from: 'bob', to: null, text: 'psst', ts: Date.now(), clientId: 'x301' }],
    });
    await page.waitForSelector(tid('new-messages-pill'));
    expect(await page.$(`${tid('message-row')}[data-seq="301"]`)).toBeNull();
    await page.click(tid('new-messages-pill'));
    await page.waitForSelector(`${tid('message-row')}[data-seq="301"]`);
    await page.waitForSelector(tid('new-messages-pill'), { state: 'detached' });

    // At the bottom, new messages just appear.
    await emit({
      type: 'messages',
      messages: [{ seq: 302, from: 'ann', to: null, text: 'hi', ts: Date.now(), clientId: 'x302' }],
    });
    await page.waitForSelector(`${tid('message-row')}[data-seq="302"]`);
    expect(await page.$(tid('new-messages-pill'))).toBeNull();
  });

  it('the connection indicator counts down to the next try and says why it is offline', async () => {
    await enterRoom(5, 5, false);
    const indicator = tid('connection-indicator');
    // The round-trip time is for whoever asks (the tooltip), not the label.
    await page.waitForSelector(`${indicator}[data-state="connected"]:has-text("Connected")`);
    expect(await page.textContent(indicator)).not.toContain('ms');
    expect(await page.getAttribute(indicator, 'title')).toContain('round trip 3 ms');
    await emit({
      type: 'connection',
      state: {
        kind: 'reconnecting',
        address: '10.0.0.2:4747',
        attempt: 3,
        nextRetryAt: Date.now() + 3900,
        reason: 'BEACON_ERR_NETWORK',
        reasonText: 'The network connection was lost.',
      },
    });
    await page.waitForSelector(`${indicator}[data-state="reconnecting"]:has-text("attempt 3 · next try in 4 s")`);
    await page.waitForSelector(`${indicator}:has-text("next try in 3 s")`);
    expect(await page.getAttribute(indicator, 'title')).toContain('10.0.0.2:4747');
    await page.click(tid('retry-now'));
    await expect.poll(() => calls('retryNow')).toHaveLength(1);
    // Sending stays possible while reconnecting.
    expect(await page.isEnabled(tid('composer-input'))).toBe(true);
    await page.waitForSelector('text=Offline — messages will be sent when you reconnect');

    await emit({
      type: 'connection',
      state: {
        kind: 'offline',
        address: '10.0.0.2:4747',
        reason: 'BEACON_ERR_HOST_STOPPED',
        reasonText: 'The host stopped the room.',
        nextRetryAt: null,
      },
    });
    await page.waitForSelector(`${indicator}[data-state="offline"]:has-text("The host stopped the room")`);
    await page.waitForSelector('text=messages will be sent when the host is back');
    expect(await page.getAttribute(indicator, 'title')).toContain('The host stopped the room.');
  });

  it('direct messages raise an unread count on their conversation until opened', async () => {
    await enterRoom(5, 5, false);
    await emit({
      type: 'messages',
      messages: [{ seq: 6, from: 'bob', to: 'me', text: 'hey', ts: Date.now(), clientId: 'x6' }],
    });
    await emit({
      type: 'messages',
      messages: [{ seq: 7, from: 'bob', to: 'me', text: 'you there?', ts: Date.now(), clientId: 'x7' }],
    });
    await emit({
      type: 'messages',
      messages: [{ seq: 8, from: 'ann', to: null, text: 'room msg', ts: Date.now(), clientId: 'x8' }],
    });
    const bob = `${tid('conversation')}[data-conversation="bob"]`;
    await page.waitForSelector(`${bob} ${tid('unread')}:has-text("2")`);
    expect(await page.$(`${tid('conversation')}[data-conversation="room"] ${tid('unread')}`)).toBeNull();
    expect(await page.$(`${tid('conversation')}[data-conversation="ann"] ${tid('unread')}`)).toBeNull();
    // The rise is reported too (one call for the burst), for the app badge.
    await expect.poll(() => calls('reportUnread')).toEqual([{ total: 2 }]);

    await page.click(bob);
    await page.waitForSelector(`${tid('message-row')}[data-seq="7"]`);
    expect(await page.$(`${bob} ${tid('unread')}`)).toBeNull();
    // Reading it brings the total that feeds the app badge back to zero.
    await expect.poll(async () => (await calls('reportUnread')).at(-1)).toEqual({ total: 0 });

    // Members open direct conversations too.
    await page.click(`${tid('member')}[data-member-id="ann"] button`);
    await page.waitForSelector(`${tid('conversation')}[data-conversation="ann"][aria-current="true"]`);
    expect(await page.getAttribute(`${tid('member')}[data-member-id="me"]`, 'data-status')).toBe('online');
  });

  it('own messages go from pending to sent, or to failed with a working Retry', async () => {
    await enterRoom(5, 5, false);
    await page.fill(tid('composer-input'), 'first');
    await page.press(tid('composer-input'), 'Enter');
    await page.waitForSelector(`${tid('message-row')}[data-status="pending"]:has-text("first")`);
    expect(await page.inputValue(tid('composer-input'))).toBe('');
    expect(await calls('send')).toEqual([{ conversation: 'room', text: 'first' }]);

    await emit({ type: 'messageStatus', clientId: 'client-1', status: 'sent', seq: 6 });
    await page.waitForSelector(`${tid('message-row')}[data-seq="6"][data-status="sent"]:has-text("first")`);
    expect(await page.$(`${tid('message-row')}[data-status="pending"]`)).toBeNull();

    // Shift+Enter makes a new line instead of sending.
    await page.fill(tid('composer-input'), 'second');
    await page.press(tid('composer-input'), 'Shift+Enter');
    expect(await calls('send')).toHaveLength(1);
    await page.click(tid('composer-send'));
    await page.waitForSelector(`${tid('message-row')}[data-client-id="client-2"][data-status="pending"]`);
    await emit({
      type: 'messageStatus',
      clientId: 'client-2',
      status: 'failed',
      error: 'The message is too large to send.',
    });
    const failed = `${tid('message-row')}[data-client-id="client-2"][data-status="failed"]`;
    await page.waitForSelector(`${failed}:has-text("too large")`);
    await page.click(`${failed} ${tid('retry')}`);
    await expect.poll(() => calls('retry')).toEqual([{ clientId: 'client-2' }]);
    await page.waitForSelector(`${tid('message-row')}[data-client-id="client-2"][data-status="pending"]`);
    // Typing notices: one for each message typed (sending resets the 3 s throttle).
    expect(await calls('typing')).toEqual([{ conversation: 'room' }, { conversation: 'room' }]);
  });
});
