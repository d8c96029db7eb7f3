/**
 * Channels end to end (issue 14): the desktop renderer hosting a room (a real
 * DesktopChat behind it) and a person in Chromium, creating, talking in,
 * being called in, renaming and archiving a channel, as each of them sees it.
 */
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

import { tempDir } from '../helpers/room.ts';
import {
  browserUser,
  desktopUser,
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

const title = (page: Page) => page.getByTestId('conversation-title');

/** Hosts a room from the desktop renderer as Ada; returns the page, the join code and the address. */
async function adaHostsFromTheApp() {
  const desktop = await desktopUser(browser, tempDir());
  const page = desktop.page;
  await page.getByTestId('host-form').waitFor();
  await page.getByTestId('host-room-name').fill('Launch team');
  await page.getByTestId('host-name').fill('Ada');
  await page.getByTestId('host-port').fill('0');
  await page.getByTestId('host-submit').click();
  await page.getByTestId('host-panel').waitFor();
  const code = (await page.getByTestId('host-code-display').textContent())!.trim();
  const url = `http://127.0.0.1:${desktop.session.hosting!.port}/`;
  return { desktop, ada: page, code, url };
}

describe('channels', () => {
  it('a channel Ada creates appears live in Bo’s sidebar with unread and mention badges while he is elsewhere; both talk there; renamed and archived, Bo’s composer gives way to the archived sentence', async () => {
    const { desktop, ada, code, url } = await adaHostsFromTheApp();
    try {
      const bo = await browserUser(browser, url, 'Bo', code, { width: 1280, height: 760 });
      for (const page of [ada, bo]) page.setDefaultTimeout(10_000);
      await member(ada, 'Bo').waitFor();
      await bo.getByTestId('composer-input').waitFor();
      await expect.poll(() => title(bo).textContent()).toContain('general');

      // Ada creates #release with a topic; her window opens it.
      await ada.getByTestId('create-channel').click();
      await ada.getByTestId('channel-name').fill('release');
      await ada.getByTestId('channel-topic').fill('Shipping 1.5 on Friday');
      await ada.getByTestId('channel-save').click();
      await expect.poll(() => title(ada).textContent()).toContain('release');
      expect(await ada.getByTestId('channel-topic-shown').textContent()).toBe('Shipping 1.5 on Friday');

      // Bo, still in #general, sees it arrive in his sidebar without doing anything.
      await sidebarEntry(bo, 'release').waitFor();
      expect(await title(bo).textContent()).toContain('general');

      // Ada talks there, then calls Bo in with @ and the autocomplete.
      await sendMessage(ada, 'Release notes draft is up');
      await expect.poll(() => sidebarEntry(bo, 'release').getByTestId('unread').textContent()).toBe('1');
      expect(await sidebarEntry(bo, 'release').getByTestId('mentions').count()).toBe(0);
      const composer = ada.getByTestId('composer-input');
      await composer.pressSequentially('@B');
      await ada.getByTestId('mention-option').filter({ hasText: 'Bo' }).click();
      await composer.pressSequentially('can you check the notes?');
      await composer.press('Enter');
      await messageRow(ada, '@Bo can you check the notes?').waitFor();
      await expect.poll(() => sidebarEntry(bo, 'release').getByTestId('unread').textContent()).toBe('2');
      expect(await sidebarEntry(bo, 'release').getByTestId('mentions').textContent()).toBe('@1');
      // The screen reader hears both counts with the name.
      expect(await sidebarEntry(bo, 'release').textContent()).toMatch(/release.*2 unread, 1 mention/);
      await screenshot(bo, 'conversations-channel-badges-light', { theme: 'light' });
      expect(await seriousAxeViolations(bo)).toEqual([]);

      // Bo opens it: both messages, his name marked in the one that calls him, the badges gone.
      await sidebarEntry(bo, 'release').click();
      await expect.poll(() => title(bo).textContent()).toContain('release');
      expect(await bo.getByTestId('channel-topic-shown').textContent()).toBe('Shipping 1.5 on Friday');
      await messageRow(bo, 'Release notes draft is up').waitFor();
      const calling = messageRow(bo, '@Bo can you check the notes?');
      await expect.poll(() => calling.getAttribute('class')).toContain('mentions-me');
      expect(await calling.locator('.mention-me').textContent()).toBe('@Bo');
      await expect.poll(() => sidebarEntry(bo, 'release').getByTestId('unread').count()).toBe(0);
      expect(await sidebarEntry(bo, 'release').getByTestId('mentions').count()).toBe(0);
      await sendMessage(bo, 'Checked, two typos fixed');
      await messageRow(ada, 'Checked, two typos fixed').waitFor();
      // What is said in #release stays there: #general has none of it.
      await sidebarEntry(ada, 'general').click();
      await expect.poll(() => title(ada).textContent()).toContain('general');
      expect(await messageRow(ada, 'Checked, two typos fixed').count()).toBe(0);
      await sidebarEntry(ada, 'release').click();

      // Ada renames it and changes its topic; Bo sees both where he is.
      await ada.getByTestId('channel-menu').click();
      await ada.getByTestId('edit-channel').click();
      await ada.getByTestId('channel-name').fill('release-1.5');
      await ada.getByTestId('channel-topic').fill('Shipped on Friday');
      await ada.getByTestId('channel-save').click();
      await expect.poll(() => title(bo).textContent()).toContain('release-1.5');
      await expect.poll(() => bo.getByTestId('channel-topic-shown').textContent()).toBe('Shipped on Friday');
      await sidebarEntry(bo, 'release-1.5').waitFor();

      // Ada archives it: Bo can still read it, but his composer is replaced by the sentence saying why.
      await ada.getByTestId('channel-menu').click();
      await ada.getByTestId('archive-channel').click();
      await bo.getByTestId('archived-note').waitFor();
      expect(await bo.getByTestId('archived-note').textContent()).toContain('This channel is archived');
      expect(await bo.getByTestId('composer-input').count()).toBe(0);
      expect(await bo.getByTestId('archived-tag').textContent()).toBe('Archived');
      await messageRow(bo, 'Checked, two typos fixed').waitFor();
      // The sidebar files it under Archived, open since Bo is in it.
      await bo.getByTestId('archived-channels').getByText('release-1.5').waitFor();
      expect(await bo.getByTestId('channel-list').locator('> ul').getByText('release-1.5').count()).toBe(0);
      await screenshot(bo, 'conversations-channel-archived-light', { theme: 'light' });
      expect(await seriousAxeViolations(bo)).toEqual([]);
    } finally {
      await desktop.close();
    }
  }, 120_000);
});
