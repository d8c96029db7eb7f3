/**
 * The whole stack in real Chromium: a real headless host (a child process, so
 * it can be killed), the built web client it serves, and two or three people.
 */
import { spawn } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/host/store/history-store.ts';
import { exited, spawnNode } from '../helpers/processes.ts';
import { tempDir } from '../helpers/room.ts';
import {
  browserUser,
  desktopUser,
  headlessHost,
  HOST_READY,
  indicator,
  member,
  messageRow,
  sendMessage,
  trackInjection,
  useChromium,
} from './helpers.ts';

let browser: Browser;
useChromium((launched) => (browser = launched));

describe('people in browsers', () => {
  it('join, see each other, chat both ways, and keep direct messages private; a terminal user chats along', async () => {
    const host = await headlessHost();
    const start = await browser.newPage({ viewport: { width: 1100, height: 720 }, ignoreHTTPSErrors: true });
    await start.goto(host.url);
    await start.getByTestId('join-form').waitFor();

    const ann = await browserUser(browser, host.url, 'Ann', '1234');
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    const cat = await browserUser(browser, host.url, 'Cat', '1234');
    await member(ann, 'Bob').waitFor();
    await member(bob, 'Ann').waitFor();
    await member(ann, 'Cat').waitFor();

    await sendMessage(ann, 'Hello Bob and Cat');
    await messageRow(bob, 'Hello Bob and Cat').waitFor();
    await messageRow(cat, 'Hello Bob and Cat').waitFor();
    await sendMessage(bob, 'Hi Ann!');
    await messageRow(ann, 'Hi Ann!').waitFor();
    await expect.poll(() => messageRow(ann, 'Hello Bob and Cat').getAttribute('data-status')).toBe('sent');

    // A direct message from Ann to Bob: Bob sees it in their conversation, Cat never does.
    await member(ann, 'Bob').click();
    await sendMessage(ann, 'Just between us');
    const bobsDirect = bob.getByTestId('conversation').filter({ hasText: 'Ann' });
    await expect.poll(() => bobsDirect.getByTestId('unread').textContent()).toBe('1');
    await bobsDirect.click();
    await messageRow(bob, 'Just between us').waitFor();
    await sendMessage(ann, 'Back in a minute');
    await messageRow(bob, 'Back in a minute').waitFor();
    expect(await cat.getByText('Just between us').count()).toBe(0);
    expect(await cat.getByTestId('conversation').filter({ hasText: 'Ann' }).getByTestId('unread').count()).toBe(0);

    // A terminal user in the same room.
    const terminal = spawn(process.execPath, [
      'src/cli/join.ts',
      `127.0.0.1:${host.port}`,
      '--name',
      'Term',
      '--code',
      '1234',
    ]);
    let printed = '';
    terminal.stdout.on('data', (chunk) => (printed += chunk));
    await member(ann, 'Term').waitFor();
    await ann.getByTestId('conversation').first().click();
    await sendMessage(ann, 'Hello terminal');
    await expect.poll(() => printed).toContain('Ann: Hello terminal');
    terminal.stdin.end('Hello browsers\n');
    await messageRow(cat, 'Hello browsers').waitFor();
    expect(await exited(terminal as never)).toBe(0);
  });

  it('see who is typing, and the notice goes away', async () => {
    const host = await headlessHost();
    const ann = await browserUser(browser, host.url, 'Ann', '1234');
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    await member(ann, 'Bob').waitFor();
    await bob.getByTestId('composer-input').pressSequentially('thinking', { delay: 20 });
    await expect.poll(() => ann.getByTestId('typing-indicator').textContent()).toContain('Bob is typing');
    await expect
      .poll(() => ann.getByTestId('typing-indicator').textContent(), { timeout: 10_000 })
      .not.toContain('Bob');
  });

  it('ride out a host crash: reconnecting, offline with the reason, then back with nothing lost or doubled', async () => {
    const host = await headlessHost();
    const ann = await browserUser(browser, host.url, 'Ann', '1234');
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    await member(ann, 'Bob').waitFor();
    await sendMessage(ann, 'before the crash');
    await messageRow(bob, 'before the crash').waitFor();

    host.child.kill('SIGKILL');
    await exited(host.child);
    for (const page of [ann, bob]) {
      await expect.poll(() => indicator(page).getAttribute('data-state'), { timeout: 5_000 }).toBe('reconnecting');
    }
    await expect.poll(() => indicator(ann).textContent()).toMatch(/Reconnecting · attempt \d+ · next try in \d+ s/);
    expect(await ann.getByTestId('members-stale').textContent()).toContain('As of the last connection');
    await sendMessage(ann, 'typed while the host was down');
    await expect
      .poll(() => messageRow(ann, 'typed while the host was down').getAttribute('data-status'))
      .toBe('pending');
    await expect.poll(() => indicator(ann).getAttribute('data-state'), { timeout: 20_000 }).toBe('offline');
    expect(await indicator(ann).textContent()).toMatch(/Offline/);
    expect(await indicator(ann).getAttribute('title')).toMatch(/127\.0\.0\.1/);

    const restarted = await spawnNode('src/cli/host.ts', host.args, HOST_READY);
    void restarted;
    // Offline still retries in the background; "Retry now" skips the wait, as a person would click it.
    await ann.getByTestId('retry-now').click();
    for (const page of [ann, bob]) {
      await expect.poll(() => indicator(page).getAttribute('data-state'), { timeout: 20_000 }).toBe('connected');
    }
    await messageRow(bob, 'typed while the host was down').waitFor();
    expect(await ann.getByTestId('members-stale').count()).toBe(0);
    await expect.poll(() => messageRow(ann, 'typed while the host was down').getAttribute('data-status')).toBe('sent');
    for (const page of [ann, bob]) {
      expect(await messageRow(page, 'before the crash').count()).toBe(1);
      expect(await messageRow(page, 'typed while the host was down').count()).toBe(1);
    }
  });

  it('with a wrong join code: a clear message and nothing of the room', async () => {
    const host = await headlessHost({ code: '4321' });
    const insider = await browserUser(browser, host.url, 'Insider', '4321');
    await sendMessage(insider, 'room secret');
    await expect.poll(() => messageRow(insider, 'room secret').getAttribute('data-status')).toBe('sent');
    const guesser = await browserUser(browser, host.url, 'Guesser', '0000');
    await expect.poll(() => guesser.getByTestId('form-error').textContent()).toContain('The join code is wrong');
    expect(await guesser.getByText('room secret').count()).toBe(0);
    expect(await guesser.getByTestId('members-list').count()).toBe(0);
  });

  it('see markup in a message as text; nothing in it runs', async () => {
    const host = await headlessHost();
    const ann = await browserUser(browser, host.url, 'Ann', '1234');
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    const seen = await trackInjection(bob);
    const attack = '<img src=x onerror="alert(1)"> <script>alert(2)</script> <b>bold</b>';
    await sendMessage(ann, attack);
    const row = messageRow(bob, attack);
    await row.waitFor();
    expect(await row.getByTestId('message-text').textContent()).toBe(attack);
    expect(
      await bob
        .locator(
          '[data-testid="message-list"] img, [data-testid="message-list"] script, [data-testid="message-list"] b',
        )
        .count(),
    ).toBe(0);
    expect(seen).toEqual({ dialogs: [], errors: [] });
  });

  it('open a 10,000-message conversation and scroll through it with a bounded number of rows', async () => {
    const data = tempDir();
    const store = HistoryStore.open(data);
    for (let i = 1; i <= 10_000; i++) {
      store.append({
        sender: 'm_archive',
        recipient: null,
        text: `archived message ${i}`,
        ts: 1_700_000_000_000 + i * 60_000,
        clientId: `a${i}`,
      });
    }
    store.close();
    const host = await headlessHost({ data });
    const reader = await browserUser(browser, host.url, 'Reader', '1234');
    await messageRow(reader, 'archived message 10000').waitFor();
    const scroller = reader.getByRole('log', { name: 'Messages' });
    const oldestShown = async () =>
      Math.min(
        ...(await reader
          .getByTestId('message-row')
          .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))))),
      );
    for (let round = 0; round < 5; round++) {
      const before = await oldestShown();
      await scroller.evaluate((element) => (element.scrollTop = 0));
      await expect.poll(oldestShown, { timeout: 10_000 }).toBeLessThan(before);
      expect(await reader.getByTestId('message-row').count()).toBeLessThanOrEqual(100);
    }
    expect(await oldestShown()).toBeLessThan(9_600);
  });
});

describe('the desktop interface', () => {
  it('hosts a room in one click, shows how to invite, and a browser colleague joins it', async () => {
    const desktop = await desktopUser(browser, tempDir());
    try {
      const page = desktop.page;
      await page.getByTestId('host-form').waitFor();
      await page.getByTestId('host-room-name').fill('Design team');
      await page.getByTestId('host-name').fill('Hana');
      await page.getByTestId('host-port').fill('0');
      await page.getByTestId('host-submit').click();
      await page.getByTestId('host-panel').waitFor();
      const code = (await page.getByTestId('host-code-display').textContent())!.trim();
      expect(code).toMatch(/^\d{8}$/);
      const port = desktop.session.hosting!.port;
      await expect.poll(() => page.getByTestId('host-addresses').textContent()).toContain(`127.0.0.1:${port}`);

      const guest = await browserUser(browser, `http://127.0.0.1:${port}/`, 'Gus', code);
      await member(page, 'Gus').waitFor();
      await sendMessage(guest, 'Hello from the browser');
      await messageRow(page, 'Hello from the browser').waitFor();
      await sendMessage(page, 'Welcome, Gus');
      await messageRow(guest, 'Welcome, Gus').waitFor();

      // Gus is in the room: Stop hosting asks first (test/e2e/ends.test.ts), and Hana says yes.
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByTestId('stop-hosting').click();
      await expect.poll(() => indicator(guest).getAttribute('data-state'), { timeout: 10_000 }).not.toBe('connected');
      await page.getByTestId('start-screen').waitFor();
    } finally {
      await desktop.close();
    }
  });

  it('offers another port when the chosen one is taken', async () => {
    const blocker = await headlessHost();
    const desktop = await desktopUser(browser, tempDir());
    try {
      const page = desktop.page;
      await page.getByTestId('host-room-name').fill('Room');
      await page.getByTestId('host-name').fill('Hana');
      await page.getByTestId('host-port').fill(String(blocker.port));
      await page.getByTestId('host-submit').click();
      await expect.poll(() => page.getByTestId('form-error').textContent()).toContain('already in use');
      await expect.poll(() => page.getByText(`port ${blocker.port + 1}`, { exact: false }).count()).toBeGreaterThan(0);
    } finally {
      await desktop.close();
    }
  });
});
