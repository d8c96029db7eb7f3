/**
 * Search end to end (issue 14): three people in Chromium on a real headless
 * host. Bo finds words in a channel and in his direct conversation with Ada,
 * marked, filters them and opens one in place; Cy, searching the same words,
 * never gets Ada and Bo's direct messages, not on screen and not in the page.
 */
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it, onTestFailed, vi } from 'vitest';

import {
  browserUser,
  headlessHost,
  member,
  messageRow,
  screenshot,
  seriousAxeViolations,
  sendMessage,
  sidebarEntry,
  useChromium,
} from './helpers.ts';

let browser: Browser;
useChromium((launched) => (browser = launched));
vi.setConfig({ expect: { poll: { timeout: 10_000 } } });

const title = (page: Page) => page.getByTestId('conversation-title');

async function search(page: Page, words: string): Promise<void> {
  await page.getByTestId('search-input').fill(words);
  await page.getByTestId('search-input').press('Enter');
  await expect.poll(() => page.getByTestId('search-results').locator('h2').textContent()).toContain(words);
  await expect.poll(() => page.getByTestId('search-loading').count()).toBe(0);
}

const hits = (page: Page) => page.getByTestId('search-hit');
const places = (page: Page) => page.getByTestId('search-hit-place').allTextContents();

describe('search', () => {
  it('Bo finds words in #release and in his direct messages with Ada, marked, narrows by person and channel, and opens one in place; Cy never gets their direct messages', async () => {
    const host = await headlessHost();
    const ada = await browserUser(browser, host.url, 'Ada', '1234');
    const bo = await browserUser(browser, host.url, 'Bo', '1234', { width: 1280, height: 760 });
    // Cy's page, with every frame its WebSocket receives kept: the page drops a hit from someone else's
    // conversation, so only the wire shows whether the host sent one.
    const cyContext = await browser.newContext({ viewport: { width: 1280, height: 760 }, ignoreHTTPSErrors: true });
    const cy = await cyContext.newPage();
    const cyHeard: string[] = [];
    cy.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => cyHeard.push(String(payload))));
    await cy.goto(host.url);
    await cy.getByTestId('join-name').fill('Cy');
    await cy.getByTestId('join-code').fill('1234');
    await cy.getByTestId('join-submit').click();
    for (const page of [ada, bo, cy]) page.setDefaultTimeout(10_000);
    onTestFailed(async () => {
      for (const [name, page] of Object.entries({ ada, bo, cy }))
        await page.screenshot({ path: `/tmp/fail-${name}.png` }).catch(() => {});
    });
    await member(ada, 'Bo').waitFor();
    await member(ada, 'Cy').waitFor();

    // #release, with the checklist in it.
    await ada.getByTestId('create-channel').click();
    await ada.getByTestId('channel-name').fill('release');
    await ada.getByTestId('channel-save').click();
    await expect.poll(() => title(ada).textContent()).toContain('release');
    await sendMessage(ada, 'The rollout checklist is ready for review');
    await sidebarEntry(cy, 'release').waitFor();
    await sidebarEntry(cy, 'release').click();
    await sendMessage(cy, 'Thanks, reading the checklist now');
    await messageRow(ada, 'Thanks, reading the checklist now').waitFor();

    // Ada and Bo, between themselves.
    await member(ada, 'Bo').getByRole('button').click();
    await expect.poll(() => title(ada).textContent()).toContain('Bo');
    const secret = 'Private rollout checklist: the launch date slips to May';
    await sendMessage(ada, secret);
    await sidebarEntry(bo, 'Ada').click();
    await messageRow(bo, secret).waitFor();
    await sendMessage(bo, 'Noted, I keep the rollout quiet');
    await messageRow(ada, 'Noted, I keep the rollout quiet').waitFor();
    // Bo goes back to #general, far from both.
    await sidebarEntry(bo, 'general').click();
    await expect.poll(() => title(bo).textContent()).toContain('general');

    // Bo searches: the channel's hits and his direct message, with the words marked.
    await search(bo, 'rollout checklist');
    await expect.poll(() => hits(bo).count()).toBe(2);
    expect((await places(bo)).sort()).toEqual(['# release', 'Direct message with Ada']);
    for (const hit of await hits(bo).all()) {
      const marked = (await hit.locator('mark').allTextContents()).map((word) => word.toLowerCase());
      expect(marked).toEqual(expect.arrayContaining(['rollout', 'checklist']));
    }
    await screenshot(bo, 'conversations-search-light', { theme: 'light' });
    expect(await seriousAxeViolations(bo)).toEqual([]);

    // Narrowed to what Ada wrote in #release: one hit.
    const ids = await bo.evaluate(() => ({
      release: document.querySelector<HTMLElement>('[data-testid="conversation"]:not([data-conversation="room"])')
        ?.dataset['conversation'],
    }));
    expect(ids.release).toMatch(/^c_/);
    await bo.getByTestId('search-in').selectOption(ids.release!);
    await expect.poll(() => places(bo)).toEqual(['# release']);
    await bo.getByTestId('search-in').selectOption('');
    await expect.poll(() => hits(bo).count()).toBe(2);
    await bo.getByTestId('search-from').selectOption({ label: 'Cy' });
    await bo.getByTestId('search-empty').waitFor();
    await bo.getByTestId('search-from').selectOption('');
    await expect.poll(() => hits(bo).count()).toBe(2);

    // Opening the direct message's hit takes Bo there, to that message.
    await hits(bo).filter({ hasText: 'Direct message with Ada' }).click();
    await expect.poll(() => title(bo).textContent()).toContain('Ada');
    await expect
      .poll(() =>
        messageRow(bo, secret).evaluate(
          (row) => row.classList.contains('highlighted') || row.contains(document.activeElement),
        ),
      )
      .toBe(true);

    // Cy searches the same words: #release only, nothing of Ada and Bo's, anywhere in her page.
    await search(cy, 'rollout checklist');
    await expect.poll(() => places(cy)).toEqual(['# release']);
    await search(cy, 'launch date slips May');
    await cy.getByTestId('search-empty').waitFor();
    const everything = await cy.evaluate(() => document.documentElement.outerHTML);
    for (const leak of ['slips to May', 'Private rollout', 'keep the rollout quiet']) {
      expect(everything).not.toContain(leak);
      expect(cyHeard.filter((frame) => frame.includes(leak))).toEqual([]);
    }
    expect(cyHeard.some((frame) => frame.includes('searchResults'))).toBe(true);
    // (Five searches each: the host's budget is a burst of 5, then 2 a second, and each filter change is one.)
    // Narrowing to a direct conversation with Ada is narrowing to hers with Ada, which holds none of it.
    await search(cy, 'rollout');
    await expect.poll(() => places(cy)).toEqual(['# release']);
    await cy.getByTestId('search-in').selectOption({ label: 'Ada' });
    await cy.getByTestId('search-empty').waitFor();
    await cy.getByTestId('search-in').selectOption({ label: 'Bo' });
    await cy.getByTestId('search-empty').waitFor();
    expect(await cy.evaluate(() => document.documentElement.outerHTML)).not.toContain('keep the rollout quiet');
    await screenshot(cy, 'conversations-search-empty-light', { theme: 'light' });
    expect(await seriousAxeViolations(cy)).toEqual([]);
  }, 180_000);
});
