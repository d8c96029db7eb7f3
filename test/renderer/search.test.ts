/**
 * Search as a person uses it (issue 14): the found words marked from the host's ranges (however
 * wrong those are), filters, "Load more", a hit opened in place (its page asked for when it is not
 * loaded), the empty, failed and unavailable states, and never a hit from someone else's direct
 * conversation. The state and the marking are checked in Node; the screens in real Chromium
 * against the fake ChatApi, with axe and pictures at 1280 and 420 px, light and dark.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SearchAnswer } from '../../src/shared/chat-api.ts';
import type { Channel, ChatMessage, SearchHit } from '../../src/shared/protocol.ts';
import { cleanRanges, highlightedParts } from '../../src/renderer/src/lib/highlight.ts';
import { ConversationsState } from '../../src/renderer/src/state/conversations.svelte.ts';
import { RoomState } from '../../src/renderer/src/state/room.svelte.ts';
import { SearchState, searchRequest, startOfDay } from '../../src/renderer/src/state/search.svelte.ts';
import { createFakeChatApi } from '../harness/fake-chat-api.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { serveHarness } from '../helpers/harness-server.ts';
import { axeAcrossScreens, screenshot } from '../e2e/helpers.ts';
import { bob, lab, me, settle } from './fixtures.ts';

const cid = (n: number): string => `c_${String(n).padStart(16, '0')}`;
const NOW = Date.UTC(2026, 11, 5, 14, 0);

const CHANNELS: Channel[] = [
  { id: 'room', name: 'general', topic: '', createdBy: null, createdAt: 0, archived: false },
  { id: cid(1), name: 'build', topic: 'CI and installers', createdBy: 'bob', createdAt: 0, archived: false },
  { id: cid(2), name: 'צוות-עיצוב', topic: '', createdBy: 'dana', createdAt: 0, archived: false },
];

function msg(seq: number, from: string, text: string, where: { channel?: string; to?: string } = {}): ChatMessage {
  return {
    seq,
    from,
    to: where.to ?? null,
    text,
    ts: NOW - (1000 - seq) * 60_000,
    clientId: `s${seq}`,
    ...(where.channel && where.channel !== 'room' ? { channel: where.channel } : {}),
  };
}

/** A hit with its ranges found the way the host would: every case-blind occurrence of each word. */
function hit(message: ChatMessage, words: string[], before: ChatMessage[] = [], after: ChatMessage[] = []): SearchHit {
  const highlights: [number, number][] = [];
  const lower = message.text.toLowerCase();
  for (const word of words) {
    for (let i = lower.indexOf(word); i >= 0; i = lower.indexOf(word, i + 1)) highlights.push([i, i + word.length]);
  }
  highlights.sort((a, b) => a[0] - b[0]);
  return { message, highlights, before, after };
}

describe('marking the words found', () => {
  it('marks the ranges, as text', () => {
    expect(
      highlightedParts('Build on Windows fails', [
        [0, 5],
        [9, 16],
      ]),
    ).toEqual([
      { text: 'Build', marked: true },
      { text: ' on ', marked: false },
      { text: 'Windows', marked: true },
      { text: ' fails', marked: false },
    ]);
  });

  it('survives ranges from a broken or hostile host: reversed, overlapping, outside the text, not numbers', () => {
    const text = 'שלום build';
    const ranges = [
      [8, 3],
      [5, 10],
      [6, 9],
      [-50, 2],
      [9, 1e9],
      [Number.NaN, 4],
      [Infinity, 2],
      [2.7, 3.2],
    ] as [number, number][];
    expect(cleanRanges(text, ranges)).toEqual([
      [0, 3],
      [5, 10],
    ]);
    const parts = highlightedParts(text, ranges);
    expect(parts.map((p) => p.text).join('')).toBe(text);
    // Only the first thousand ranges count: a host's million cost no more than that.
    const many = Array.from({ length: 1_000_000 }, (_, i) => (i < 1000 ? [0, 1] : [5, 6]) as [number, number]);
    expect(cleanRanges('x'.repeat(10), many)).toEqual([[0, 1]]);
  });

  it('cuts a long message around the first word found, never through a surrogate pair', () => {
    const text = `${'😀'.repeat(400)} the build broke ${'z'.repeat(1000)}`;
    const at = text.indexOf('build');
    const parts = highlightedParts(text, [[at, at + 5]], 100);
    expect(parts[0]).toEqual({ text: '…', marked: false });
    expect(parts.at(-1)).toEqual({ text: '…', marked: false });
    expect(parts.find((p) => p.marked)?.text).toBe('build');
    const joined = parts.map((p) => p.text).join('');
    expect(joined.isWellFormed()).toBe(true);
    expect(joined.length).toBeLessThanOrEqual(104);
  });
});

describe('the search request', () => {
  it('turns the filters into the host’s: a conversation, an author, and whole local days', () => {
    const input = searchRequest(
      '  build  ',
      { conversation: cid(1), from: 'bob', sinceDay: '2026-12-01', untilDay: '2026-12-05' },
      77,
    );
    expect(input).toEqual({
      query: 'build',
      conversation: cid(1),
      from: 'bob',
      since: new Date(2026, 11, 1).getTime(),
      until: new Date(2026, 11, 6).getTime(),
      before: 77,
    });
    expect(startOfDay('not a day')).toBeNull();
    expect(searchRequest('x', { conversation: null, from: null, sinceDay: '', untilDay: '' })).toEqual({ query: 'x' });
  });
});

function searching(features = ['channels', 'search']) {
  const api = createFakeChatApi();
  const room = new RoomState(api);
  const conversations = new ConversationsState(api, room, { isVisible: () => true });
  room.entered({ ...lab([me, bob]), channels: CHANNELS, features });
  conversations.entered(me, [], false, false);
  return { api, room, conversations, search: new SearchState(api, room, conversations) };
}

const answer = (hits: SearchHit[], hasMore = false): { ok: true; value: SearchAnswer } => ({
  ok: true,
  value: { hits, hasMore, names: {} },
});

describe('SearchState', () => {
  it('never shows a hit from a direct conversation between two other people, nor neighbours from elsewhere', async () => {
    const { api, search } = searching();
    const mine = msg(10, 'bob', 'build is green', { to: 'me' });
    const theirs = msg(11, 'bob', 'build secrets', { to: 'dana' });
    const stray = msg(9, 'dana', 'psst', { to: 'bob' });
    api.respondOnce('search', answer([hit(mine, ['build'], [stray]), hit(theirs, ['build'])]));
    search.query = 'build';
    await search.run();
    expect(search.hits.map((h) => h.message.seq)).toEqual([10]);
    expect(search.hits[0]!.before).toEqual([]);
  });

  it('drops the answer to a search that a newer one replaced', async () => {
    const { api, search } = searching();
    let release!: () => void;
    const gate = new Promise<void>((done) => (release = done));
    const slow = api.search.bind(api);
    let first = true;
    api.search = async (input) => {
      if (first) {
        first = false;
        await gate;
        return answer([hit(msg(1, 'bob', 'old query'), ['old'])]);
      }
      return slow(input);
    };
    api.respondOnce('search', answer([hit(msg(2, 'bob', 'new query'), ['new'])]));
    search.query = 'old';
    const older = search.run();
    search.query = 'new';
    await search.run();
    release();
    await older;
    expect(search.hits.map((h) => h.message.text)).toEqual(['new query']);
  });

  it('asks an older host nothing and says search is unavailable; a host without FTS5 says so too', async () => {
    const old = searching(['channels']);
    old.search.query = 'build';
    await old.search.run();
    expect(old.search.status).toBe('unavailable');
    expect(old.api.callsTo('search')).toEqual([]);

    const { api, search } = searching();
    api.respondOnce('search', {
      ok: false,
      error: { code: 'BEACON_ERR_SEARCH_UNAVAILABLE', message: 'This host cannot search.' },
    });
    search.query = 'build';
    await search.run();
    expect(search.status).toBe('unavailable');
  });

  it('clicking through filters searches once the clicks pause, and a search the host paces is asked again, not failed', async () => {
    const { api, search } = searching();
    api.respondOnce('search', answer([hit(msg(5, 'bob', 'build one'), ['build'])]));
    search.query = 'build';
    await search.run();
    const tooFast = {
      ok: false as const,
      error: { code: 'BEACON_ERR_RATE_LIMITED' as const, message: 'You are sending too fast', retryAfterMs: 50 },
    };
    api.respondOnce('search', tooFast);
    api.respondOnce('search', answer([hit(msg(6, 'bob', 'build two'), ['build'])]));
    search.setFilters({ from: 'bob' });
    search.setFilters({ from: null });
    search.setFilters({ conversation: 'room' });
    expect(search.status).toBe('loading');
    await expect.poll(() => search.status).toBe('done');
    expect(search.error).toBeNull();
    expect(search.hits.map((h) => h.message.text)).toEqual(['build two']);
    // One search for the three clicks, asked again once after "too fast".
    expect(api.callsTo('search')).toHaveLength(3);
    expect(api.callsTo('search').at(-1)).toMatchObject({ query: 'build', conversation: 'room' });

    for (let i = 0; i < 5; i++) api.respondOnce('search', { ...tooFast, error: { ...tooFast.error, retryAfterMs: 1 } });
    await search.run();
    expect(search.status).toBe('error');
    expect(search.error).toMatch(/^Searching too often/);
  });

  it('"Load more" asks for hits before the last one shown and adds only new ones', async () => {
    const { api, search } = searching();
    api.respondOnce(
      'search',
      answer([hit(msg(30, 'bob', 'build a'), ['build']), hit(msg(20, 'bob', 'build b'), ['build'])], true),
    );
    api.respondOnce(
      'search',
      answer([hit(msg(20, 'bob', 'build b'), ['build']), hit(msg(5, 'bob', 'build c'), ['build'])]),
    );
    search.query = 'build';
    await search.run();
    await search.more();
    expect(api.callsTo('search')).toEqual([{ query: 'build' }, { query: 'build', before: 20 }]);
    expect(search.hits.map((h) => h.message.seq)).toEqual([30, 20, 5]);
    expect(search.hasMore).toBe(false);
  });

  it('opening a hit not loaded asks for its page; one already loaded is only revealed', async () => {
    const { api, conversations, search } = searching();
    conversations.received([msg(40, 'bob', 'loaded build', { channel: cid(1) })]);
    search.open(hit(msg(3, 'bob', 'old build', { channel: cid(1) }), ['build']));
    await settle();
    expect(conversations.active).toBe(cid(1));
    expect(api.callsTo('loadAround')).toEqual([{ conversation: cid(1), seq: 3 }]);
    expect(conversations.conversation(cid(1))?.revealSeq).toBe(3);
    search.open(hit(msg(40, 'bob', 'loaded build', { channel: cid(1) }), ['build']));
    await settle();
    expect(api.callsTo('loadAround')).toHaveLength(1);
  });

  it('a message opened far back is joined to the newest: the pages between are asked for, then no more', async () => {
    const { api, conversations, search } = searching();
    const range = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => msg(from + i, 'bob', `m${from + i}`));
    conversations.received(range(900, 929));
    search.open(hit(msg(100, 'bob', 'the old build'), ['build']));
    await settle();
    expect(api.callsTo('loadAround')).toEqual([{ conversation: 'room', seq: 100 }]);
    // The page around it: 80…110, older ones exist.
    conversations.olderPage('room', range(80, 110), true);
    await settle();
    expect(api.callsTo('loadOlder')).toEqual([{ conversation: 'room', before: 900 }]);
    // Someone scrolling up from the message meanwhile: not part of the gap.
    conversations.olderPage('room', range(60, 79), true);
    conversations.olderPage('room', range(850, 899), true);
    await settle();
    expect(api.callsTo('loadOlder')).toEqual([
      { conversation: 'room', before: 900 },
      { conversation: 'room', before: 850 },
    ]);
    conversations.olderPage('room', range(101, 849), true);
    await settle();
    expect(api.callsTo('loadOlder')).toHaveLength(2);
    expect(seqs(conversations, 'room')).toEqual(range(60, 929).map((m) => m.seq));
    expect(conversations.conversation('room')?.hasMore).toBe(true);
  });
});

const seqs = (conversations: ConversationsState, id: string) =>
  conversations.conversation(id)?.messages.map((m) => m.seq);

// ── in Chromium ─────────────────────────────────────────────────────────────

let harness: Awaited<ReturnType<typeof serveHarness>> | undefined;
let browser: Browser;
let page: Page;

const tid = (id: string): string => `[data-testid="${id}"]`;

/** The general channel with 30 messages loaded; build and the Hebrew channel with none yet. */
async function enter(features = ['channels', 'replies', 'edits', 'reactions', 'mentions', 'search']): Promise<void> {
  const history = Array.from({ length: 30 }, (_, i) => msg(900 + i, i % 2 ? 'bob' : 'dana', `General chat ${i}`));
  await page.evaluate(
    ({ history, channels, features }) => {
      const h = window.harness;
      const me = h.member('me', 'Me');
      h.mount({
        snapshot: {
          connection: { kind: 'connected', address: '10.0.0.2:4747', rttMs: 3 },
          room: {
            name: 'Design team',
            you: me,
            members: [me, h.member('bob', 'Bob Lindqvist'), h.member('dana', 'Dana Cohen')],
            channels,
            features,
            canCreateChannels: true,
          },
          history,
          displayName: 'Me',
        },
      });
    },
    { history, channels: CHANNELS, features },
  );
  await page.locator(tid('composer-input')).waitFor();
}

const HITS: SearchHit[] = [
  hit(
    msg(812, 'bob', 'The Windows build fails at the signing step; the Linux build is fine.', { channel: cid(1) }),
    ['build', 'windows'],
    [msg(810, 'dana', 'Anyone looked at the nightly?', { channel: cid(1) })],
    [msg(813, 'dana', 'I will rerun it with logs', { channel: cid(1) })],
  ),
  hit(msg(640, 'dana', 'Can you check the build on Windows? <img src=x onerror="alert(1)">', { to: 'me' }), [
    'build',
    'windows',
  ]),
  hit(msg(512, 'dana', 'ה-build של Windows עבר בהצלחה 🎉', { channel: cid(2) }), ['build', 'windows']),
  hit(msg(400, 'bob', 'build for windows: secret between Bob and Dana', { to: 'dana' }), ['build', 'windows']),
];

async function searchFor(query: string, result: { hits: SearchHit[]; hasMore?: boolean }): Promise<void> {
  await page.evaluate(
    ({ hits, hasMore }) =>
      window.harness.fake!.respondOnce('search', { ok: true, value: { hits, hasMore, names: {} } }),
    { hits: result.hits, hasMore: result.hasMore ?? false },
  );
  await page.keyboard.press('Control+f');
  await page.keyboard.type(query);
  await page.keyboard.press('Enter');
}

describe('searching, as a person sees it', () => {
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

  it('Ctrl+F goes to the search box; hits show where, who, the words marked and the messages around', async () => {
    await enter();
    await searchFor('build windows', { hits: HITS, hasMore: true });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).not.toBe('composer-input');
    await page.locator(tid('search-hit')).first().waitFor();
    expect(await page.evaluate(() => window.harness.fake!.callsTo('search'))).toEqual([{ query: 'build windows' }]);
    // Bob and Dana's own conversation never shows.
    await expect(page.locator(tid('search-hit')).count()).resolves.toBe(3);
    const first = page.locator(tid('search-hit')).first();
    await expect(first.locator(tid('search-hit-place')).textContent()).resolves.toBe('# build');
    await expect(first.locator('mark').allTextContents()).resolves.toEqual(['Windows', 'build', 'build']);
    await expect(first.locator(tid('search-context')).allTextContents()).resolves.toEqual([
      'Dana Cohen: Anyone looked at the nightly?',
      'Dana Cohen: I will rerun it with logs',
    ]);
    const direct = page.locator(tid('search-hit')).nth(1);
    await expect(direct.locator(tid('search-hit-place')).textContent()).resolves.toBe('Direct message with Dana Cohen');
    // Message text is text: the markup shows as typed, and nothing ran.
    await expect(direct.locator(tid('search-hit-text')).textContent()).resolves.toContain('<img src=x');
    await expect(direct.locator('img').count()).resolves.toBe(0);
    await expect(page.locator(tid('search-hit')).nth(2).locator('mark').allTextContents()).resolves.toEqual([
      'build',
      'Windows',
    ]);

    const found = await axeAcrossScreens(page, 'search-results');
    expect(found).toEqual({ '1280 light': [], '1280 dark': [], '420 light': [], '420 dark': [] });

    // On a phone the field takes the whole top bar while it is typed in.
    await page.setViewportSize({ width: 420, height: 900 });
    await page.keyboard.press('Control+f');
    const field = (await page.locator(tid('search-input')).boundingBox())!;
    expect(field.width).toBeGreaterThan(350);
    await screenshot(page, 'search-typing-narrow-light', { theme: 'light' });
  });

  it('filters search again with the conversation, the person and the days chosen; "Load more" continues', async () => {
    await enter();
    await searchFor('build', { hits: HITS.slice(0, 1), hasMore: true });
    await page.locator(tid('search-hit')).first().waitFor();
    await page.evaluate(
      (hits) => window.harness.fake!.respondOnce('search', { ok: true, value: { hits, hasMore: false, names: {} } }),
      HITS.slice(2, 3),
    );
    await page.locator(tid('search-more')).click();
    await expect.poll(() => page.locator(tid('search-hit')).count()).toBe(2);
    await expect(page.locator(tid('search-more')).count()).resolves.toBe(0);

    await page.locator(tid('search-in')).selectOption(cid(1));
    await page.locator(tid('search-from')).selectOption('bob');
    await page.locator(tid('search-since')).fill('2026-12-01');
    await expect
      .poll(() => page.evaluate(() => window.harness.fake!.callsTo('search')))
      .toEqual([
        { query: 'build' },
        { query: 'build', before: 812 },
        // Three filters chosen in a row: one search, once the choosing pauses.
        { query: 'build', conversation: cid(1), from: 'bob', since: new Date(2026, 11, 1).getTime() },
      ]);
  });

  it('Enter on a hit opens its channel and shows the message in place, asking for its page when not loaded', async () => {
    await enter();
    await searchFor('build windows', { hits: HITS });
    await page.locator(tid('search-hit')).first().waitFor();
    await page.locator(tid('search-hit')).first().focus();
    await page.keyboard.press('Enter');
    await expect(page.locator(tid('conversation-title')).textContent()).resolves.toContain('build');
    await expect
      .poll(() => page.evaluate(() => window.harness.fake!.callsTo('loadAround')))
      .toEqual([{ conversation: cid(1), seq: 812 }]);
    // The page around it arrives, as a history event.
    const around = Array.from({ length: 40 }, (_, i) =>
      msg(780 + i, i % 2 ? 'bob' : 'dana', `Build log line ${i}`, { channel: cid(1) }),
    );
    around[32] = HITS[0]!.message;
    await page.evaluate(
      (messages) =>
        window.harness.fake!.emit({ type: 'history', conversation: 'c_0000000000000001', messages, hasMore: true }),
      around,
    );
    const row = page.locator(`${tid('message-row')}[data-seq="812"]`);
    await row.waitFor();
    await expect.poll(() => row.evaluate((el) => el.classList.contains('highlighted'))).toBe(true);
    expect(await row.isVisible()).toBe(true);
    const box = (await row.boundingBox())!;
    const list = (await page.locator(tid('message-list')).boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(list.y);
    expect(box.y + box.height).toBeLessThanOrEqual(list.y + list.height);
  });

  it('a hit in the open, loaded conversation scrolls back to it without asking the host', async () => {
    await enter();
    const old = msg(901, 'bob', 'General chat 1');
    await searchFor('chat', { hits: [hit(old, ['chat'])] });
    await page.locator(tid('search-hit')).first().click();
    const row = page.locator(`${tid('message-row')}[data-seq="901"]`);
    await row.waitFor();
    await expect.poll(() => row.evaluate((el) => el.classList.contains('highlighted'))).toBe(true);
    expect(await page.evaluate(() => window.harness.fake!.callsTo('loadAround'))).toEqual([]);
  });

  it('says when nothing matches, when the search failed (with a retry), and when the host cannot search', async () => {
    await enter();
    await searchFor('zebra', { hits: [] });
    await page.locator(tid('search-empty')).waitFor();
    await expect(page.locator(tid('search-empty')).textContent()).resolves.toContain('No messages match “zebra”');

    await page.evaluate(() =>
      window.harness.fake!.respondOnce('search', {
        ok: false,
        error: { code: 'BEACON_ERR_TIMEOUT', message: 'The host did not answer in time.' },
      }),
    );
    await page.locator(tid('search-input')).press('Enter');
    await page.locator(tid('search-error')).waitFor();
    await expect(page.locator(tid('search-error')).textContent()).resolves.toContain('did not answer in time');
    await page.locator(tid('search-error')).getByRole('button', { name: 'Try again' }).click();
    await page.locator(tid('search-empty')).waitFor();

    // Escape in the results closes them and puts the keyboard back in the search field.
    await page.locator(tid('search-in')).focus();
    await page.keyboard.press('Escape');
    await expect(page.locator(tid('search-results')).count()).resolves.toBe(0);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('search-input');
    await page.keyboard.press('Enter');
    await page.locator(tid('search-close')).click();
    await expect(page.locator(tid('search-results')).count()).resolves.toBe(0);
  });

  it('an older host: search says it is unavailable and asks nothing', async () => {
    await enter(['channels']);
    await page.keyboard.press('Control+f');
    await page.keyboard.type('build');
    await page.keyboard.press('Enter');
    await page.locator(tid('search-unavailable')).waitFor();
    expect(await page.evaluate(() => window.harness.fake!.callsTo('search'))).toEqual([]);
  });
});
