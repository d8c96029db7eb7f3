/**
 * An existing room's database, end to end (issue 14): a history file as the
 * version before conversations wrote it (schema 4: the room and direct
 * messages only), opened by today's headless host. In Chromium its people,
 * coming back with the resume tokens their browsers kept, find their old
 * history in the default channel, search it (their own direct messages
 * included, never someone else's), answer, react to and edit it.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it, onTestFailed, vi } from 'vitest';

import { MIGRATIONS } from '../../src/host/store/migrations.ts';
import { tempDir } from '../helpers/room.ts';
import {
  browserUser,
  headlessHost,
  member,
  messageAction,
  messageRow,
  returningBrowserUser,
  screenshot,
  seriousAxeViolations,
  sendMessage,
  sidebarEntry,
  useChromium,
} from './helpers.ts';

let browser: Browser;
useChromium((launched) => (browser = launched));
vi.setConfig({ expect: { poll: { timeout: 10_000 } } });

const ADA = { id: 'm_ada_v4', name: 'Ada', token: 't_ada_from_version_4_0123456' };
const BO = { id: 'm_bo_v4', name: 'Bo', token: 't_bo_from_version_4_01234567' };
const OLD = {
  welcome: 'Welcome to the old room',
  printer: 'The printer on floor two is jammed again',
  secret: 'Between us: the budget is approved',
  thanks: 'Great news, thank you',
  typo: 'Agenda for Tuesdday',
};

/**
 * A data folder whose history is at version 4, built by the first four migrations (the schema
 * version 4 shipped with: test/host/migrations.test.ts holds them to it) and filled as version 4
 * filled it: two members with their tokens, room messages and a direct conversation, two days old.
 */
function versionFourRoom(): string {
  const data = tempDir();
  const db = new DatabaseSync(join(data, 'beacon.db'));
  for (const sql of MIGRATIONS.slice(0, 4)) db.exec(sql);
  db.exec('PRAGMA user_version = 4');
  const start = Date.now() - 2 * 24 * 3600_000;
  const member = db.prepare('INSERT INTO members (id, name, token, joined_at, last_seen) VALUES (?, ?, ?, ?, ?)');
  for (const m of [ADA, BO]) member.run(m.id, m.name, m.token, start, start + 3600_000);
  db.prepare("INSERT INTO room VALUES ('name', 'Old team room')").run();
  const message = db.prepare(
    'INSERT INTO messages (seq, sender, recipient, text, ts, client_id) VALUES (?, ?, ?, ?, ?, ?)',
  );
  message.run(1, ADA.id, null, OLD.welcome, start, 'c1');
  message.run(2, BO.id, null, OLD.printer, start + 60_000, 'c1');
  message.run(3, ADA.id, BO.id, OLD.secret, start + 120_000, 'c2');
  message.run(4, BO.id, ADA.id, OLD.thanks, start + 180_000, 'c2');
  message.run(5, ADA.id, null, OLD.typo, start + 240_000, 'c3');
  db.close();
  return data;
}

const versionOf = (data: string): number => {
  const db = new DatabaseSync(join(data, 'beacon.db'), { readOnly: true });
  try {
    return (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  } finally {
    db.close();
  }
};

const title = (page: Page) => page.getByTestId('conversation-title');

async function search(page: Page, words: string): Promise<void> {
  await page.getByTestId('search-input').fill(words);
  await page.getByTestId('search-input').press('Enter');
  await expect.poll(() => page.getByTestId('search-results').locator('h2').textContent()).toContain(words);
  await expect.poll(() => page.getByTestId('search-loading').count()).toBe(0);
}

describe('a room kept by the version before conversations', () => {
  it('opens with its history in #general, searchable (each person’s direct messages theirs alone), and its old messages can be answered, reacted to and edited by their author', async () => {
    const data = versionFourRoom();
    const host = await headlessHost({ data });
    expect(versionOf(data)).toBe(MIGRATIONS.length);

    const ada = await returningBrowserUser(browser, host.url, 'Ada', '1234', ADA.token, { width: 1280, height: 760 });
    const bo = await returningBrowserUser(browser, host.url, 'Bo', '1234', BO.token);
    const cy = await browserUser(browser, host.url, 'Cy', '1234');
    for (const page of [ada, bo, cy]) page.setDefaultTimeout(10_000);
    onTestFailed(async () => {
      for (const [name, page] of Object.entries({ ada, bo, cy }))
        await page.screenshot({ path: `/tmp/fail-${name}.png` }).catch(() => {});
    });
    await member(ada, 'Bo').waitFor();
    await member(ada, 'Cy').waitFor();

    // The old room's messages are #general's, in order, each still its author's.
    await expect.poll(() => title(ada).textContent()).toContain('general');
    await messageRow(ada, OLD.typo).waitFor();
    const texts = await ada.getByTestId('message-text').allTextContents();
    expect(texts).toEqual([OLD.welcome, OLD.printer, OLD.typo]);
    expect(await messageRow(ada, OLD.welcome).getAttribute('class')).toMatch(/\bown\b/);
    expect(await messageRow(ada, OLD.printer).getAttribute('class')).not.toMatch(/\bown\b/);
    // The direct conversation is there too, under Direct messages, holding both sides.
    await sidebarEntry(ada, 'Bo').click();
    await messageRow(ada, OLD.secret).waitFor();
    await messageRow(ada, OLD.thanks).waitFor();
    await sidebarEntry(ada, 'general').click();
    await expect.poll(() => title(ada).textContent()).toContain('general');
    await screenshot(ada, 'conversations-migrated-room-light', { theme: 'light' });
    expect(await seriousAxeViolations(ada)).toEqual([]);

    // The old history is searchable: Ada finds Bo's printer message and answers it in place.
    await search(ada, 'printer jammed');
    await expect.poll(() => ada.getByTestId('search-hit-place').allTextContents()).toEqual(['# general']);
    await ada.getByTestId('search-hit').click();
    await messageAction(ada, OLD.printer, 'reply');
    await sendMessage(ada, 'Fixed it this morning');
    await expect
      .poll(() => messageRow(bo, 'Fixed it this morning').getByTestId('reply-quote').textContent())
      .toContain(OLD.printer);

    // She corrects her old typo; Bo sees it edited. Bo reacts to her old welcome.
    await messageAction(ada, OLD.typo, 'edit');
    const editor = ada.getByTestId('message-editor').locator('textarea');
    await editor.fill('Agenda for Tuesday');
    await editor.press('Enter');
    await bo
      .getByTestId('message-row')
      .filter({ has: bo.getByTestId('edited-marker') })
      .filter({ hasText: 'Agenda for Tuesday' })
      .waitFor();
    expect(await messageRow(bo, OLD.typo).count()).toBe(0);
    await messageRow(bo, OLD.welcome).focus();
    await messageRow(bo, OLD.welcome)
      .getByTestId('message-actions')
      .getByRole('button', { name: 'Add a reaction' })
      .click();
    await messageRow(bo, OLD.welcome).getByRole('button', { name: 'React with 🎉' }).click();
    await expect
      .poll(() =>
        messageRow(ada, OLD.welcome).locator('[data-testid="reaction"][data-emoji="🎉"]').getAttribute('title'),
      )
      .toBe('Bo reacted with 🎉');
    // Bo, not its author, is not offered to edit Ada's old message.
    expect(await messageRow(bo, OLD.welcome).getByTestId('edit').count()).toBe(0);

    // Each finds the old direct messages only in their own search.
    await search(bo, 'budget approved');
    await expect.poll(() => bo.getByTestId('search-hit-place').allTextContents()).toEqual(['Direct message with Ada']);
    await search(cy, 'budget approved');
    await cy.getByTestId('search-empty').waitFor();
    await search(cy, 'printer');
    await expect.poll(() => cy.getByTestId('search-hit-place').allTextContents()).toEqual(['# general']);
    const page = await cy.evaluate(() => document.documentElement.outerHTML);
    expect(page).not.toContain('budget');
    expect(page).not.toContain('Great news');
  }, 180_000);
});
