/**
 * Replies, edits, deletions, reactions and mentions end to end (issue 14): a
 * real headless host (child process) over a history of 300 messages, and
 * people in Chromium, one of them behind a cable that is pulled and plugged
 * back while the others change what he had seen.
 */
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it, onTestFailed, vi } from 'vitest';

import { HistoryStore } from '../../src/host/store/history-store.ts';
import { tempDir } from '../helpers/room.ts';
import {
  browserUser,
  headlessHost,
  indicator,
  loopbackCable,
  member,
  messageAction,
  messageRow,
  returningBrowserUser,
  screenshot,
  seriousAxeViolations,
  sendMessage,
  useChromium,
} from './helpers.ts';

let browser: Browser;
useChromium((launched) => (browser = launched));
// What a person waits for crosses a host and a browser (and sometimes a page of history): up to 10 s.
vi.setConfig({ expect: { poll: { timeout: 10_000 } } });

const ADA = { id: 'm_ada_seeded', name: 'Ada', token: 't_ada_seeded_token_0123456789' };
const BO = { id: 'm_bo_seeded', name: 'Bo', token: 't_bo_seeded_token_01234567890' };
const KICKOFF = 'Kickoff: the plan for the spring release';

/**
 * A room whose history already holds Ada's kickoff message and 299 more after it, so the kickoff
 * is pages away from the newest; Ada's browser knows her resume token.
 */
function roomWithLongHistory(): string {
  const data = tempDir();
  const store = HistoryStore.open(data);
  const start = Date.now() - 3 * 24 * 3600_000;
  store.saveMember({ ...ADA, joinedAt: start });
  store.saveMember({ ...BO, joinedAt: start });
  store.append({ sender: ADA.id, recipient: null, text: KICKOFF, ts: start, clientId: 'seed-kickoff' });
  for (let i = 1; i < 300; i++) {
    store.append({
      sender: ADA.id,
      recipient: null,
      text: `filler ${i}`,
      ts: start + i * 60_000,
      clientId: `seed${i}`,
    });
  }
  // Bo's answer to the kickoff, the newest message: its quote is 300 messages from what it quotes.
  store.append({
    sender: BO.id,
    recipient: null,
    text: 'Still the plan',
    ts: start + 301 * 60_000,
    clientId: 'seed-reply',
    replyTo: 1,
  });
  store.close();
  return data;
}

/** The row that was asked for is lit up or holds the keyboard (it glows for a moment, then keeps focus). */
const revealed = (page: Page, text: string) =>
  messageRow(page, text).evaluate(
    (row) =>
      row.classList.contains('highlighted') || row === document.activeElement || row.contains(document.activeElement),
  );

/** The row's top and bottom are inside the message list's visible box. */
const inView = (page: Page, text: string) =>
  messageRow(page, text).evaluate((row) => {
    const list = row.closest('[role="log"]')!.getBoundingClientRect();
    const box = row.getBoundingClientRect();
    return box.top >= list.top - 1 && box.bottom <= list.bottom + 1;
  });

const quoteIn = (page: Page, text: string) => messageRow(page, text).getByTestId('reply-quote');

async function editMessage(page: Page, text: string, replacement: string): Promise<void> {
  await messageAction(page, text, 'edit');
  const editor = page.getByTestId('message-editor').locator('textarea');
  await editor.fill(replacement);
  await editor.press('Enter');
  await page.getByTestId('message-editor').waitFor({ state: 'detached' });
}

async function deleteMessage(page: Page, text: string): Promise<void> {
  await messageAction(page, text, 'delete');
  await page.getByTestId('confirm-delete').click();
}

/** A row whose text was edited (its text then ends with "(edited)"). */
const editedRow = (page: Page, text: string) =>
  page
    .getByTestId('message-row')
    .filter({ has: page.getByTestId('edited-marker') })
    .filter({ hasText: text });

const deletedRows = (page: Page) =>
  page.getByTestId('message-row').filter({ has: page.getByTestId('message-deleted') });

describe('replies, edits and deletions', () => {
  it('Bo replies with a quote that jumps to the original; Ada’s edits and deletions reach him live and, after his cable was pulled, on his return', async () => {
    const host = await headlessHost({ data: roomWithLongHistory() });
    const ada = await returningBrowserUser(browser, host.url, 'Ada', '1234', ADA.token);
    const cable = await loopbackCable(host.port);
    const bo = await browserUser(browser, cable.url(), 'Bo', '1234', { width: 1280, height: 760 });
    for (const page of [ada, bo]) page.setDefaultTimeout(10_000);
    onTestFailed(async () => {
      await ada.screenshot({ path: '/tmp/fail-ada.png' }).catch(() => {});
      await bo.screenshot({ path: '/tmp/fail-bo.png' }).catch(() => {});
    });
    await member(ada, 'Bo').waitFor();
    await messageRow(bo, 'Still the plan').waitFor();
    // Ada came back as herself: the seeded history is hers.
    expect(await messageRow(ada, 'filler 299').getAttribute('class')).toMatch(/\bown\b/);
    // The kickoff is pages back: not in Bo's page at all.
    expect(await messageRow(bo, KICKOFF).count()).toBe(0);

    await sendMessage(ada, 'Ship on Friday?');
    await sendMessage(ada, 'This one was a mistake');
    await sendMessage(ada, 'Lunch at noon');
    await sendMessage(ada, 'Bring the demo laptop');
    await messageRow(bo, 'Bring the demo laptop').waitFor();

    // Bo replies: the composer shows what he answers, the sent message quotes it for both.
    await messageAction(bo, 'Ship on Friday?', 'reply');
    await expect.poll(() => bo.getByTestId('composer-reply').textContent()).toContain('Ship on Friday?');
    await sendMessage(bo, 'Friday works for me');
    await expect.poll(() => quoteIn(ada, 'Friday works for me').textContent()).toContain('Ship on Friday?');
    expect(await quoteIn(ada, 'Friday works for me').textContent()).toContain('Ada');
    await expect.poll(() => bo.getByTestId('composer-reply').count()).toBe(0);
    await messageAction(bo, 'This one was a mistake', 'reply');
    await sendMessage(bo, 'Agreed, skip it');
    await expect.poll(() => quoteIn(ada, 'Agreed, skip it').textContent()).toContain('This one was a mistake');

    // Clicking a quote shows the original in place.
    await quoteIn(bo, 'Friday works for me').click();
    await expect.poll(() => revealed(bo, 'Ship on Friday?')).toBe(true);

    // Ada edits one message and deletes another: Bo sees both where they were, live.
    await editMessage(ada, 'Ship on Friday?', 'Ship on Thursday?');
    await editedRow(ada, 'Ship on Thursday?').waitFor();
    const edited = editedRow(bo, 'Ship on Thursday?');
    await edited.waitFor();
    expect(await edited.getByTestId('edited-marker').getAttribute('title')).toMatch(/^Edited /);
    expect(await messageRow(bo, 'Ship on Friday?').count()).toBe(0);
    await deleteMessage(ada, 'This one was a mistake');
    await expect.poll(() => deletedRows(bo).count()).toBe(1);
    expect(await messageRow(bo, 'This one was a mistake').count()).toBe(0);
    expect(await deletedRows(bo).textContent()).toContain('Message deleted');
    // Bo's reply to it now says the original is gone, and quotes none of its words.
    await expect.poll(() => quoteIn(bo, 'Agreed, skip it').textContent()).toContain('Original message deleted');
    expect(await quoteIn(bo, 'Agreed, skip it').textContent()).not.toContain('mistake');
    // Only the author is offered edit and delete.
    await messageRow(bo, 'Lunch at noon').focus();
    expect(await messageRow(bo, 'Lunch at noon').getByTestId('edit').count()).toBe(0);
    expect(await messageRow(bo, 'Lunch at noon').getByTestId('delete').count()).toBe(0);
    // Once the lit-up original has faded (its glow lowers the contrast of its time and "(edited)": reported).
    await expect.poll(() => bo.locator('.message.highlighted').count()).toBe(0);
    await screenshot(bo, 'conversations-replies-edits-light', { theme: 'light' });
    expect(await seriousAxeViolations(bo)).toEqual([]);

    // Bo's cable is pulled. Meanwhile Ada edits one message, deletes another, and says something new.
    cable.cut();
    await expect.poll(() => indicator(bo).getAttribute('data-state')).not.toBe('connected');
    await editMessage(ada, 'Lunch at noon', 'Lunch at one');
    await deleteMessage(ada, 'Bring the demo laptop');
    await sendMessage(ada, 'Said while Bo was away');
    await expect.poll(() => deletedRows(ada).count()).toBe(2);

    // Plugged back: he sees every change made while away, once, without reloading.
    cable.plug();
    const retry = bo.getByTestId('retry-now');
    if (await retry.isVisible()) await retry.click();
    await expect.poll(() => indicator(bo).getAttribute('data-state'), { timeout: 20_000 }).toBe('connected');
    await messageRow(bo, 'Said while Bo was away').waitFor();
    await editedRow(bo, 'Lunch at one').waitFor();
    expect(await messageRow(bo, 'Lunch at noon').count()).toBe(0);
    await expect.poll(() => deletedRows(bo).count()).toBe(2);
    expect(await messageRow(bo, 'Bring the demo laptop').count()).toBe(0);
    expect(await messageRow(bo, 'Said while Bo was away').count()).toBe(1);
    expect(await messageRow(bo, 'Friday works for me').count()).toBe(1);

    // A newcomer gets the same picture from history pages.
    const cy = await browserUser(browser, host.url, 'Cy', '1234');
    await messageRow(cy, 'Said while Bo was away').waitFor();
    await editedRow(cy, 'Lunch at one').waitFor();
    expect(await deletedRows(cy).count()).toBe(2);
    expect(await quoteIn(cy, 'Agreed, skip it').textContent()).toContain('Original message deleted');
  }, 180_000);
});

describe('a reply to a message pages back', () => {
  it('clicking its quote fetches the original’s page and shows it, lit up, where it stays', async () => {
    const host = await headlessHost({ data: roomWithLongHistory() });
    const ada = await returningBrowserUser(browser, host.url, 'Ada', '1234', ADA.token);
    ada.setDefaultTimeout(10_000);
    await messageRow(ada, 'Still the plan').waitFor();
    expect(await messageRow(ada, KICKOFF).count()).toBe(0);
    await expect.poll(() => quoteIn(ada, 'Still the plan').textContent()).toContain('Kickoff');
    await quoteIn(ada, 'Still the plan').click();
    await expect.poll(() => revealed(ada, KICKOFF)).toBe(true);
    await expect.poll(() => inView(ada, KICKOFF)).toBe(true);
    expect(await messageRow(ada, 'filler 1').count()).toBe(1);
    // A person reading it a moment later still has it in front of them (it used to drift away as the list settled).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await messageRow(ada, KICKOFF).count()).toBe(1);
    expect(await inView(ada, KICKOFF)).toBe(true);
    // It can be answered there.
    await messageAction(ada, KICKOFF, 'reply');
    await expect.poll(() => ada.getByTestId('composer-reply').textContent()).toContain('Kickoff');
  }, 90_000);
});

describe('reactions', () => {
  it('a quick reaction shows a count and, on hover, who reacted; another person adds theirs; clicking one’s own takes it back', async () => {
    const host = await headlessHost();
    const ada = await browserUser(browser, host.url, 'Ada', '1234');
    const bo = await browserUser(browser, host.url, 'Bo', '1234');
    for (const page of [ada, bo]) page.setDefaultTimeout(10_000);
    await member(ada, 'Bo').waitFor();
    await sendMessage(ada, 'The build is green');
    const row = (page: Page) => messageRow(page, 'The build is green');
    const thumbs = (page: Page) => row(page).getByTestId('reaction').and(page.locator('[data-emoji="👍"]'));

    // Bo reacts from the message's actions: the quick row of emoji.
    await row(bo).focus();
    await row(bo).getByTestId('message-actions').getByRole('button', { name: 'Add a reaction' }).click();
    await row(bo).getByTestId('reaction-picker').getByRole('button', { name: 'React with 👍' }).click();
    await expect.poll(() => thumbs(ada).textContent()).toBe('👍1');
    expect(await thumbs(ada).getAttribute('title')).toBe('Bo reacted with 👍');
    expect(await thumbs(ada).getAttribute('aria-pressed')).toBe('false');
    expect(await thumbs(bo).getAttribute('title')).toBe('you reacted with 👍');
    expect(await thumbs(bo).getAttribute('aria-pressed')).toBe('true');

    // Ada adds hers by clicking the chip.
    await thumbs(ada).click();
    await expect.poll(() => thumbs(bo).textContent()).toBe('👍2');
    expect(await thumbs(bo).getAttribute('title')).toBe('you and Ada reacted with 👍');
    await expect.poll(() => thumbs(ada).getAttribute('title')).toBe('Bo and you reacted with 👍');
    // Any emoji, typed.
    await row(ada).focus();
    await row(ada).getByTestId('message-actions').getByRole('button', { name: 'Add a reaction' }).click();
    const typed = row(ada).getByTestId('message-actions').getByTestId('any-reaction');
    await typed.fill('🦀');
    await typed.press('Enter');
    await expect.poll(() => row(bo).locator('[data-emoji="🦀"]').textContent()).toBe('🦀1');
    await screenshot(bo, 'conversations-reactions-light', { theme: 'light' });
    expect(await seriousAxeViolations(bo)).toEqual([]);

    // Bo takes his back: one left, Ada's.
    await thumbs(bo).click();
    await expect.poll(() => thumbs(ada).textContent()).toBe('👍1');
    expect(await thumbs(ada).getAttribute('title')).toBe('you reacted with 👍');
    await expect.poll(() => thumbs(bo).getAttribute('aria-pressed')).toBe('false');
    // Ada takes hers back too: the chip goes.
    await thumbs(ada).click();
    await expect.poll(() => thumbs(bo).count()).toBe(0);
  }, 90_000);
});

describe('mentions', () => {
  it('Ada picks Bo from the @ autocomplete; Bo sees his name marked and a mention badge where he is not looking, and Cy sees no highlight', async () => {
    const host = await headlessHost();
    const ada = await browserUser(browser, host.url, 'Ada', '1234');
    const bo = await browserUser(browser, host.url, 'Bo', '1234');
    const cy = await browserUser(browser, host.url, 'Cy', '1234');
    for (const page of [ada, bo, cy]) page.setDefaultTimeout(10_000);
    await member(ada, 'Bo').waitFor();
    await member(ada, 'Cy').waitFor();

    // Bo is in a direct conversation with Cy when Ada calls him in #general.
    await member(bo, 'Cy').getByRole('button').click();
    await expect.poll(() => bo.getByTestId('conversation-title').textContent()).toContain('Cy');

    const composer = ada.getByTestId('composer-input');
    await composer.pressSequentially('@B');
    const options = ada.getByTestId('mention-option');
    await expect.poll(() => options.locator('bdi').allTextContents()).toEqual(['Bo']);
    await screenshot(ada, 'conversations-mention-picker-light', { theme: 'light' });
    expect(await seriousAxeViolations(ada)).toEqual([]);
    await options.filter({ hasText: 'Bo' }).click();
    expect(await composer.inputValue()).toBe('@Bo ');
    await composer.pressSequentially('the demo is yours');
    await composer.press('Enter');

    const general = bo.getByTestId('conversation').and(bo.locator('[data-conversation="room"]'));
    await expect.poll(() => general.getByTestId('mentions').textContent()).toBe('@1');
    await general.click();
    const row = messageRow(bo, '@Bo the demo is yours');
    await expect.poll(() => row.getAttribute('class')).toContain('mentions-me');
    expect(await row.locator('.mention.mention-me').textContent()).toBe('@Bo');
    await expect.poll(() => general.getByTestId('mentions').count()).toBe(0);
    // Cy reads the same words: Bo's name is marked as a mention, not as hers.
    const seenByCy = messageRow(cy, '@Bo the demo is yours');
    await seenByCy.waitFor();
    expect(await seenByCy.getAttribute('class')).not.toContain('mentions-me');
    expect(await seenByCy.locator('.mention').count()).toBe(1);
    expect(await seenByCy.locator('.mention-me').count()).toBe(0);
    // An @ typed by hand to nobody is just text.
    await sendMessage(ada, 'mail me at ada@example.org or @Nobody');
    await messageRow(bo, 'mail me at ada@example.org or @Nobody').waitFor();
    expect(await messageRow(bo, 'mail me at ada@example.org or @Nobody').locator('.mention').count()).toBe(0);
  }, 90_000);
});
