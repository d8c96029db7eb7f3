/**
 * The message list in real Chromium against a real headless host: where the
 * view lands and whether it follows, what it says when it does not, and what
 * messages look like (boundaries, avatars, safe formatting, long pastes).
 * Other members are lean Node clients, so a burst from ten people costs no
 * browsers.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, killChildren, spawnNode } from '../helpers/processes.ts';
import { cleanup, joined, startRoom, tempDir } from '../helpers/room.ts';
import { browserUser, launchChromium, requireBuild, WEB_ROOT } from './helpers.ts';

let browser: Browser;

beforeAll(async () => {
  requireBuild();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await cleanup();
  killChildren();
  for (const context of browser.contexts()) await context.close();
});

async function headlessHost() {
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--data',
    tempDir(),
    '--code',
    '1234',
    '--web',
    WEB_ROOT,
  ];
  await spawnNode('src/cli/host.ts', args, /^ws:\/\//);
  return { port, url: `http://127.0.0.1:${port}/` };
}

/** Messages of every height: one line, several, a list, a word too long for a line, a code block. */
const MIXED = [
  'Morning all',
  'Agenda for today:\n- the release\n- the bug bash\n- lunch',
  'a'.repeat(400),
  '```\nconst x = 1;\nconst y = 2;\nconsole.log(x + y);\n```',
  'line one\nline two\nline three\nline four',
  'ok',
  '> quoted\n> twice',
  'Numbered:\n1. first\n2. second\n3. third\n4. fourth',
  'short',
  'Another paragraph\n\nwith a blank line between',
  'https://example.org/a/very/long/path/that/goes/on/and/on/and/on/and/on/and/on/and/on',
  '**bold** and _italics_ and `code`',
  'one\ntwo',
  'almost the end\nof the history\nwith three lines',
  'the newest message',
];

/** The row whose text contains `marker` (a plain word, so it reads the same formatted or not). */
const row = (page: Page, marker: string) => page.getByTestId('message-row').filter({ hasText: marker });

const scroller = (page: Page) => page.getByRole('log', { name: 'Messages' });

/**
 * Distance between the bottom of the view and the end of the list in px, once
 * the layout has settled: the scroll height and position unchanged for 10
 * frames in a row (rows are measured after they render).
 */
async function settledDistanceFromEnd(page: Page): Promise<number> {
  return scroller(page).evaluate(
    (el) =>
      new Promise<number>((resolve) => {
        let last = '';
        let same = 0;
        const step = (): void => {
          const now = `${el.scrollHeight}/${el.scrollTop}/${el.clientHeight}`;
          same = now === last ? same + 1 : 0;
          last = now;
          if (same >= 10) resolve(el.scrollHeight - el.clientHeight - el.scrollTop);
          else requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      }),
  );
}

const distanceFromEnd = (page: Page) =>
  scroller(page).evaluate((el) => el.scrollHeight - el.clientHeight - el.scrollTop);

/** A row's bottom edge is inside the scroller's visible box. */
const fullyVisible = (page: Page, marker: string) =>
  row(page, marker).evaluate((element) => {
    const list = element.closest('[role="log"]')!.getBoundingClientRect();
    const box = element.getBoundingClientRect();
    return box.bottom <= list.bottom + 1 && box.top >= list.top - 1;
  });

async function nodeMember(port: number, name: string) {
  return joined(port, name);
}

describe('the view at the newest message', () => {
  it('a latecomer lands on the newest message, whatever the row heights', async () => {
    const host = await headlessHost();
    const ann = await nodeMember(host.port, 'Ann');
    for (const text of MIXED) ann.send(text, null, 'room');
    await expect.poll(() => ann.outbox.length).toBe(0);

    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    await row(bob, 'the newest message').waitFor({ state: 'attached' });
    expect(await settledDistanceFromEnd(bob)).toBeLessThanOrEqual(1);
    expect(await fullyVisible(bob, 'the newest message')).toBe(true);
    expect(await bob.getByTestId('new-messages-pill').count()).toBe(0);
  });

  it('a newcomer with multi-line history lands at the end and follows what is said next, with no pill', async () => {
    const host = await headlessHost();
    const ann = await nodeMember(host.port, 'Ann');
    for (let i = 0; i < 20; i++)
      ann.send(`history${i}\n${'more words '.repeat(i % 5)}\nand a third line`, null, 'room');
    await expect.poll(() => ann.outbox.length).toBe(0);

    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    await row(bob, 'history19').waitFor({ state: 'attached' });
    expect(await settledDistanceFromEnd(bob)).toBeLessThanOrEqual(1);
    for (let i = 0; i < 6; i++) {
      ann.send(`${MIXED[(i * 3) % MIXED.length]}\nlive${i}`, null, 'room');
      await row(bob, `live${i}`).waitFor({ state: 'attached' });
      expect(await settledDistanceFromEnd(bob)).toBeLessThanOrEqual(1);
    }
    expect(await bob.getByTestId('new-messages-pill').count()).toBe(0);
  });

  it('after a burst of 200 messages from 10 people in a second, the viewer is at the newest one', async () => {
    const host = await headlessHost();
    const viewer = await browserUser(browser, host.url, 'Viewer', '1234');
    await viewer.getByTestId('composer-input').waitFor();
    const people = await Promise.all(Array.from({ length: 10 }, (_, i) => nodeMember(host.port, `Person ${i}`)));
    for (let round = 0; round < 20; round++) {
      people.forEach((p, i) =>
        p.send(
          round % 4 === i % 4 ? `${MIXED[round % MIXED.length]}\nburst${round}x${i}` : `burst${round}x${i}`,
          null,
          'room',
        ),
      );
    }
    await row(viewer, 'burst19x9').waitFor({ state: 'attached', timeout: 20_000 });
    expect(await settledDistanceFromEnd(viewer)).toBeLessThanOrEqual(1);
    expect(await fullyVisible(viewer, 'burst19x9')).toBe(true);
    expect(await viewer.getByTestId('new-messages-pill').count()).toBe(0);
  });

  it('stays at the newest message while 50 people join and talk', async () => {
    // In this process, so that 50 joins from one address in a second are allowed.
    const server = await startRoom({
      webRoot: WEB_ROOT,
      limits: { hellosPerSecond: 100, helloBurst: 100, maxConnectionsPerAddress: 100, maxUnjoinedPerAddress: 100 },
    });
    const host = { port: server.port, url: `http://127.0.0.1:${server.port}/` };
    const ann = await nodeMember(host.port, 'Ann');
    for (const text of MIXED) ann.send(text, null, 'room');
    const viewer = await browserUser(browser, host.url, 'Viewer', '1234');
    await row(viewer, 'the newest message').waitFor({ state: 'attached' });
    const joining: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      joining.push(nodeMember(host.port, `Joiner ${i}`));
      if (i % 5 === 4) ann.send(`${MIXED[i % MIXED.length]}\njoinwave${i}`, null, 'room');
    }
    await Promise.all(joining);
    await viewer.getByText('Joiner 49 joined').waitFor({ state: 'attached', timeout: 20_000 });
    await expect.poll(() => ann.outbox.length).toBe(0);
    expect(await settledDistanceFromEnd(viewer)).toBeLessThanOrEqual(1);
    ann.send('said after the crowd came in', null, 'room');
    await row(viewer, 'said after the crowd came in').waitFor({ state: 'attached' });
    expect(await settledDistanceFromEnd(viewer)).toBeLessThanOrEqual(1);
    expect(await viewer.getByTestId('new-messages-pill').count()).toBe(0);
  });
});

describe('when the view is not at the end', () => {
  it('someone who scrolled up sees a jump-to-latest button with the count of new messages, and it takes them there', async () => {
    const host = await headlessHost();
    const ann = await nodeMember(host.port, 'Ann');
    for (let i = 0; i < 40; i++) ann.send(`filler${i}\n${MIXED[i % MIXED.length]}`, null, 'room');
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    await row(bob, 'filler39').waitFor({ state: 'attached' });
    await settledDistanceFromEnd(bob);
    // Scroll up as a person would, with the wheel.
    await scroller(bob).hover();
    await bob.mouse.wheel(0, -600);
    await expect.poll(() => distanceFromEnd(bob)).toBeGreaterThan(400);
    for (let i = 0; i < 3; i++) ann.send(`new while away ${i}`, null, 'room');
    const jump = bob.getByTestId('new-messages-pill');
    await expect.poll(() => jump.textContent()).toMatch(/3 new messages/);
    // Still where they were reading.
    expect(await settledDistanceFromEnd(bob)).toBeGreaterThan(400);
    await jump.click();
    expect(await settledDistanceFromEnd(bob)).toBeLessThanOrEqual(1);
    expect(await fullyVisible(bob, 'new while away 2')).toBe(true);
    expect(await jump.count()).toBe(0);
  });
});
