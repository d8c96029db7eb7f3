/**
 * Doing things to messages already there (v1.5), in Chromium over the fake ChatApi: the toolbar
 * on each message, replies and their quotes, editing and deleting one's own, reactions, and
 * mentions typed with @. The fake answers edit, deleteMessage and react the way a host that took
 * them would (an 'updates' event); what other people do arrives as events the test emits.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, Update } from '../../src/shared/protocol.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { serveHarness } from '../helpers/harness-server.ts';
import { axeAcrossScreens } from '../e2e/helpers.ts';

let harness: Awaited<ReturnType<typeof serveHarness>> | undefined;
let browser: Browser;

beforeAll(async () => {
  harness = await serveHarness();
  browser = await launchChromium();
  // Vite compiles the harness on the first visit (half a minute on a busy machine): not the first test's time.
  const page = await browser.newPage();
  await page.goto(harness.baseUrl, { timeout: 60_000 });
  await page.waitForFunction(() => window.harness !== undefined, null, { timeout: 60_000 });
  await page.close();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

/** Fifty colleagues, as a real team's names come: several scripts, a few sharing a first name. */
const COLLEAGUES = [
  'Ada Lovelace',
  'Ahmed Al-Farsi',
  'Aiko Tanaka',
  'Alejandro García',
  'Ana Souza',
  'Anna Kowalska',
  'Anna Lindqvist',
  'Arjun Mehta',
  'Beatriz Costa',
  'Bob Lindqvist',
  'Camille Martin',
  'Chen Wei',
  'Chioma Okafor',
  'Dana Cohen',
  'Daniel Schmidt',
  'David Levi',
  'Elena Petrova',
  'Emma Wilson',
  'Fatima Zahra',
  'Felix Braun',
  'Grace Hopper',
  'Hannah Becker',
  'Hiroshi Sato',
  'Ingrid Johansson',
  'Isabel Romero',
  'Jakub Nowak',
  'James O’Brien',
  'Jana Novák',
  'José Álvarez',
  'Karin Berg',
  'Kwame Mensah',
  'Laura Rossi',
  'Lea Müller',
  'Liam Murphy',
  'Lucía Fernández',
  'Mads Jensen',
  'Maria Papadopoulou',
  'Mateo Silva',
  'Mei Lin',
  'Mohammed Haddad',
  'Nadia Ivanova',
  'Noa Mizrahi',
  'Olivia Brown',
  'Omar Khalil',
  'Priya Sharma',
  'Rafael Oliveira',
  'Sara Nilsson',
  'Tomás Herrera',
  'Yusuf Demir',
  'Zoë van Dijk',
] as const;
const idOf = (name: string): string => `m_${name.toLowerCase().replace(/[^a-z]/g, '')}`;
const ADA = idOf('Ada Lovelace');
const BOB = idOf('Bob Lindqvist');
const DANA = idOf('Dana Cohen');
const NOA = idOf('Noa Mizrahi');

const BASE = Date.now() - 3_600_000;
const msg = (seq: number, from: string, text: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  seq,
  from,
  to: null,
  text,
  ts: BASE + seq * 20_000,
  clientId: `c${seq}`,
  ...extra,
});

/** The page the history jumps back to: seq 3 and its neighbours, from the start of the day. */
const OLD_PAGE: ChatMessage[] = [
  msg(2, DANA, 'Morning! Is the build green?'),
  msg(3, BOB, 'The installer for Windows fails at the signing step.\nLog attached in the thread.'),
  msg(4, DANA, 'On it.'),
];

/** What the room says, newest last: long, multi-line, right to left, emoji, replies, reactions. */
function history(): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (let seq = 100; seq < 120; seq++) {
    out.push(
      msg(seq, seq % 3 === 0 ? BOB : seq % 3 === 1 ? DANA : ADA, `Notes from the planning call, item ${seq - 99}.`),
    );
  }
  out.push(
    msg(120, BOB, 'Release plan for Friday:\n- freeze at noon\n- **build** at 2 pm\n- ship 🚀 by 5', {
      reactions: [
        { emoji: '👍', by: [DANA, ADA, NOA] },
        { emoji: '🎉', by: [DANA] },
      ],
    }),
    msg(121, NOA, 'שלום לכולם! הגרסה החדשה מוכנה לבדיקה 🎉'),
    msg(122, DANA, 'Replying to the old thread: the signing step needed the new certificate.', {
      replyTo: { seq: 3, from: BOB, text: OLD_PAGE[1]!.text },
    }),
    msg(123, 'me', 'I can take the macOS build tonight. '.repeat(6).trim()),
    msg(124, ADA, 'Thanks @Me, and @Bob Lindqvist please check the Windows one', { mentions: ['me', BOB] }),
    msg(125, 'me', 'Sounds good, thanks everyone 👋'),
  );
  return out;
}

async function openRoom(page: Page, options: { features?: string[] } = {}): Promise<void> {
  await page.goto(harness!.baseUrl, { timeout: 60_000 });
  await page.waitForFunction(() => window.harness !== undefined, null, { timeout: 60_000 });
  await page.evaluate(
    ({ names, history, features, ids }) => {
      const h = window.harness;
      const me = h.member('me', 'Me');
      const members = [me, ...names.map((name, i) => h.member(ids[i]!, name))];
      h.mount({
        snapshot: {
          connection: { kind: 'connected', address: '10.0.0.2:4747', rttMs: 3 },
          room: { name: 'Release crew', you: me, members, features },
          history,
          hasMore: false,
          displayName: 'Me',
        },
      });
    },
    {
      names: [...COLLEAGUES],
      ids: COLLEAGUES.map(idOf),
      history: history(),
      features: options.features ?? ['channels', 'replies', 'edits', 'reactions', 'mentions', 'search'],
    },
  );
  await page.getByTestId('composer-input').waitFor();
  await row(page, 125).waitFor();
}

const row = (page: Page, seq: number) => page.locator(`[data-testid="message-row"][data-seq="${seq}"]`);

/** Points at a message (brought into view first, as a person would scroll to it) and clicks one of its buttons. */
async function clickOn(page: Page, seq: number, testid: string): Promise<void> {
  // A list still settling (pinned to its end after an editor closed) can move the row from under
  // the pointer between the hover and the click, as a person would see it move: point again.
  for (let attempt = 1; ; attempt++) {
    await row(page, seq).scrollIntoViewIfNeeded();
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    await row(page, seq).hover();
    try {
      await row(page, seq).getByTestId(testid).first().click({ timeout: 2_000 });
      return;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** What a reaction chip or an option says, without the line breaks innerText puts between its parts. */
const textsOf = (locator: ReturnType<Page['locator']>) =>
  locator.evaluateAll((els) => els.map((e) => e.textContent?.trim()));

async function emitUpdates(page: Page, updates: Update[]): Promise<void> {
  await page.evaluate((updates) => window.harness.fake!.emit({ type: 'updates', updates }), updates);
}

async function callsTo(page: Page, name: string): Promise<unknown[]> {
  return page.evaluate((name) => window.harness.fake!.callsTo(name as 'send'), name);
}

async function newPage(width = 1280): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  page.setDefaultTimeout(8_000);
  return page;
}

describe('the toolbar on each message', () => {
  it('hovering shows React and Reply on anyone’s message, and Edit and Delete only on your own', async () => {
    const page = await newPage();
    await openRoom(page);
    await row(page, 121).hover();
    const theirs = row(page, 121).getByTestId('message-actions');
    await expect(theirs.evaluate((el) => getComputedStyle(el).opacity)).resolves.toBe('1');
    expect(await theirs.getByRole('button').evaluateAll((b) => b.map((x) => x.getAttribute('aria-label')))).toEqual([
      'Add a reaction',
      'Reply',
    ]);
    await row(page, 125).hover();
    expect(
      await row(page, 125)
        .getByTestId('message-actions')
        .getByRole('button')
        .evaluateAll((b) => b.map((x) => x.getAttribute('aria-label'))),
    ).toEqual(['Add a reaction', 'Reply', 'Edit', 'Delete']);
    await page.close();
  });

  it('is reached with the keyboard: Tab from a message lands on its buttons, which then show', async () => {
    const page = await newPage();
    await openRoom(page);
    // Focus the own message itself (as opening it from a quote does), then Tab into its toolbar.
    await row(page, 125).focus();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('aria-label'));
    expect(focused).toBe('Add a reaction');
    await expect(
      row(page, 125)
        .getByTestId('message-actions')
        .evaluate((el) => getComputedStyle(el).opacity),
    ).resolves.toBe('1');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await row(page, 125).getByTestId('message-editor').waitFor();
    await page.close();
  });

  it('a host without replies, edits, reactions or mentions gets none of them offered', async () => {
    const page = await newPage();
    await openRoom(page, { features: [] });
    await row(page, 125).hover();
    await expect(row(page, 125).getByTestId('message-actions').count()).resolves.toBe(0);
    // Reactions already there still show, but cannot be toggled.
    await expect(row(page, 120).getByTestId('reaction').first().isDisabled()).resolves.toBe(true);
    await page.getByTestId('composer-input').fill('');
    await page.getByTestId('composer-input').press('ArrowUp');
    await expect(page.getByTestId('message-editor').count()).resolves.toBe(0);
    await page.getByTestId('composer-input').pressSequentially('@An');
    await expect(page.getByTestId('mention-picker').count()).resolves.toBe(0);
    await page.close();
  });
});

describe('replies', () => {
  it('Reply puts "Replying to" above the box; the message goes with replyTo and shows the quote; ✕ stops replying', async () => {
    const page = await newPage();
    await openRoom(page);
    await clickOn(page, 121, 'reply');
    const banner = page.getByTestId('composer-reply');
    await expect(banner.innerText()).resolves.toMatch(/Replying to\s+Noa Mizrahi\s+שלום לכולם/);
    // The keyboard is in the box, ready to answer.
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).resolves.toBe(
      'composer-input',
    );
    await banner.getByTestId('cancel-reply').click();
    await expect(banner.count()).resolves.toBe(0);

    await clickOn(page, 120, 'reply');
    await page.getByTestId('composer-input').fill('Noon works for me, I will freeze main');
    await page.getByTestId('composer-input').press('Enter');
    expect(await callsTo(page, 'send')).toEqual([
      { conversation: 'room', text: 'Noon works for me, I will freeze main', replyTo: 120 },
    ]);
    await expect(banner.count()).resolves.toBe(0);
    // Pending, then sent: the quote shows all along, from the start of the original.
    const pending = page.locator('[data-testid="message-row"][data-client-id="client-1"]');
    await expect(pending.getByTestId('reply-quote').innerText()).resolves.toMatch(
      /Bob Lindqvist\s+Release plan for Friday:/,
    );
    await page.evaluate(() =>
      window.harness.fake!.emit({ type: 'messageStatus', clientId: 'client-1', status: 'sent', seq: 126 }),
    );
    await expect(row(page, 126).getByTestId('reply-quote').innerText()).resolves.toMatch(
      /Bob Lindqvist\s+Release plan/,
    );
    await page.close();
  });

  it('Escape in the box stops replying; an original deleted meanwhile is said to be', async () => {
    const page = await newPage();
    await openRoom(page);
    await clickOn(page, 124, 'reply');
    await page.getByTestId('composer-reply').waitFor();
    await emitUpdates(page, [{ kind: 'delete', seq: 700, ts: Date.now(), by: ADA, target: 124 }]);
    await expect(page.getByTestId('composer-reply').innerText()).resolves.toMatch(/Original message deleted/);
    await page.getByTestId('composer-input').press('Escape');
    await expect(page.getByTestId('composer-reply').count()).resolves.toBe(0);
    await page.close();
  });

  it('clicking the quote of a message not loaded asks for its page, then scrolls to the original and lights it up', async () => {
    const page = await newPage();
    await openRoom(page);
    await row(page, 122).getByTestId('reply-quote').click();
    await page.waitForFunction(() => window.harness.fake!.callsTo('loadAround').length === 1);
    expect(await callsTo(page, 'loadAround')).toEqual([{ conversation: 'room', seq: 3 }]);
    await page.evaluate(
      (messages) => window.harness.fake!.emit({ type: 'history', conversation: 'room', messages, hasMore: false }),
      OLD_PAGE,
    );
    const original = row(page, 3);
    await original.waitFor();
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-seq') === '3');
    await expect(original.evaluate((el) => el.classList.contains('highlighted'))).resolves.toBe(true);
    // In view, not just in the DOM.
    const box = await original.boundingBox();
    const list = await page.getByTestId('message-list').boundingBox();
    expect(box!.y).toBeGreaterThanOrEqual(list!.y);
    expect(box!.y + box!.height).toBeLessThanOrEqual(list!.y + list!.height);
    // The glow goes after a moment.
    await page.waitForFunction(
      () => !document.querySelector('[data-seq="3"]')?.classList.contains('highlighted'),
      null,
      { timeout: 5_000 },
    );
    await page.close();
  });

  it('the original opened far back stays in view and keeps the keyboard while the pages between it and the newest arrive', async () => {
    const page = await newPage();
    await openRoom(page);
    await row(page, 122).getByTestId('reply-quote').click();
    await page.waitForFunction(() => window.harness.fake!.callsTo('loadAround').length === 1);
    // Older messages exist, so the gap between seq 4 and 100 is filled page by page (below the original).
    await page.evaluate(
      (messages) => window.harness.fake!.emit({ type: 'history', conversation: 'room', messages, hasMore: true }),
      OLD_PAGE,
    );
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-seq') === '3');
    const pages = [
      [76, 99],
      [52, 75],
      [28, 51],
      [4, 27],
    ] as const;
    let top = 100;
    for (const [from, to] of pages) {
      // The gap's next page is asked for back from the oldest held above it.
      await page.waitForFunction(
        (before) =>
          window.harness.fake!.callsTo('loadOlder').some((call) => (call as { before: number }).before === before),
        top,
      );
      top = from;
      const messages = Array.from({ length: to - from + 1 }, (_, k) =>
        msg(from + k, k % 2 ? BOB : DANA, `Earlier notes, line ${from + k}.\nWith a second line to measure.`),
      );
      await page.evaluate(
        (messages) => window.harness.fake!.emit({ type: 'history', conversation: 'room', messages, hasMore: true }),
        messages,
      );
    }
    // Let virtua measure and place what arrived.
    await page.evaluate(
      () =>
        new Promise<void>((done) => {
          let frames = 0;
          const next = (): void => void (++frames < 30 ? requestAnimationFrame(next) : done());
          requestAnimationFrame(next);
        }),
    );
    const original = row(page, 3);
    const box = await original.boundingBox();
    const list = await page.getByTestId('message-list').boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y).toBeGreaterThanOrEqual(list!.y);
    expect(box!.y + box!.height).toBeLessThanOrEqual(list!.y + list!.height);
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-seq'))).resolves.toBe('3');
    // Near the top, the page before it is asked for; it arrives above, from the same day (under
    // the same day label): the original does not move.
    await page.waitForFunction(() =>
      window.harness.fake!.callsTo('loadOlder').some((call) => (call as { before: number }).before === 2),
    );
    await page.evaluate(
      (messages) => window.harness.fake!.emit({ type: 'history', conversation: 'room', messages, hasMore: false }),
      [msg(1, BOB, 'First thing today: coffee.')],
    );
    await row(page, 1).waitFor({ state: 'attached' });
    await page.evaluate(
      () =>
        new Promise<void>((done) => {
          let frames = 0;
          const next = (): void => void (++frames < 10 ? requestAnimationFrame(next) : done());
          requestAnimationFrame(next);
        }),
    );
    expect(Math.abs((await original.boundingBox())!.y - box!.y)).toBeLessThan(2);
    await page.close();
  });

  it('clicking the quote of a message already loaded scrolls to it without asking the host', async () => {
    const page = await newPage();
    await openRoom(page);
    await clickOn(page, 120, 'reply');
    await page.getByTestId('composer-input').fill('+1');
    await page.getByTestId('composer-input').press('Enter');
    await page.evaluate(() =>
      window.harness.fake!.emit({ type: 'messageStatus', clientId: 'client-1', status: 'sent', seq: 126 }),
    );
    // Scroll the original out of sight first.
    await page.evaluate(() =>
      window.harness.fake!.emit({
        type: 'messages',
        messages: Array.from({ length: 40 }, (_, i) => ({
          seq: 127 + i,
          from: 'm_danacohen',
          to: null,
          text: `Line ${i} of the build log\nwith a second line`,
          ts: Date.now(),
          clientId: `later${i}`,
        })),
      }),
    );
    await row(page, 166).waitFor();
    await expect(row(page, 120).count()).resolves.toBe(0);
    await page.evaluate(() =>
      window.harness.fake!.emit({
        type: 'messages',
        messages: [
          {
            seq: 167,
            from: 'm_adalovelace',
            to: null,
            text: 'Agreed',
            ts: Date.now(),
            clientId: 'x167',
            replyTo: { seq: 120, from: 'm_boblindqvist', text: 'Release plan for Friday:' },
          },
        ],
      }),
    );
    await row(page, 167).getByTestId('reply-quote').click();
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-seq') === '120');
    expect(await callsTo(page, 'loadAround')).toEqual([]);
    await page.close();
  });
});

describe('editing your own messages', () => {
  it('edits in place: Shift+Enter is a new line, Enter saves, and the message says (edited) with the time', async () => {
    const page = await newPage();
    await openRoom(page);
    await clickOn(page, 125, 'edit');
    const editor = row(page, 125).getByRole('textbox', { name: 'Edit your message' });
    await expect(editor.inputValue()).resolves.toBe('Sounds good, thanks everyone 👋');
    await editor.press('End');
    await editor.press('Shift+Enter');
    await editor.pressSequentially('See you Friday');
    await editor.press('Enter');
    expect(await callsTo(page, 'edit')).toEqual([
      { seq: 125, text: 'Sounds good, thanks everyone 👋\nSee you Friday' },
    ]);
    await expect(row(page, 125).getByTestId('message-editor').count()).resolves.toBe(0);
    await expect(row(page, 125).getByTestId('message-text').innerText()).resolves.toBe(
      'Sounds good, thanks everyone 👋\nSee you Friday (edited)',
    );
    const title = await row(page, 125).getByTestId('edited-marker').getAttribute('title');
    expect(title).toMatch(/^Edited .*\d/);
    // The keyboard is back in the composer.
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).resolves.toBe(
      'composer-input',
    );
    await page.close();
  });

  it('Escape leaves the message as it was; Up in an empty composer edits your last message', async () => {
    const page = await newPage();
    await openRoom(page);
    await page.getByTestId('composer-input').press('ArrowUp');
    const editor = row(page, 125).getByRole('textbox', { name: 'Edit your message' });
    await editor.waitFor();
    await editor.fill('something else entirely');
    await editor.press('Escape');
    await expect(row(page, 125).getByTestId('message-text').innerText()).resolves.toBe(
      'Sounds good, thanks everyone 👋',
    );
    expect(await callsTo(page, 'edit')).toEqual([]);
    // Not with text in the box: there Up moves the caret.
    await page.getByTestId('composer-input').fill('draft');
    await page.getByTestId('composer-input').press('ArrowUp');
    await expect(page.getByTestId('message-editor').count()).resolves.toBe(0);
    await page.close();
  });

  it('an edit the host refuses says why, next to the message, and keeps the editor open', async () => {
    const page = await newPage();
    await openRoom(page);
    await page.evaluate(() =>
      window.harness.fake!.respondOnce('edit', {
        ok: false,
        error: { code: 'BEACON_ERR_CHANNEL_ARCHIVED', message: 'This channel is archived: it takes no new messages.' },
      }),
    );
    await page.getByTestId('composer-input').press('ArrowUp');
    const editor = row(page, 125).getByRole('textbox', { name: 'Edit your message' });
    await editor.fill('Sounds good');
    await editor.press('Enter');
    await expect(row(page, 125).getByTestId('message-action-error').innerText()).resolves.toMatch(
      /This channel is archived/,
    );
    await expect(editor.isVisible()).resolves.toBe(true);
    await page.close();
  });

  it('someone else’s edit shows live, and the quote of a reply to it follows', async () => {
    const page = await newPage();
    await openRoom(page);
    await page.evaluate(() =>
      window.harness.fake!.emit({
        type: 'messages',
        messages: [
          {
            seq: 126,
            from: 'me',
            to: null,
            text: 'Which one?',
            ts: Date.now(),
            clientId: 'x126',
            replyTo: { seq: 121, from: 'm_noamizrahi', text: 'שלום לכולם! הגרסה החדשה מוכנה לבדיקה 🎉' },
          },
        ],
      }),
    );
    await emitUpdates(page, [
      { kind: 'edit', seq: 200, ts: Date.now(), by: NOA, target: 121, text: 'הגרסה 1.5.0 מוכנה לבדיקה' },
    ]);
    await expect(row(page, 121).getByTestId('message-text').innerText()).resolves.toBe(
      'הגרסה 1.5.0 מוכנה לבדיקה (edited)',
    );
    await expect(row(page, 126).getByTestId('reply-quote').innerText()).resolves.toMatch(/הגרסה 1\.5\.0/);
    await page.close();
  });
});

describe('deleting your own messages', () => {
  it('asks first; then "Message deleted" takes its place, for replies quoting it too', async () => {
    const page = await newPage();
    await openRoom(page);
    await page.evaluate(() =>
      window.harness.fake!.emit({
        type: 'messages',
        messages: [
          {
            seq: 126,
            from: 'm_adalovelace',
            to: null,
            text: 'Great, ping me when it is up',
            ts: Date.now(),
            clientId: 'x126',
            replyTo: { seq: 123, from: 'me', text: 'I can take the macOS build tonight.' },
          },
        ],
      }),
    );
    await clickOn(page, 123, 'delete');
    const dialog = page.getByTestId('delete-confirm');
    await expect(dialog.innerText()).resolves.toMatch(/I can take the macOS build tonight/);
    // Cancel first: nothing happens.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog.count()).resolves.toBe(0);
    expect(await callsTo(page, 'deleteMessage')).toEqual([]);

    await clickOn(page, 123, 'delete');
    await dialog.getByTestId('confirm-delete').click();
    expect(await callsTo(page, 'deleteMessage')).toEqual([{ seq: 123 }]);
    await expect(row(page, 123).getByTestId('message-deleted').innerText()).resolves.toBe('Message deleted');
    await expect(row(page, 123).getByTestId('message-text').count()).resolves.toBe(0);
    await expect(row(page, 123).getByTestId('message-actions').count()).resolves.toBe(0);
    await expect(row(page, 126).getByTestId('reply-quote').innerText()).resolves.toMatch(/Original message deleted/);
    const style = await row(page, 123)
      .getByTestId('message-deleted')
      .evaluate((el) => getComputedStyle(el).fontStyle);
    expect(style).toBe('italic');
    await page.close();
  });

  it('someone else’s deletion shows live, reactions and all gone; a deletion "by" anyone else is ignored', async () => {
    const page = await newPage();
    await openRoom(page);
    // A confused or hostile host says Dana deleted Bob's message: not his words to remove.
    await emitUpdates(page, [{ kind: 'delete', seq: 300, ts: Date.now(), by: DANA, target: 120 }]);
    await expect(row(page, 120).getByTestId('reaction').count()).resolves.toBe(2);
    await emitUpdates(page, [{ kind: 'delete', seq: 301, ts: Date.now(), by: BOB, target: 120 }]);
    await row(page, 120).getByTestId('message-deleted').waitFor();
    await expect(row(page, 120).getByTestId('reaction').count()).resolves.toBe(0);
    // Deleted stays deleted: a later edit or reaction for it changes nothing.
    await emitUpdates(page, [
      { kind: 'edit', seq: 302, ts: Date.now(), by: BOB, target: 120, text: 'back from the dead' },
      { kind: 'react', seq: 303, ts: Date.now(), by: DANA, target: 120, emoji: '👍', on: true },
    ]);
    await expect(row(page, 120).innerText()).resolves.not.toMatch(/back from the dead|👍/);
    await page.close();
  });
});

describe('reactions', () => {
  it('chips show emoji and count, pressed when yours, and who reacted by name on hover; a click toggles yours', async () => {
    const page = await newPage();
    await openRoom(page);
    const thumbs = row(page, 120).locator('[data-testid="reaction"][data-emoji="👍"]');
    await expect(thumbs.textContent()).resolves.toBe('👍3');
    await expect(thumbs.getAttribute('aria-pressed')).resolves.toBe('false');
    await expect(thumbs.getAttribute('title')).resolves.toBe(
      'Dana Cohen, Ada Lovelace and Noa Mizrahi reacted with 👍',
    );
    await thumbs.click();
    expect(await callsTo(page, 'react')).toEqual([{ seq: 120, emoji: '👍', on: true }]);
    await expect(thumbs.textContent()).resolves.toBe('👍4');
    await expect(thumbs.getAttribute('aria-pressed')).resolves.toBe('true');
    await expect(thumbs.getAttribute('title')).resolves.toBe(
      'Dana Cohen, Ada Lovelace, Noa Mizrahi and you reacted with 👍',
    );
    await thumbs.click();
    expect((await callsTo(page, 'react')).at(-1)).toEqual({ seq: 120, emoji: '👍', on: false });
    await expect(thumbs.textContent()).resolves.toBe('👍3');
    await page.close();
  });

  it('the picker offers six quick emoji and takes any other one; text that is not one emoji is refused with a reason', async () => {
    const page = await newPage();
    await openRoom(page);
    await clickOn(page, 121, 'add-reaction');
    const picker = page.getByTestId('reaction-picker').filter({ visible: true });
    await expect(picker.getByTestId('quick-reaction').count()).resolves.toBe(6);
    // The keyboard goes into the picker.
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).resolves.toBe(
      'quick-reaction',
    );
    await picker.getByTestId('quick-reaction').nth(1).click();
    await expect(row(page, 121).locator('[data-testid="reaction"][data-emoji="❤️"]').textContent()).resolves.toBe(
      '❤️1',
    );
    await expect(picker.count()).resolves.toBe(0);

    await clickOn(page, 121, 'add-reaction');
    for (const bad of ['ok', '👍👍', '<b>x</b>']) {
      await picker.getByTestId('any-reaction').fill(bad);
      await picker.getByTestId('any-reaction').press('Enter');
      await expect(picker.getByTestId('reaction-error').innerText()).resolves.toBe('That is not a single emoji.');
    }
    expect((await callsTo(page, 'react')).length).toBe(1);
    // A family (joined with ZWJ) and a skin tone are one emoji each.
    await picker.getByTestId('any-reaction').fill('👨‍👩‍👧');
    await picker.getByTestId('any-reaction').press('Enter');
    await expect(row(page, 121).locator('[data-testid="reaction"][data-emoji="👨‍👩‍👧"]').textContent()).resolves.toBe(
      '👨‍👩‍👧1',
    );
    await page.keyboard.press('Escape');
    await page.close();
  });

  it('a burst of 300 reactions from 50 people, some repeated, ends with each person counted once', async () => {
    const page = await newPage();
    await openRoom(page);
    const emoji = ['👍', '🎉', '🚀', '👀', '❤️', '😂'];
    const updates: Update[] = [];
    let seq = 500;
    for (let i = 0; i < 300; i++) {
      const by = idOf(COLLEAGUES[i % COLLEAGUES.length]!);
      updates.push({ kind: 'react', seq: seq++, ts: Date.now(), by, target: 124, emoji: emoji[i % 6]!, on: true });
    }
    // Half of them again, in another burst (a resume repeating what the page already showed).
    await emitUpdates(page, updates);
    await emitUpdates(page, updates.slice(0, 150));
    // And for messages this window does not hold: dropped without a trace.
    await emitUpdates(page, [
      { kind: 'react', seq: 999, ts: Date.now(), by: ADA, target: 4242, emoji: '👍', on: true },
    ]);
    const chips = await row(page, 124)
      .getByTestId('reaction')
      .evaluateAll((b) => b.map((x) => x.textContent));
    // i % 50 and i % 6 repeat every 150: each emoji is chosen by the 25 members of one parity.
    expect(chips).toEqual(['👍25', '🎉25', '🚀25', '👀25', '❤️25', '😂25']);
    await page.close();
  });
});

describe('mentions', () => {
  it('@ and a prefix lists the matching members of fifty; arrows and Enter insert @Name, and send names them', async () => {
    const page = await newPage();
    await openRoom(page);
    const box = page.getByTestId('composer-input');
    await box.pressSequentially('Can @an');
    const options = page.getByTestId('mention-option').locator('bdi');
    await expect(textsOf(options)).resolves.toEqual(['Ana Souza', 'Anna Kowalska', 'Anna Lindqvist']);
    await expect(box.getAttribute('aria-activedescendant')).resolves.toMatch(/-0$/);
    await box.press('ArrowDown');
    await box.press('ArrowDown');
    await expect(page.getByTestId('mention-option').nth(2).getAttribute('aria-selected')).resolves.toBe('true');
    await box.press('Enter');
    await expect(box.inputValue()).resolves.toBe('Can @Anna Lindqvist ');
    await expect(page.getByTestId('mention-picker').count()).resolves.toBe(0);
    // Tab picks too; a word of the name is enough ("coh" finds Dana Cohen).
    await box.pressSequentially('and @coh');
    await expect(textsOf(options)).resolves.toEqual(['Dana Cohen']);
    await box.press('Tab');
    await box.pressSequentially('review it?');
    await box.press('Enter');
    expect(await callsTo(page, 'send')).toEqual([
      {
        conversation: 'room',
        text: 'Can @Anna Lindqvist and @Dana Cohen review it?',
        mentions: [idOf('Anna Lindqvist'), DANA],
      },
    ]);
    await page.close();
  });

  it('Escape closes the list and keeps the text; a name picked then erased is not sent as mentioned', async () => {
    const page = await newPage();
    await openRoom(page);
    const box = page.getByTestId('composer-input');
    await box.pressSequentially('@gra');
    await expect(textsOf(page.getByTestId('mention-option').locator('bdi'))).resolves.toEqual(['Grace Hopper']);
    await box.press('Escape');
    await expect(page.getByTestId('mention-picker').count()).resolves.toBe(0);
    await expect(box.inputValue()).resolves.toBe('@gra');
    await box.fill('');
    await box.pressSequentially('@Grace');
    await box.press('Enter');
    await box.fill('never mind');
    await box.press('Enter');
    expect(await callsTo(page, 'send')).toEqual([{ conversation: 'room', text: 'never mind' }]);
    // An address is no mention.
    await box.pressSequentially('mail ada@example.org');
    await expect(page.getByTestId('mention-picker').count()).resolves.toBe(0);
    await page.close();
  });

  it('a mentioned @Name is highlighted, yours more strongly, and the message that names you is marked', async () => {
    const page = await newPage();
    await openRoom(page);
    const marks = await row(page, 124)
      .locator('.mention')
      .evaluateAll((spans) => spans.map((s) => [s.textContent, s.classList.contains('mention-me')]));
    expect(marks).toEqual([
      ['@Me', true],
      ['@Bob Lindqvist', false],
    ]);
    await expect(row(page, 124).evaluate((el) => el.classList.contains('mentions-me'))).resolves.toBe(true);
    // An @ without the message's mentions is just text.
    await expect(row(page, 125).locator('.mention').count()).resolves.toBe(0);
    await page.close();
  });

  it('mentions elsewhere are counted apart in the unread badge', async () => {
    const page = await newPage(420);
    await openRoom(page);
    await page.evaluate(() =>
      window.harness.fake!.emit({
        type: 'messages',
        messages: [
          { seq: 130, from: 'm_danacohen', to: 'me', text: 'psst', ts: Date.now(), clientId: 'd1' },
          {
            seq: 131,
            from: 'm_danacohen',
            to: 'me',
            text: '@Me can you look?',
            ts: Date.now(),
            clientId: 'd2',
            mentions: ['me'],
          },
        ],
      }),
    );
    await expect(page.getByTestId('unread-elsewhere').innerText()).resolves.toMatch(/^2/);
    await expect(page.getByTestId('mentions-elsewhere').innerText()).resolves.toMatch(/^@1/);
    await page.close();
  });
});

describe('hostile text', () => {
  it('an edit carrying HTML shows it as text: no element, no script', async () => {
    const page = await newPage();
    await openRoom(page);
    const alerts: string[] = [];
    page.on('dialog', (d) => {
      alerts.push(d.message());
      void d.dismiss();
    });
    await emitUpdates(page, [
      {
        kind: 'edit',
        seq: 400,
        ts: Date.now(),
        by: NOA,
        target: 121,
        text: '<img src=x onerror="alert(1)"> @Me <script>alert(2)</script>',
        mentions: ['me'],
      },
    ]);
    const text = row(page, 121).getByTestId('message-text');
    await expect(text.innerText()).resolves.toBe(
      '<img src=x onerror="alert(1)"> @Me <script>alert(2)</script> (edited)',
    );
    await expect(text.locator('img, script').count()).resolves.toBe(0);
    expect(alerts).toEqual([]);
    await page.close();
  });
});

describe('as it looks', () => {
  it('replies, reactions, an edit, a deletion, a mention and the pickers have no serious axe violations, wide and narrow, light and dark', async () => {
    const page = await newPage();
    await openRoom(page);
    await emitUpdates(page, [
      {
        kind: 'edit',
        seq: 600,
        ts: Date.now(),
        by: 'me',
        target: 125,
        text: 'Sounds good, thanks everyone 👋 See you Friday',
      },
      { kind: 'delete', seq: 601, ts: Date.now(), by: DANA, target: 119 },
    ]);
    await clickOn(page, 121, 'reply');
    await page.getByTestId('composer-input').pressSequentially('Thanks @da');
    await page.getByTestId('mention-picker').waitFor();
    await row(page, 124).hover();
    const found = await axeAcrossScreens(page, 'message-actions');
    expect(found).toEqual({ '1280 light': [], '1280 dark': [], '420 light': [], '420 dark': [] });

    await page.getByTestId('composer-input').press('Escape');
    await clickOn(page, 120, 'add-reaction');
    await page.getByTestId('reaction-picker').filter({ visible: true }).waitFor();
    const picker = await axeAcrossScreens(page, 'message-reaction-picker', async () => {
      if (!(await page.getByTestId('reaction-picker').filter({ visible: true }).count())) {
        await clickOn(page, 120, 'add-reaction');
      }
    });
    expect(picker).toEqual({ '1280 light': [], '1280 dark': [], '420 light': [], '420 dark': [] });
    await page.keyboard.press('Escape');

    await page.getByTestId('composer-input').fill('');
    await page.getByTestId('composer-input').press('ArrowUp');
    await row(page, 125).getByTestId('message-editor').waitFor();
    const editing = await axeAcrossScreens(page, 'message-editing');
    expect(editing).toEqual({ '1280 light': [], '1280 dark': [], '420 light': [], '420 dark': [] });
    await page.keyboard.press('Escape');

    await clickOn(page, 123, 'delete');
    await page.getByTestId('delete-confirm').waitFor();
    const deleting = await axeAcrossScreens(page, 'message-delete-confirm');
    expect(deleting).toEqual({ '1280 light': [], '1280 dark': [], '420 light': [], '420 dark': [] });
    await page.close();
  }, 240_000);
});
