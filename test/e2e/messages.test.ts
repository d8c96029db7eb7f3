/**
 * The message list in real Chromium against a real headless host: where the
 * view lands and whether it follows, what it says when it does not, and what
 * messages look like (boundaries, avatars, safe formatting, long pastes).
 * Other members are lean Node clients, so a burst from ten people costs no
 * browsers.
 */
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

import { encryptedAddress, joined, next, startRoom } from '../helpers/room.ts';
import { browserUser, headlessHost, sendMessage, trackInjection, useChromium, WEB_ROOT } from './helpers.ts';

let browser: Browser;
useChromium((launched) => (browser = launched));

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
  return joined(port, name, { url: encryptedAddress(port) });
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
    // Eleven people send at once, so which message is the newest is the host's call: an observer hears the order.
    const observer = await nodeMember(host.port, 'Observer');
    const heard: string[] = [];
    observer.on('message', (message) => heard.push(message.text));
    for (let round = 0; round < 20; round++) {
      people.forEach((p, i) =>
        p.send(
          round % 4 === i % 4 ? `${MIXED[round % MIXED.length]}\nburst${round}x${i}` : `burst${round}x${i}`,
          null,
          'room',
        ),
      );
    }
    await expect.poll(() => heard.length, { timeout: 20_000 }).toBe(200);
    const newest = heard[199]!.split('\n').pop()!;
    await row(viewer, newest).waitFor({ state: 'attached', timeout: 20_000 });
    expect(await settledDistanceFromEnd(viewer)).toBeLessThanOrEqual(1);
    expect(await fullyVisible(viewer, newest)).toBe(true);
    expect(await viewer.getByTestId('new-messages-pill').count()).toBe(0);
  });

  it('stays at the newest message while 50 people join and talk', async () => {
    // In this process, so that 50 joins from one address in a second are allowed.
    const server = await startRoom({
      encrypted: true,
      webRoot: WEB_ROOT,
      limits: { hellosPerSecond: 100, helloBurst: 100, maxConnectionsPerAddress: 100, maxUnjoinedPerAddress: 100 },
    });
    const host = { port: server.port, url: `https://127.0.0.1:${server.port}/` };
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

describe('coming back to a conversation', () => {
  it('shows a "new since you last read" line above the first unread message, lands at the newest, and jumps to the line', async () => {
    const host = await headlessHost();
    const ann = await nodeMember(host.port, 'Ann');
    ann.send('read before leaving', null, 'room');
    const bobJoined = next(ann, 'presence', (event, member) => event === 'joined' && member.name === 'Bob');
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    await row(bob, 'read before leaving').waitFor();
    // Bob reads a direct message from Ann meanwhile; 30 messages come in the room.
    const bobId = (await bobJoined)[1].id;
    ann.send('psst, a direct message', bobId, bobId);
    const direct = bob.getByTestId('conversation').filter({ hasText: 'Ann' });
    await direct.click();
    await row(bob, 'psst').waitFor();
    for (let i = 0; i < 30; i++) ann.send(`unread${i}\n${MIXED[i % MIXED.length]}`, null, 'room');
    await expect.poll(() => ann.outbox.length).toBe(0);
    const roomEntry = bob.getByTestId('conversation').first();
    await expect.poll(() => roomEntry.getByTestId('unread').textContent()).toBe('30');
    await roomEntry.click();

    // At the newest, with a way up to where reading stopped.
    await row(bob, 'unread29').waitFor({ state: 'attached' });
    expect(await settledDistanceFromEnd(bob)).toBeLessThanOrEqual(1);
    const jump = bob.getByTestId('jump-to-unread');
    await expect.poll(() => jump.textContent()).toMatch(/30 new messages since you last read/);
    await jump.click();
    const divider = bob.getByTestId('unread-divider');
    await divider.waitFor();
    await settledDistanceFromEnd(bob);
    // The line sits right above the first unread message, at the top of the view.
    const [line, first, list] = await Promise.all([
      divider.boundingBox(),
      row(bob, 'unread0').boundingBox(),
      scroller(bob).boundingBox(),
    ]);
    expect(first!.y).toBeGreaterThanOrEqual(line!.y + line!.height - 1);
    expect(Math.abs(line!.y - list!.y)).toBeLessThan(60);
    expect(await bob.getByTestId('unread-divider').count()).toBe(1);
    await expect.poll(() => jump.count()).toBe(0);
  });
});

describe('reading messages', () => {
  it('each message in a group is told apart: a gap, its own time on hover, and an avatar with the sender colour', async () => {
    const host = await headlessHost();
    const ann = await nodeMember(host.port, 'Ann');
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    await bob.getByTestId('composer-input').waitFor();
    for (const text of ['grouped one', 'grouped two', 'grouped three']) ann.send(text, null, 'room');
    await row(bob, 'grouped three').waitFor();
    await sendMessage(bob, 'mine one');
    await sendMessage(bob, 'mine two');
    await expect.poll(() => row(bob, 'mine two').getAttribute('data-status')).toBe('sent');
    await bob.screenshot({ path: '/tmp/messages-look.png' });

    const boxes = await Promise.all(['grouped one', 'grouped two'].map((t) => row(bob, t).boundingBox()));
    // A visible gap between two messages of one sender.
    expect(boxes[1]!.y - (boxes[0]!.y + boxes[0]!.height)).toBeGreaterThanOrEqual(2);
    // The second message's own time appears on hover.
    const time = row(bob, 'grouped two').locator('time');
    expect(await time.isVisible()).toBe(false);
    await row(bob, 'grouped two').hover();
    await expect.poll(() => time.isVisible()).toBe(true);
    expect(await time.textContent()).toMatch(/\d/);

    // An avatar with the initial, in the same colour for the same person on every screen.
    const avatar = row(bob, 'grouped one').locator('.avatar');
    expect(await avatar.textContent()).toBe('A');
    const hue = await avatar.evaluate((el) => getComputedStyle(el).backgroundColor);
    const cat = await browserUser(browser, host.url, 'Cat', '1234');
    const catsAvatar = row(cat, 'grouped one').locator('.avatar');
    await catsAvatar.waitFor({ state: 'attached' });
    expect(await catsAvatar.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(hue);
    expect(await row(cat, 'mine one').locator('.avatar').textContent()).toBe('B');

    // One's own messages are not a band of colour across the list.
    for (const text of ['mine one', 'mine two']) {
      expect(await row(bob, text).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgba(0, 0, 0, 0)');
    }
  });

  it('Markdown shows as formatting: bold, italics, code in a monospace font, quotes, lists, links', async () => {
    const host = await headlessHost();
    const ann = await nodeMember(host.port, 'Ann');
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    await bob.getByTestId('composer-input').waitFor();
    ann.send('fmt1 **bold words** and _slanted_ and `inline code`', null, 'room');
    ann.send('fmt2\n```\nconst x = 1;\n```', null, 'room');
    ann.send('> fmt3 a quote', null, 'room');
    ann.send('fmt4:\n- apples\n- pears', null, 'room');
    ann.send('fmt5 [the docs](https://example.org/docs)', null, 'room');
    await row(bob, 'fmt5').waitFor();
    expect(await row(bob, 'fmt1').locator('strong').textContent()).toBe('bold words');
    expect(await row(bob, 'fmt1').locator('em').textContent()).toBe('slanted');
    const mono = (locator: ReturnType<Page['locator']>) =>
      locator.evaluate((el) => getComputedStyle(el).fontFamily.toLowerCase());
    expect(await mono(row(bob, 'fmt1').locator('code'))).toMatch(/mono|consolas|menlo/);
    expect(await row(bob, 'fmt2').locator('pre code').textContent()).toBe('const x = 1;');
    expect(await mono(row(bob, 'fmt2').locator('pre code'))).toMatch(/mono|consolas|menlo/);
    expect(await row(bob, 'fmt2').getByText('```').count()).toBe(0);
    expect(await row(bob, 'fmt3').locator('blockquote').textContent()).toBe('fmt3 a quote');
    expect(await row(bob, 'fmt4').locator('li').allTextContents()).toEqual(['apples', 'pears']);
    const link = row(bob, 'fmt5').locator('a');
    expect(await link.textContent()).toBe('the docs');
    expect(await link.getAttribute('href')).toBe('https://example.org/docs');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
  });

  it('nothing in a message runs or links anywhere but the web: img onerror, javascript: and data: links, 1,000-deep quotes, a 16,000-character line', async () => {
    const host = await headlessHost();
    const ann = await nodeMember(host.port, 'Ann');
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    const seen = await trackInjection(bob);
    await bob.getByTestId('composer-input').waitFor();
    const attacks = [
      'atk1 <img src=x onerror="alert(1)"> <script>alert(2)</script> <b>bold</b>',
      'atk2 [x](javascript:alert(1)) [y](JaVaScRiPt:alert(2)) <javascript:alert(3)>',
      'atk3 [d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) data:text/html,<script>alert(4)</script>',
      `atk4 ${'>'.repeat(1_000)} deep`,
      `atk5 ${'word **x** '.repeat(1_600)}`.slice(0, 16_000),
    ];
    const list = bob.getByTestId('message-list');
    // One at a time, each checked as it arrives at the end of the view (a 16,000-character row pushes the others out).
    for (const [n, text] of attacks.entries()) {
      ann.send(text, null, 'room');
      const shown = row(bob, `atk${n + 1}`);
      await shown.waitFor({ state: 'attached' });
      expect(await list.locator('img, script, b, iframe, object, embed').count()).toBe(0);
      const hrefs = await list.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      expect(hrefs.every((h) => h !== null && /^https?:\/\//.test(h))).toBe(true);
      const textShown = (await shown.getByTestId('message-text').textContent()) ?? '';
      if (n === 0) expect(textShown).toBe(text);
      if (n === 1) expect(textShown).toContain('[x](javascript:alert(1))');
      if (n === 3) expect(textShown).toContain('deep');
      // 'word **x** ' reads 'word x ': 7 of every 11 characters, none lost.
      if (n === 4) expect(textShown.length).toBeGreaterThan(10_000);
    }
    expect(seen).toEqual({ dialogs: [], errors: [] });
  });

  it('Hebrew and Arabic messages read right to left, punctuation on the correct side', async () => {
    const host = await headlessHost();
    const ann = await nodeMember(host.port, 'Ann');
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    await bob.getByTestId('composer-input').waitFor();
    ann.send('שלום לכולם!', null, 'room');
    ann.send('مرحبا بالجميع؟', null, 'room');
    ann.send('mixedmarker English first.\n\nואז עברית!', null, 'room');
    ann.send('ltrmarker plain English.', null, 'room');
    await row(bob, 'ltrmarker').waitFor();
    const direction = (marker: string) =>
      row(bob, marker)
        .getByTestId('message-text')
        .locator('p')
        .evaluate((el) => getComputedStyle(el).direction);
    expect(await direction('שלום')).toBe('rtl');
    expect(await direction('مرحبا')).toBe('rtl');
    expect(await direction('ltrmarker')).toBe('ltr');
    // Each paragraph takes its own direction: a Hebrew one after an English one still reads right to left.
    const paragraphs = row(bob, 'mixedmarker').getByTestId('message-text').locator('p');
    expect(await paragraphs.evaluateAll((ps) => ps.map((p) => getComputedStyle(p).direction))).toEqual(['ltr', 'rtl']);
  });

  it('a 20,000-character paste is sent whole, as two messages, and the composer says so first', async () => {
    const host = await headlessHost();
    const ann = await nodeMember(host.port, 'Ann');
    const received: string[] = [];
    ann.on('message', (message) => received.push(message.text));
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    const input = bob.getByTestId('composer-input');
    await input.waitFor();
    const paste = Array.from({ length: 2_000 }, (_, i) => `line ${String(i).padStart(4, '0')}`).join('\n') + '\nEND';
    expect(paste.length).toBeGreaterThan(19_000);
    await input.focus();
    await bob.evaluate((text) => navigator.clipboard?.writeText?.(text).catch(() => {}), paste).catch(() => {});
    await input.fill(paste);
    expect((await input.inputValue()).length).toBe(paste.length);
    await expect.poll(() => bob.getByTestId('composer-hint').textContent()).toMatch(/sent as 2 messages/);
    await input.press('Enter');
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(2);
    expect(received.join('')).toBe(paste);
    expect(received.every((t) => t.length <= 16_000)).toBe(true);
    expect(await input.inputValue()).toBe('');
  });
});
