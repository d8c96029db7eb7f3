/**
 * What sharing files looks like, checked by axe and photographed for the
 * docs: a conversation with pictures, file cards, an upload on its way and a
 * tray of files waiting, at 1280 and 420 px, light and dark. The fake ChatApi
 * holds a transfer still at 45 %, which a real host never would for a picture.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileRef } from '../../src/shared/protocol.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { serveHarness } from '../helpers/harness-server.ts';
import { axeAcrossScreens, screenshot } from '../e2e/helpers.ts';

let harness: Awaited<ReturnType<typeof serveHarness>> | undefined;
let browser: Browser;

beforeAll(async () => {
  harness = await serveHarness();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

const id = (word: string): string => `f_${word.padEnd(22, 'x')}`;
const ref = (word: string, name: string, extra: Partial<FileRef> = {}): FileRef => ({
  id: id(word),
  name,
  size: 2_400_000,
  type: 'application/pdf',
  sha256: 'a'.repeat(64),
  ...extra,
});

const WHITEBOARD = ref('board', 'Whiteboard after the retro.jpg', {
  size: 3_812_000,
  type: 'image/jpeg',
  image: { width: 4032, height: 3024 },
  preview: { id: id('boardp'), width: 640, height: 480 },
});
const PLAN = ref('plan', 'Site plan — level 2.png', {
  size: 1_204_000,
  type: 'image/png',
  image: { width: 1600, height: 900 },
  preview: { id: id('planp'), width: 640, height: 360 },
});
const REPORT = ref('report', 'Quarterly report Q4 2026.pdf', { size: 2_431_000 });
const ARCHIVE = ref('archive', 'beacon-1.4.0-linux-x64.tar.gz', { size: 98_400_000, type: 'application/gzip' });
const HEBREW = ref('hebrew', 'סיכום פגישה — דצמבר.docx', {
  size: 48_200,
  type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
});

async function openConversation(page: Page): Promise<void> {
  // Each picture a gradient of its own size, served when the page asks for it.
  const pictures = new Map<string, Buffer>();
  for (const [file, w, h] of [
    [WHITEBOARD, 640, 480],
    [PLAN, 640, 360],
  ] as const) {
    const base64 = await page.evaluate(
      async ({ w, h, name }) => window.harness.base64Of(await window.harness.makeImage(w, h, name)),
      { w, h, name: file.name },
    );
    pictures.set(file.id, Buffer.from(base64, 'base64'));
  }
  await page.route('**/fake-files/**', (route) => {
    const fileId = new URL(route.request().url()).pathname.split('/')[2]!;
    const body = pictures.get(fileId);
    return body ? route.fulfill({ status: 200, contentType: 'image/png', body }) : route.fulfill({ status: 404 });
  });

  const now = Date.now();
  await page.evaluate(
    ({ files, now }) => {
      const h = window.harness;
      const me = h.member('me', 'Me');
      const [whiteboard, plan, report, archive, hebrew] = files;
      const message = (seq: number, from: string, text: string, attached: typeof files) => ({
        seq,
        from,
        to: null,
        text,
        ts: now - (10 - seq) * 60_000,
        clientId: `m${seq}`,
        ...(attached.length > 0 ? { files: attached } : {}),
      });
      const fake = h.mount({
        capabilities: { host: true },
        snapshot: {
          connection: { kind: 'connected', address: '10.0.0.2:4747', rttMs: 3 },
          room: {
            name: 'Design team',
            you: me,
            members: [me, h.member('bob', 'Bob Lindqvist'), h.member('dana', 'Dana Cohen')],
          },
          history: [
            message(1, 'bob', 'Photos from this morning’s retro, and the new plan:', [whiteboard!, plan!]),
            message(2, 'dana', 'Thanks! Minutes attached.', [hebrew!]),
            message(3, 'bob', '', [report!, archive!]),
          ],
          displayName: 'Me',
          files: { maxFileBytes: 4 * 1000 ** 3 },
          outgoing: [
            {
              clientId: 'c-up',
              conversation: 'room',
              text: 'Here is the recording of the demo',
              ts: now,
              status: 'pending',
              transfers: ['t-up'],
            },
          ],
          transfers: [
            {
              id: 't-up',
              direction: 'upload',
              conversation: 'room',
              clientId: 'c-up',
              name: 'Demo recording 2026-12-05.mp4',
              size: 412_000_000,
              doneBytes: 185_400_000,
              bytesPerSecond: 21_300_000,
              secondsLeft: 11,
              state: 'active',
            },
          ],
        },
      });
      void fake;
    },
    { files: [WHITEBOARD, PLAN, REPORT, ARCHIVE, HEBREW], now },
  );
  await page.getByTestId('composer-input').waitFor();
  await page.waitForFunction(
    () =>
      Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid="image-file"] img')).every(
        (img) => img.complete && img.naturalWidth > 0,
      ) && document.querySelectorAll('[data-testid="image-file"] img').length === 2,
  );
}

describe('sharing files, as it looks', () => {
  it('a conversation with pictures, file cards and an upload on its way has no serious axe violations, wide and narrow, light and dark', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(8_000);
    await page.goto(harness!.baseUrl, { timeout: 60_000 });
    await page.waitForFunction(() => window.harness !== undefined, null, { timeout: 60_000 });
    await openConversation(page);
    // A pasted screenshot and a spreadsheet waiting in the tray, with a caption.
    await page.evaluate(async () => {
      const h = window.harness;
      const input = document.querySelector<HTMLTextAreaElement>('[data-testid="composer-input"]')!;
      const data = h.transferOf([
        await h.makeImage(1200, 800, 'image.png'),
        h.makeFile('Budget 2027.xlsx', 84_000, ''),
      ]);
      input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    await page.getByTestId('attachment').locator('img').waitFor();
    await page.getByTestId('composer-input').fill('Two more for the review');

    const found = await axeAcrossScreens(page, 'files-conversation');
    expect(found).toEqual({ '1280 light': [], '1280 dark': [], '420 light': [], '420 dark': [] });

    await page.getByTestId('image-file').first().click();
    await page.getByTestId('image-viewer-full').waitFor();
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="image-viewer-full"]') as HTMLImageElement).complete,
    );
    const viewer = await axeAcrossScreens(page, 'files-viewer');
    expect(viewer).toEqual({ '1280 light': [], '1280 dark': [], '420 light': [], '420 dark': [] });
    await page.keyboard.press('Escape');

    // Files dragged over the conversation.
    await page.getByTestId('conversation-pane').evaluate((element) => {
      const data = window.harness.transferOf([window.harness.makeFile('Floor plan.pdf', 1000)]);
      element.dispatchEvent(new DragEvent('dragenter', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await page.getByTestId('drop-overlay').waitFor();
    await screenshot(page, 'files-drop-light', { theme: 'light' });
    await page.close();
  });
});
