/**
 * Sharing files in the interface, in real Chromium against the fake ChatApi:
 * picking, dropping and pasting into the tray, what sendFiles receives (an
 * image's size and a preview made in the page), how files look in the
 * conversation, the larger view, and uploads' progress.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatEvent, ChatSnapshot, Transfer } from '../../src/shared/chat-api.ts';
import type { ChatMessage, FileRef } from '../../src/shared/protocol.ts';
import { PREVIEW_LIMITS } from '../../src/shared/files.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { serveHarness } from '../helpers/harness-server.ts';

let harness: Awaited<ReturnType<typeof serveHarness>> | undefined;
let browser: Browser;
let page: Page;

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
  page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  page.setDefaultTimeout(8_000);
  page.on('pageerror', (error) => {
    throw error;
  });
  // The first load of a fresh Vite server compiles the whole interface: more than a step's 8 s on a busy machine.
  await page.goto(harness!.baseUrl, { timeout: 60_000 });
  await page.waitForFunction(() => window.harness !== undefined, null, { timeout: 60_000 });
});

const MB = 1000 * 1000;

/** In the room "Lab" as "me" with Bob and Ann, in a room that takes files up to `maxFileBytes`. */
async function enterRoom(
  options: { files?: ChatSnapshot['files']; history?: ChatMessage[]; capabilities?: { host: boolean } } = {},
): Promise<void> {
  const files = options.files === undefined ? { maxFileBytes: 50 * MB } : options.files;
  await page.evaluate(
    ({ files, history, capabilities }) => {
      const h = window.harness;
      const me = h.member('me', 'Me');
      h.mount({
        capabilities,
        snapshot: {
          connection: { kind: 'connected', address: '10.0.0.2:4747', rttMs: 3 },
          room: { name: 'Lab', you: me, members: [me, h.member('bob', 'Bob'), h.member('ann', 'Ann')] },
          history,
          displayName: 'Me',
          files,
        },
      });
    },
    { files, history: options.history ?? [], capabilities: options.capabilities ?? { host: true } },
  );
  await page.getByTestId('composer-input').waitFor();
}

async function emit(event: ChatEvent): Promise<void> {
  await page.evaluate((e) => window.harness.fake!.emit(e), event);
}

async function calls(name: string): Promise<unknown[]> {
  return page.evaluate((n) => window.harness.fake!.callsTo(n as never), name);
}

/** What the one sendFiles call carried, with its File objects described (they do not cross to Node). */
async function sentFiles() {
  await expect.poll(() => calls('sendFiles').then((c) => c.length)).toBe(1);
  return page.evaluate(() => {
    const [input] = window.harness.fake!.callsTo(
      'sendFiles',
    ) as import('../../src/shared/chat-api.ts').SendFilesInput[];
    return {
      conversation: input!.conversation,
      text: input!.text,
      files: input!.files.map((f) => ({
        name: f.file.name,
        size: f.file.size,
        type: f.file.type,
        image: f.image ?? null,
        preview: f.preview
          ? { width: f.preview.width, height: f.preview.height, type: f.preview.file.type, size: f.preview.file.size }
          : null,
      })),
    };
  });
}

/** A PNG drawn in the page, as bytes for setInputFiles. */
async function pngBytes(width: number, height: number): Promise<Buffer> {
  const base64 = await page.evaluate(
    async ({ width, height }) => window.harness.base64Of(await window.harness.makeImage(width, height, 'x.png')),
    { width, height },
  );
  return Buffer.from(base64, 'base64');
}

const file = (id: string, name: string, extra: Partial<FileRef> = {}): FileRef => ({
  id: `f_${id.padEnd(22, 'x')}`,
  name,
  size: 2_400_000,
  type: 'application/pdf',
  sha256: 'a'.repeat(64),
  ...extra,
});

const withFiles = (seq: number, from: string, text: string, files: FileRef[]): ChatMessage => ({
  seq,
  from,
  to: null,
  text,
  ts: Date.now() - 60_000 + seq,
  clientId: `m${seq}`,
  files,
});

const PHOTO = file('photo', 'Whiteboard after the retro.jpg', {
  size: 3_800_000,
  type: 'image/jpeg',
  image: { width: 4032, height: 3024 },
  preview: { id: `f_${'preview'.padEnd(22, 'x')}`, width: 640, height: 480 },
});

const upload = (id: string, extra: Partial<Transfer>): Transfer => ({
  id,
  direction: 'upload',
  conversation: 'room',
  name: 'Quarterly report.pdf',
  size: 24 * MB,
  doneBytes: 0,
  bytesPerSecond: null,
  secondsLeft: null,
  state: 'active',
  ...extra,
});

describe('sending files', () => {
  it('picking an image and a PDF sends one message: the image with its size and a WebP preview, the text as caption', async () => {
    await enterRoom();
    await page.getByTestId('file-picker').setInputFiles([
      { name: 'Site plan.png', mimeType: 'image/png', buffer: await pngBytes(1600, 900) },
      { name: 'Quarterly report.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(120_000, 37) },
    ]);
    const tray = page.getByTestId('attachment-tray');
    await expect.poll(() => tray.getByTestId('attachment').count()).toBe(2);
    // The image's thumbnail is its preview, once made.
    await tray.locator('img').first().waitFor();
    await page.getByTestId('composer-input').fill('Plans for Monday');
    await page.getByTestId('composer-input').press('Enter');

    const sent = await sentFiles();
    expect(sent.conversation).toBe('room');
    expect(sent.text).toBe('Plans for Monday');
    expect(sent.files.map((f) => f.name)).toEqual(['Site plan.png', 'Quarterly report.pdf']);
    const [image, pdf] = sent.files;
    expect(image!.image).toEqual({ width: 1600, height: 900 });
    expect(image!.preview).toMatchObject({ width: PREVIEW_LIMITS.maxSide, height: 360, type: 'image/webp' });
    expect(image!.preview!.size).toBeLessThanOrEqual(PREVIEW_LIMITS.maxBytes);
    expect(pdf).toMatchObject({ size: 120_000, type: 'application/pdf', image: null, preview: null });

    // The tray empties, and the message waits with a bar for each upload.
    expect(await tray.count()).toBe(0);
    const row = page.locator('[data-testid="message-row"][data-status="pending"]');
    await expect.poll(() => row.getByTestId('upload').count()).toBe(2);
    expect(await row.getByTestId('message-text').textContent()).toBe('Plans for Monday');
  });

  it('files dropped on the conversation show a drop overlay, then go in the tray and out as one message', async () => {
    await enterRoom();
    const pane = page.getByTestId('conversation-pane');
    await pane.evaluate(async (element) => {
      const h = window.harness;
      const data = h.transferOf([
        await h.makeImage(800, 1200, 'Receipt scan.png'),
        h.makeFile('Meeting notes.pdf', 5000),
      ]);
      element.dispatchEvent(new DragEvent('dragenter', { dataTransfer: data, bubbles: true, cancelable: true }));
      element.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await page.getByTestId('drop-overlay').waitFor();
    expect(await page.getByTestId('drop-overlay').textContent()).toContain('Drop files to send them to # Lab');
    const prevented = await pane.evaluate(async (element) => {
      const h = window.harness;
      const data = h.transferOf([
        await h.makeImage(800, 1200, 'Receipt scan.png'),
        h.makeFile('Meeting notes.pdf', 5000),
      ]);
      // A drop not taken by the page would make the browser open the file in place of Beacon.
      return !element.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    expect(prevented).toBe(true);
    expect(await page.getByTestId('drop-overlay').count()).toBe(0);
    await expect.poll(() => page.getByTestId('attachment').count()).toBe(2);
    await page.getByTestId('composer-send').click();

    const sent = await sentFiles();
    expect(sent.text).toBe('');
    expect(sent.files.map((f) => f.name)).toEqual(['Receipt scan.png', 'Meeting notes.pdf']);
    expect(sent.files[0]!.image).toEqual({ width: 800, height: 1200 });
    expect(sent.files[0]!.preview).toMatchObject({ width: 427, height: PREVIEW_LIMITS.maxSide });
  });

  it('a pasted screenshot goes in the tray with a name that says when it was taken, and sends with Enter', async () => {
    await enterRoom();
    const input = page.getByTestId('composer-input');
    await input.fill('This error again');
    const taken = await input.evaluate(async (element) => {
      const h = window.harness;
      // What Chromium hands a page for a screenshot on the clipboard: a PNG called image.png.
      const data = h.transferOf([await h.makeImage(1280, 720, 'image.png')]);
      return !element.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      );
    });
    expect(taken).toBe(true);
    await expect.poll(() => page.getByTestId('attachment').count()).toBe(1);
    await input.press('Enter');

    const sent = await sentFiles();
    expect(sent.text).toBe('This error again');
    expect(sent.files).toHaveLength(1);
    expect(sent.files[0]!.name).toMatch(/^Pasted image \d{4}-\d\d-\d\d \d\d\.\d\d\.\d\d\.png$/);
    expect(sent.files[0]!.image).toEqual({ width: 1280, height: 720 });
    expect(sent.files[0]!.preview).toMatchObject({ width: 640, height: 360 });
  });

  it('pasting text is left to the box: no tray, no files', async () => {
    await enterRoom();
    const input = page.getByTestId('composer-input');
    const taken = await input.evaluate((element) => {
      const data = new DataTransfer();
      data.setData('text/plain', 'just words');
      return !element.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      );
    });
    expect(taken).toBe(false);
    expect(await page.getByTestId('attachment-tray').count()).toBe(0);
  });

  it('a file removed from the tray is not sent', async () => {
    await enterRoom();
    await page.getByTestId('file-picker').setInputFiles([
      { name: 'one.txt', mimeType: 'text/plain', buffer: Buffer.from('one') },
      { name: 'two.txt', mimeType: 'text/plain', buffer: Buffer.from('two') },
      { name: 'three.txt', mimeType: 'text/plain', buffer: Buffer.from('three') },
    ]);
    await expect.poll(() => page.getByTestId('attachment').count()).toBe(3);
    await page.getByRole('button', { name: 'Remove two.txt' }).click();
    expect(await page.getByTestId('attachment').count()).toBe(2);
    // Focus goes back to the box, so the keyboard carries on from there.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('composer-input');
    await page.getByTestId('composer-input').press('Enter');
    const sent = await sentFiles();
    expect(sent.files.map((f) => f.name)).toEqual(['one.txt', 'three.txt']);
  });

  it('a file larger than the room takes is refused in the tray with a sentence, and only the others go', async () => {
    await enterRoom({ files: { maxFileBytes: 2 * MB } });
    await page
      .getByTestId('file-picker')
      .setInputFiles([{ name: 'Team offsite video.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(3 * MB) }]);
    const refusal = page.getByTestId('attachment-refused');
    await refusal.waitFor();
    expect(await refusal.textContent()).toBe('Too large: 3 MB, and this room takes files up to 2 MB.');
    // Nothing sendable yet: Send waits for something to send.
    expect(await page.getByTestId('composer-send').isDisabled()).toBe(true);

    await page
      .getByTestId('file-picker')
      .setInputFiles([{ name: 'agenda.txt', mimeType: 'text/plain', buffer: Buffer.from('1. coffee') }]);
    await page.getByTestId('composer-send').click();
    const sent = await sentFiles();
    expect(sent.files.map((f) => f.name)).toEqual(['agenda.txt']);
    // The refused one stays, with its reason, until removed.
    expect(await page.getByTestId('attachment').count()).toBe(1);
    await page.getByRole('button', { name: 'Remove Team offsite video.mp4' }).click();
    expect(await page.getByTestId('attachment-tray').count()).toBe(0);
  });

  it('a refused send puts the files back in the tray and the caption back in the box, with the reason', async () => {
    await enterRoom();
    await page.evaluate(() =>
      window.harness.fake!.respondOnceToSendFiles({
        ok: false,
        error: { code: 'BEACON_ERR_ROOM_FILES_FULL', message: 'This room has no space left for files.' },
      }),
    );
    await page
      .getByTestId('file-picker')
      .setInputFiles([{ name: 'slides.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(1000) }]);
    await page.getByTestId('composer-input').fill('the slides');
    await page.getByTestId('composer-input').press('Enter');
    await expect
      .poll(() => page.getByTestId('composer-hint').textContent())
      .toBe('This room has no space left for files.');
    expect(await page.getByTestId('attachment').count()).toBe(1);
    expect(await page.getByTestId('composer-input').inputValue()).toBe('the slides');
  });

  it('files let go of beside the conversation (on the sidebar) are not opened in place of Beacon, nor attached', async () => {
    await enterRoom();
    const prevented = await page.getByTestId('sidebar').evaluate((element) => {
      const data = window.harness.transferOf([window.harness.makeFile('Contract.pdf', 10)]);
      const over = !element.dispatchEvent(
        new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }),
      );
      const drop = !element.dispatchEvent(
        new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }),
      );
      return over && drop;
    });
    expect(prevented).toBe(true);
    expect(await page.getByTestId('attachment-tray').count()).toBe(0);
  });

  it('a room that takes no files offers no attach button, and a file dropped there is not taken', async () => {
    await enterRoom({ files: null });
    expect(await page.getByTestId('attach').count()).toBe(0);
    expect(await page.getByTestId('file-picker').count()).toBe(0);
    const pane = page.getByTestId('conversation-pane');
    await pane.evaluate((element) => {
      const data = window.harness.transferOf([window.harness.makeFile('a.pdf', 10)]);
      element.dispatchEvent(new DragEvent('dragenter', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    expect(await page.getByTestId('drop-overlay').textContent()).toContain('This room does not take files.');
    const prevented = await pane.evaluate((element) => {
      const data = window.harness.transferOf([window.harness.makeFile('a.pdf', 10)]);
      return !element.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    // Still taken from the browser (it must not open the file in place of Beacon), but nothing is attached.
    expect(prevented).toBe(true);
    expect(await page.getByTestId('attachment-tray').count()).toBe(0);
  });

  it('the attach button opens the file picker and is labelled', async () => {
    await enterRoom();
    const attach = page.getByRole('button', { name: 'Attach files' });
    const chooser = page.waitForEvent('filechooser');
    await attach.focus();
    await page.keyboard.press('Enter');
    expect((await chooser).isMultiple()).toBe(true);
  });
});

describe('files in the conversation', () => {
  it('an inline image keeps the size reserved for it: the row does not grow when the picture arrives', async () => {
    let release: () => void = () => {};
    const arrived = new Promise<void>((done) => (release = done));
    const picture = await pngBytes(640, 480);
    await page.route('**/fake-files/**', async (route) => {
      await arrived;
      await route.fulfill({ status: 200, contentType: 'image/png', body: picture });
    });
    await enterRoom({ history: [withFiles(1, 'bob', 'From the retro', [PHOTO]), withFiles(2, 'ann', 'Nice', [])] });
    const image = page.getByTestId('image-file');
    await image.waitFor();
    const img = image.locator('img');
    expect(await img.getAttribute('alt')).toBe(PHOTO.name);
    expect(await img.getAttribute('loading')).toBe('lazy');
    expect(await img.getAttribute('src')).toBe(`/fake-files/${PHOTO.id}/preview`);
    const row = page.getByTestId('message-row').filter({ has: image });
    const before = await row.boundingBox();
    const box = await image.boundingBox();
    // 4032 × 3024 fits 360 × 280 at 280 px high: 373 would be too wide, so 360 × 270.
    expect(Math.round(box!.width)).toBe(360);
    expect(Math.round(box!.height)).toBe(270);
    expect(await img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0)).toBe(false);

    release();
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="image-file"] img') as HTMLImageElement | null)?.naturalWidth === 640,
    );
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    expect(await row.boundingBox()).toEqual(before);
  });

  it('a click or Enter on an image opens it larger with its name, size and Download; Escape closes and gives focus back', async () => {
    await enterRoom({ history: [withFiles(1, 'bob', '', [PHOTO])] });
    const image = page.getByTestId('image-file');
    await image.click();
    const viewer = page.getByTestId('image-viewer');
    await viewer.waitFor();
    expect(await viewer.getByRole('heading').textContent()).toBe(PHOTO.name);
    expect(await viewer.getByTestId('image-viewer-full').getAttribute('src')).toBe(`/fake-files/${PHOTO.id}/full`);
    expect(await viewer.getByTestId('image-viewer-meta').textContent()).toContain('3.8 MB');
    expect(await viewer.getByTestId('image-viewer-meta').textContent()).toContain('4032 × 3024 px');
    await viewer.getByTestId('image-viewer-download').click();
    expect(await calls('download')).toEqual([{ fileId: PHOTO.id, conversation: 'room' }]);
    await page.keyboard.press('Escape');
    await expect.poll(() => viewer.count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('image-file');

    // The keyboard alone: Enter on the focused picture opens it again.
    await page.keyboard.press('Enter');
    await viewer.waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => viewer.count()).toBe(0);
  });

  it('a picture too large to decode opens as its preview with a sentence and Download; the picture itself is never fetched', async () => {
    const huge = file('huge', 'panorama.png', {
      size: 900_000,
      type: 'image/png',
      image: { width: 65_535, height: 65_535 },
      preview: { id: `f_${'hugepreview'.padEnd(22, 'x')}`, width: 640, height: 640 },
    });
    const fetched: string[] = [];
    page.on('request', (request) => fetched.push(new URL(request.url()).pathname));
    await enterRoom({ history: [withFiles(1, 'bob', '', [huge])] });
    await page.getByTestId('image-file').click();
    const viewer = page.getByTestId('image-viewer');
    await viewer.waitFor();
    expect(await viewer.getByTestId('image-viewer-full').count()).toBe(0);
    const preview = viewer.getByTestId('image-viewer-preview');
    expect(await preview.getAttribute('src')).toBe(`/fake-files/${huge.id}/preview`);
    expect(await preview.getAttribute('alt')).toBe('panorama.png');
    expect(await viewer.getByTestId('image-viewer-too-large').textContent()).toContain('too large to show here');
    expect(await viewer.getByTestId('image-viewer-meta').textContent()).toContain('65535 × 65535 px');
    await viewer.getByTestId('image-viewer-download').click();
    expect(await calls('download')).toEqual([{ fileId: huge.id, conversation: 'room' }]);
    expect(fetched).not.toContain(`/fake-files/${huge.id}/full`);
  });

  it('other files are cards with name, size, type and Download; a message of files alone shows no empty text', async () => {
    const pdf = file('pdf', 'Quarterly report.pdf');
    await enterRoom({ history: [withFiles(1, 'bob', '', [pdf])] });
    const card = page.getByTestId('file-card');
    await card.waitFor();
    expect(await card.getByTestId('file-name').textContent()).toBe('Quarterly report.pdf');
    expect(await card.getByTestId('file-meta').textContent()).toBe('2.4 MB · PDF');
    expect(await page.getByTestId('message-row').getByTestId('message-text').count()).toBe(0);
    await card.getByRole('button', { name: 'Download Quarterly report.pdf' }).click();
    expect(await calls('download')).toEqual([{ fileId: pdf.id, conversation: 'room' }]);
  });

  it('a caption and its files both show', async () => {
    await enterRoom({
      history: [withFiles(1, 'bob', 'Both of these, please', [file('a', 'a.zip', { type: 'application/zip' }), PHOTO])],
    });
    const row = page.getByTestId('message-row');
    await row.getByTestId('file-card').waitFor();
    expect(await row.getByTestId('message-text').textContent()).toBe('Both of these, please');
    expect(await row.getByTestId('image-file').count()).toBe(1);
    expect(await row.getByTestId('file-meta').textContent()).toBe('2.4 MB · ZIP archive');
  });

  it('hostile names stay in their place: isolated, cut with an ellipsis, whole on hover', async () => {
    const override = file('rlo', 'invoice\u202Egnp.exe', { type: 'image/png' });
    const long = file('long', `${'quarterly-planning-notes-'.repeat(10)}final.pdf`.slice(-255));
    await enterRoom({ history: [withFiles(1, 'bob', 'see attached', [override, long])] });
    const names = page.getByTestId('file-card').getByTestId('file-name');
    await expect.poll(() => names.count()).toBe(2);
    const facts = await names.evaluateAll((elements) =>
      elements.map((el) => ({
        tag: el.tagName,
        bidi: getComputedStyle(el).unicodeBidi,
        title: el.getAttribute('title'),
        cut: el.scrollWidth > el.clientWidth,
        overflow: getComputedStyle(el).textOverflow,
        insideCard:
          el.closest('[data-testid="file-card"]')!.getBoundingClientRect().right <=
          el.closest('[data-testid="message-row"]')!.getBoundingClientRect().right,
      })),
    );
    // The override is taken out (as the host does, in case a host did not): the real ending shows.
    expect(facts[0]).toMatchObject({ tag: 'BDI', bidi: 'isolate', title: 'invoicegnp.exe', insideCard: true });
    expect(await names.first().textContent()).toBe('invoicegnp.exe');
    expect(facts[1]).toMatchObject({ tag: 'BDI', cut: true, overflow: 'ellipsis', insideCard: true });
    expect(facts[1]!.title).toHaveLength(255);
    // The type comes from the real ending, whatever the sender declared.
    expect(await page.getByTestId('file-meta').first().textContent()).toBe('2.4 MB · Program');
  });
});

describe('progress', () => {
  async function pendingWithUpload(): Promise<void> {
    await enterRoom();
    await page
      .getByTestId('file-picker')
      .setInputFiles([{ name: 'Quarterly report.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(2000) }]);
    await page.getByTestId('attachment').waitFor();
    await page.getByTestId('composer-input').press('Enter');
    await page.getByTestId('upload').waitFor();
  }

  it('an upload shows its percent, speed and time left as a progress bar, from the transfer events', async () => {
    await pendingWithUpload();
    await emit({
      type: 'transfer',
      transfer: upload('client-1-up0', {
        clientId: 'client-1',
        doneBytes: 10.8 * MB,
        bytesPerSecond: 1.2 * MB,
        secondsLeft: 11,
      }),
    });
    const bar = page.getByRole('progressbar', { name: 'Uploading Quarterly report.pdf' });
    await expect.poll(() => bar.getAttribute('aria-valuenow')).toBe('45');
    const detail = await page.getByTestId('transfer-detail').textContent();
    expect(detail).toContain('45%');
    expect(detail).toContain('1.2 MB/s');
    expect(detail).toContain('11 s left');
    expect(await bar.locator('.fill').evaluate((el) => (el as HTMLElement).style.width)).toBe('45%');

    await emit({
      type: 'transfer',
      transfer: upload('client-1-up0', { clientId: 'client-1', doneBytes: 12 * MB, state: 'waiting' }),
    });
    await expect
      .poll(() => page.getByTestId('transfer-detail').textContent())
      .toContain('The host cannot be reached: it will go on by itself when it is back.');
    expect(await bar.getAttribute('aria-valuenow')).toBe('50');
  });

  it('Cancel and Retry call the API for that transfer; a failure says why and is announced', async () => {
    await pendingWithUpload();
    await emit({ type: 'transfer', transfer: upload('client-1-up0', { clientId: 'client-1', doneBytes: 6 * MB }) });
    await page.getByRole('button', { name: 'Cancel uploading Quarterly report.pdf' }).click();
    expect(await calls('cancelTransfer')).toEqual([{ id: 'client-1-up0' }]);

    await emit({
      type: 'transfer',
      transfer: upload('client-1-up0', {
        clientId: 'client-1',
        doneBytes: 6 * MB,
        state: 'failed',
        error: { code: 'BEACON_ERR_HOST_DISK_FULL', message: 'The host’s disk is full.' },
      }),
    });
    await expect.poll(() => page.getByTestId('transfer-detail').textContent()).toContain('The host’s disk is full.');
    expect(await page.getByTestId('transfer-announcement').textContent()).toBe(
      'Quarterly report.pdf did not upload: The host’s disk is full.',
    );
    await page.getByRole('button', { name: 'Retry uploading Quarterly report.pdf' }).click();
    expect(await calls('retryTransfer')).toEqual([{ id: 'client-1-up0' }]);

    await emit({
      type: 'transfer',
      transfer: upload('client-1-up0', { clientId: 'client-1', doneBytes: 24 * MB, state: 'done' }),
    });
    await expect
      .poll(() => page.getByTestId('transfer-announcement').textContent())
      .toBe('Quarterly report.pdf uploaded.');
  });

  it('a message whose uploads were cancelled goes away, as if never written', async () => {
    await pendingWithUpload();
    await page.getByTestId('upload').waitFor();
    await emit({
      type: 'transfer',
      transfer: upload('client-1-up0', { clientId: 'client-1', doneBytes: 6 * MB, state: 'cancelled' }),
    });
    await emit({ type: 'withdrawn', clientId: 'client-1' });
    await expect.poll(() => page.getByTestId('upload').count()).toBe(0);
    expect(await page.getByText('Not sent').count()).toBe(0);
  });

  it('once the host has the message, one’s own image shows in the conversation like anyone’s', async () => {
    await enterRoom();
    await page
      .getByTestId('file-picker')
      .setInputFiles([{ name: 'Site plan.png', mimeType: 'image/png', buffer: await pngBytes(1600, 900) }]);
    await page.getByTestId('attachment').locator('img').waitFor();
    await page.getByTestId('composer-input').press('Enter');
    await page.getByTestId('upload').waitFor();
    await emit({
      type: 'transfer',
      transfer: upload('client-1-up0', {
        clientId: 'client-1',
        name: 'Site plan.png',
        size: 1,
        doneBytes: 1,
        state: 'done',
        fileId: `f_${'siteplan'.padEnd(22, 'x')}`,
      }),
    });
    await emit({ type: 'messageStatus', clientId: 'client-1', status: 'sent', seq: 1 });
    const image = page.getByTestId('image-file');
    await image.waitFor();
    const box = await image.boundingBox();
    expect([Math.round(box!.width), Math.round(box!.height)]).toEqual([360, 203]);
    // Shown from the preview made here, without a trip to the host.
    expect(await image.locator('img').getAttribute('src')).toMatch(/^blob:/);
  });

  it('a download shows its progress on the card, then Show in folder (desktop)', async () => {
    const pdf = file('pdf', 'Quarterly report.pdf');
    await enterRoom({ history: [withFiles(1, 'bob', '', [pdf])] });
    await page.getByTestId('file-download').click();
    const download: Transfer = {
      ...upload('d1', { direction: 'download', fileId: pdf.id, doneBytes: 600_000, size: pdf.size }),
    };
    await emit({ type: 'transfer', transfer: download });
    const bar = page.getByRole('progressbar', { name: 'Downloading Quarterly report.pdf' });
    await expect.poll(() => bar.getAttribute('aria-valuenow')).toBe('25');
    expect(await page.getByTestId('file-download').isDisabled()).toBe(true);
    await emit({
      type: 'transfer',
      transfer: { ...download, doneBytes: pdf.size, state: 'done', savedTo: '/home/me/Downloads/Quarterly report.pdf' },
    });
    await page.getByTestId('show-in-folder').click();
    expect(await calls('showInFolder')).toEqual([{ id: 'd1' }]);
    expect(await page.getByTestId('transfer-announcement').textContent()).toBe('Quarterly report.pdf downloaded.');
  });
});
