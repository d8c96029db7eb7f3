/**
 * Channels as a person sees them (issue 14), in real Chromium against the fake ChatApi: the
 * sidebar's channels (default first, then by name, archived ones folded away) with unread and
 * mention badges, channels made or renamed by others arriving live, creating one (and the host's
 * refusal in the dialog), the header's topic and menu, and an archived channel's closed composer.
 * Checked by axe and photographed at 1280 and 420 px, light and dark.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Channel, ChatMessage } from '../../src/shared/protocol.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { serveHarness } from '../helpers/harness-server.ts';
import { axeAcrossScreens } from '../e2e/helpers.ts';

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
  await page?.close();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(8_000);
  await page.goto(harness!.baseUrl, { timeout: 60_000 });
  await page.waitForFunction(() => window.harness !== undefined, null, { timeout: 60_000 });
});

const tid = (id: string): string => `[data-testid="${id}"]`;
const cid = (n: number): string => `c_${String(n).padStart(16, '0')}`;
const NOW = Date.UTC(2026, 11, 5, 14, 0);

function channel(n: number, name: string, extra: Partial<Channel> = {}): Channel {
  return { id: cid(n), name, topic: '', createdBy: 'bob', createdAt: NOW, archived: false, ...extra };
}

/** 50 channels as a busy team has them: long names, Hebrew and Arabic ones, two archived. */
function manyChannels(): Channel[] {
  const names = [
    'design',
    'releases',
    'חדשות-הצוות',
    'الدعم-الفني',
    'incident-response-and-postmortems-2026',
    'random',
    'zz-old-project',
    'build',
  ];
  const list: Channel[] = [
    { id: 'room', name: 'general', topic: 'Everything else', createdBy: null, createdAt: 0, archived: false },
  ];
  names.forEach((name, i) => list.push(channel(i + 1, name, { createdBy: i === 1 ? 'me' : 'bob' })));
  for (let i = list.length; i < 48; i++) list.push(channel(i, `team-${String(i).padStart(2, '0')}`));
  list.push(channel(48, 'launch-2025', { archived: true }));
  list.push(channel(49, 'old-offsite', { archived: true, createdBy: 'me' }));
  return list;
}

interface Setup {
  channels?: Channel[];
  canCreateChannels?: boolean;
  isHost?: boolean;
  history?: ChatMessage[];
  features?: string[];
}

async function enter(setup: Setup = {}): Promise<void> {
  await page.evaluate(
    ({ setup, manyChannels }) => {
      const h = window.harness;
      const me = h.member('me', 'Me');
      h.mount({
        snapshot: {
          connection: { kind: 'connected', address: '10.0.0.2:4747', rttMs: 3 },
          room: {
            name: 'Design team',
            you: me,
            members: [me, h.member('bob', 'Bob Lindqvist'), h.member('dana', 'Dana Cohen')],
            channels: setup.channels ?? manyChannels,
            features: setup.features ?? ['channels', 'replies', 'edits', 'reactions', 'mentions', 'search'],
            canCreateChannels: setup.canCreateChannels ?? true,
            isHost: setup.isHost ?? false,
          },
          history: setup.history ?? [],
          displayName: 'Me',
        },
      });
    },
    { setup, manyChannels: manyChannels() },
  );
  await page.locator(tid('composer-input')).waitFor();
}

const channelNames = (): Promise<string[]> =>
  page.locator(`${tid('channel-list')} > ul ${tid('conversation')} bdi`).allTextContents();
const entry = (id: string) => page.locator(`${tid('conversation')}[data-conversation="${id}"]`);

function emit(event: unknown): Promise<void> {
  return page.evaluate((event) => window.harness.fake!.emit(event as never), event);
}

let seq = 100;
const inChannel = (id: string, from: string, text: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  seq: ++seq,
  from,
  to: null,
  text,
  ts: NOW + seq * 1000,
  clientId: `k${seq}`,
  ...(id === 'room' ? {} : { channel: id }),
  ...extra,
});

describe('the sidebar', () => {
  it('lists the default channel first, then the others by name, with archived ones folded away', async () => {
    await enter();
    const names = await channelNames();
    expect(names).toHaveLength(48);
    expect(names[0]).toBe('general');
    expect(names.slice(1, 4)).toEqual(['build', 'design', 'incident-response-and-postmortems-2026']);
    expect(names).toContain('חדשות-הצוות');
    expect(names).not.toContain('launch-2025');
    // Archived: folded, two inside.
    const archived = page.locator(tid('archived-channels'));
    await expect(archived.locator('summary').textContent()).resolves.toBe('Archived (2)');
    expect(await archived.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    await archived.locator('summary').click();
    await expect(entry(cid(49)).isVisible()).resolves.toBe(true);
    // Direct messages come after the channels.
    await expect(page.locator(tid('direct-list')).isVisible()).resolves.toBe(true);
  });

  it('a burst of messages in other channels shows unread counts there, and mentions of me apart', async () => {
    await enter();
    const burst: ChatMessage[] = [];
    for (let i = 0; i < 120; i++) burst.push(inChannel(cid(2), 'bob', `release note ${i}`));
    burst.push(inChannel(cid(1), 'dana', '@Me can you look at the mockups?', { mentions: ['me'] }));
    burst.push(inChannel(cid(1), 'bob', 'and the icons'));
    burst.push(inChannel('room', 'bob', 'Lunch?'));
    await emit({ type: 'messages', messages: burst });

    await expect(entry(cid(2)).locator(tid('unread')).textContent()).resolves.toBe('99+');
    await expect(entry(cid(2)).locator(tid('mentions')).count()).resolves.toBe(0);
    await expect(entry(cid(1)).locator(tid('unread')).textContent()).resolves.toBe('2');
    await expect(entry(cid(1)).locator(tid('mentions')).textContent()).resolves.toBe('@1');
    // Said to a screen reader with the name.
    await expect(entry(cid(1)).textContent()).resolves.toContain('design, 2 unread, 1 mention');
    // The open channel (general) counts nothing.
    await expect(entry('room').locator(tid('unread')).count()).resolves.toBe(0);
    // Messages land in their own channel, not in general.
    await expect(page.locator(tid('message-row')).filter({ hasText: 'release note' }).count()).resolves.toBe(0);

    await entry(cid(1)).click();
    await expect(entry(cid(1)).locator(tid('unread')).count()).resolves.toBe(0);
    await expect(entry(cid(1)).locator(tid('mentions')).count()).resolves.toBe(0);
    await page.locator(tid('message-row')).filter({ hasText: 'can you look at the mockups' }).waitFor();
    await expect(page.locator(tid('conversation-title')).textContent()).resolves.toContain('design');
  });

  it('a channel someone else creates appears at once, in its place; a rename moves it', async () => {
    await enter();
    const created = channel(60, 'accessibility', { createdBy: 'dana' });
    await emit({ type: 'updates', updates: [{ kind: 'channel', seq: 500, ts: NOW, by: 'dana', channel: created }] });
    await entry(cid(60)).waitFor();
    expect((await channelNames()).slice(0, 3)).toEqual(['general', 'accessibility', 'build']);

    await emit({
      type: 'updates',
      updates: [{ kind: 'channel', seq: 501, ts: NOW, by: 'dana', channel: { ...created, name: 'ux-a11y' } }],
    });
    await expect.poll(channelNames).toContain('ux-a11y');
    const names = await channelNames();
    expect(names).not.toContain('accessibility');
    expect(names.indexOf('ux-a11y')).toBeGreaterThan(names.indexOf('team-47'));
    expect(names.indexOf('ux-a11y')).toBeLessThan(names.indexOf('zz-old-project'));
  });

  it('has no serious axe violations with 50 channels, wide and narrow, light and dark', async () => {
    await enter({ isHost: true });
    await emit({
      type: 'messages',
      messages: [
        inChannel(cid(2), 'bob', 'v1.5 is tagged'),
        inChannel(cid(2), 'bob', 'installers are building'),
        inChannel(cid(1), 'dana', '@Me שלום! אפשר לעבור על הטקסט?', { mentions: ['me'] }),
        inChannel(cid(3), 'dana', 'עדכון קטן'),
        inChannel('room', 'bob', 'Welcome to the channels, everyone'),
        { seq: 900, from: 'dana', to: 'me', text: 'Coffee at 3?', ts: NOW, clientId: 'd1' },
      ],
    });
    const found = await axeAcrossScreens(page, 'channels-sidebar', async (width) => {
      if (width < 800 && !(await page.locator(tid('sidebar')).isVisible())) {
        await page.locator(tid('sidebar-toggle')).click();
      }
    });
    expect(found).toEqual({ '1280 light': [], '1280 dark': [], '420 light': [], '420 dark': [] });
  });
});

describe('creating and managing channels', () => {
  it('a member who may not create channels sees no "+"', async () => {
    await enter({ canCreateChannels: false });
    await expect(page.locator(tid('create-channel')).count()).resolves.toBe(0);
  });

  it('an older host: only the room, as before, and no "+"', async () => {
    await enter({ channels: [], features: [] });
    expect(await channelNames()).toEqual(['Design team']);
    await expect(page.locator(tid('create-channel')).count()).resolves.toBe(0);
  });

  it('creating a channel shows the host’s refusal in the dialog, then opens the channel made', async () => {
    await enter();
    await page.locator(tid('create-channel')).click();
    await page.locator(tid('channel-name')).fill('design');
    await page.locator(tid('channel-topic')).fill('Mockups and reviews');
    await page.evaluate(() =>
      window.harness.fake!.respondOnce('createChannel', {
        ok: false,
        error: { code: 'BEACON_ERR_CHANNEL_NAME_TAKEN', message: 'A channel is already called “design”.' },
      }),
    );
    await page.locator(tid('channel-save')).click();
    await expect(page.locator(tid('channel-error')).textContent()).resolves.toContain('already called');
    await expect(page.locator(tid('channel-dialog')).isVisible()).resolves.toBe(true);

    await page.locator(tid('channel-name')).fill('design-reviews');
    await page.locator(tid('channel-save')).click();
    await page.locator(tid('channel-dialog')).waitFor({ state: 'detached' });
    const calls = await page.evaluate(() => window.harness.fake!.callsTo('createChannel'));
    expect(calls).toEqual([
      { name: 'design', topic: 'Mockups and reviews' },
      { name: 'design-reviews', topic: 'Mockups and reviews' },
    ]);
    await expect(page.locator(tid('conversation-title')).textContent()).resolves.toContain('design-reviews');
    await expect(page.locator(tid('channel-topic-shown')).textContent()).resolves.toBe('Mockups and reviews');
  });

  it('the header shows # name and topic; its creator renames it and archives it from the menu', async () => {
    await enter();
    await entry(cid(2)).click();
    // Not ours (bob made "design"): no menu. "releases" (cid 2) is ours.
    await page.locator(tid('channel-menu')).click();
    await page.keyboard.press('Enter');
    await page.locator(tid('channel-name')).fill('releases-2027');
    await page.locator(tid('channel-topic')).fill('Tags, installers, notes');
    await page.evaluate(() =>
      window.harness.fake!.respondOnce('updateChannel', {
        ok: true,
        value: {
          id: 'c_0000000000000002',
          name: 'releases-2027',
          topic: 'Tags, installers, notes',
          createdBy: 'me',
          createdAt: 0,
          archived: false,
        },
      }),
    );
    await page.locator(tid('channel-save')).click();
    await page.locator(tid('channel-dialog')).waitFor({ state: 'detached' });
    expect(await page.evaluate(() => window.harness.fake!.callsTo('updateChannel'))).toEqual([
      { id: cid(2), name: 'releases-2027', topic: 'Tags, installers, notes' },
    ]);
    await expect(page.locator(tid('conversation-title')).textContent()).resolves.toContain('releases-2027');
    await expect(page.locator(tid('channel-topic-shown')).textContent()).resolves.toBe('Tags, installers, notes');

    await page.locator(tid('channel-menu')).click();
    await page.locator(tid('archive-channel')).click();
    expect(await page.evaluate(() => window.harness.fake!.callsTo('archiveChannel'))).toEqual([
      { id: cid(2), archived: true },
    ]);
    await emit({
      type: 'updates',
      updates: [
        {
          kind: 'channel',
          seq: 600,
          ts: NOW,
          by: 'me',
          channel: { ...channel(2, 'releases-2027', { createdBy: 'me' }), archived: true },
        },
      ],
    });
    await page.locator(tid('archived-note')).waitFor();
    await expect(page.locator(tid('composer-input')).count()).resolves.toBe(0);

    await page.locator(tid('channel-menu')).click();
    await page.locator(tid('unarchive-channel')).click();
    await page.locator(tid('composer-input')).waitFor();
  });

  it('someone else’s channel has no menu, unless I am the host', async () => {
    await enter();
    await entry(cid(1)).click();
    await expect(page.locator(tid('channel-menu')).count()).resolves.toBe(0);
    await page.close();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(harness!.baseUrl, { timeout: 60_000 });
    await page.waitForFunction(() => window.harness !== undefined, null, { timeout: 60_000 });
    await enter({ isHost: true });
    await entry(cid(1)).click();
    await page.locator(tid('channel-menu')).waitFor();
  });

  it('an archived channel shows a sentence instead of the message box, and its history', async () => {
    await enter({
      history: [inChannel(cid(48), 'bob', 'Launch retro notes are in the wiki')],
    });
    await page.locator(`${tid('archived-channels')} summary`).click();
    await entry(cid(48)).click();
    await page.locator(tid('archived-note')).waitFor();
    await expect(page.locator(tid('archived-note')).textContent()).resolves.toContain('This channel is archived');
    await expect(page.locator(tid('composer-input')).count()).resolves.toBe(0);
    await page.locator(tid('message-row')).filter({ hasText: 'Launch retro notes' }).waitFor();
    // Bob made it and I am not the host: no menu to bring it back.
    await expect(page.locator(tid('channel-menu')).count()).resolves.toBe(0);
  });
});
