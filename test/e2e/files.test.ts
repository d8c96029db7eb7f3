/**
 * Sharing files through the whole stack in real Chromium: a real headless
 * host (tus uploads, authenticated downloads) and three people in browsers.
 * Pictures are drawn in the page, so the preview and the size sent are the
 * renderer's own work; downloads are the browser's, checked byte for byte.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/renderer/src/lib/file-format.ts';
import { axeAcrossScreens, browserUser, headlessHost, member, messageRow, screenshot, useChromium } from './helpers.ts';

let browser: Browser;
useChromium((launched) => (browser = launched));

/** A PNG drawn in `page` (gradient and circles, so it is not trivially small), as bytes. */
async function drawnPng(page: Page, width: number, height: number): Promise<Buffer> {
  const base64 = await page.evaluate(
    async ({ width, height }) => {
      const canvas = new OffscreenCanvas(width, height);
      const g = canvas.getContext('2d')!;
      const gradient = g.createLinearGradient(0, 0, width, height);
      gradient.addColorStop(0, '#2557d6');
      gradient.addColorStop(1, '#f0a53a');
      g.fillStyle = gradient;
      g.fillRect(0, 0, width, height);
      for (let i = 0; i < 30; i++) {
        g.fillStyle = `hsl(${(i * 47) % 360} 70% 55% / 0.7)`;
        g.beginPath();
        g.arc(((i * 71) % 100) * (width / 100), ((i * 29) % 100) * (height / 100), width / 15, 0, Math.PI * 2);
        g.fill();
      }
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
      let binary = '';
      for (const b of bytes) binary += String.fromCharCode(b);
      return btoa(binary);
    },
    { width, height },
  );
  return Buffer.from(base64, 'base64');
}

/** Something shaped like a PDF: its header, pages of text, its trailer. Bytes a person would send. */
function pdfLike(pages: number): Buffer {
  const parts = ['%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n'];
  for (let i = 1; i <= pages; i++) {
    parts.push(
      `${i} 0 obj\n<< /Type /Page /Contents (Quarterly figures, page ${i}: ${'revenue, costs, margin; '.repeat(40)}) >>\nendobj\n`,
    );
  }
  parts.push('trailer\n<< /Root 1 0 R >>\n%%EOF\n');
  return Buffer.from(parts.join(''), 'latin1');
}

const composer = (page: Page) => page.getByTestId('composer-input');

/** The row of the message whose caption is `caption`, once the host has it (sent, or anyone's). */
const rowWith = (page: Page, caption: string) => messageRow(page, caption);

describe('sharing files between people in browsers', () => {
  it('pictures and documents go to the room and to one person: previews, cards, downloads with the same bytes, and a third member never sees the direct one', async () => {
    const host = await headlessHost({ name: 'Design team' });
    const ann = await browserUser(browser, host.url, 'Ann', '1234');
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    const cat = await browserUser(browser, host.url, 'Cat', '1234');
    await member(ann, 'Bob').waitFor();
    await member(ann, 'Cat').waitFor();
    // The room takes files: the attach button is there once the welcome said so.
    await ann.getByTestId('attach').waitFor();

    // ── In the room: a picture and a report at once, with a caption ──
    const plan = await drawnPng(ann, 1600, 900);
    const report = pdfLike(400);
    await ann.getByTestId('file-picker').setInputFiles([
      { name: 'Floor plan — level 2.png', mimeType: 'image/png', buffer: plan },
      { name: 'Quarterly report Q4.pdf', mimeType: 'application/pdf', buffer: report },
    ]);
    await expect.poll(() => ann.getByTestId('attachment').count()).toBe(2);
    await ann.getByTestId('attachment').locator('img').waitFor();
    await composer(ann).fill('Plans for Monday, and the report');
    await composer(ann).press('Enter');

    // Ann's own message: sent, with her picture and the report's card.
    const annsRow = rowWith(ann, 'Plans for Monday, and the report');
    await expect.poll(() => annsRow.getAttribute('data-status'), { timeout: 20_000 }).toBe('sent');
    await annsRow.getByTestId('image-file').waitFor();
    expect(await annsRow.getByTestId('file-card').getByTestId('file-name').textContent()).toBe(
      'Quarterly report Q4.pdf',
    );

    // Bob and Cat see the picture from its preview (640 px made in Ann's page), at its reserved size.
    for (const viewer of [bob, cat]) {
      const row = rowWith(viewer, 'Plans for Monday, and the report');
      const picture = row.getByTestId('image-file');
      await picture.waitFor();
      const img = picture.locator('img');
      await expect
        .poll(() => img.evaluate((el: HTMLImageElement) => (el.complete ? el.naturalWidth : 0)), { timeout: 10_000 })
        .toBe(640);
      const box = await picture.boundingBox();
      expect([Math.round(box!.width), Math.round(box!.height)]).toEqual([360, 203]);
      expect(await img.getAttribute('alt')).toBe('Floor plan — level 2.png');
      expect(await row.getByTestId('file-meta').textContent()).toBe(`${formatBytes(report.length)} · PDF`);
    }

    // Bob opens the picture larger: the full 1600 × 900 from the host.
    const bobsRow = rowWith(bob, 'Plans for Monday, and the report');
    await bobsRow.getByTestId('image-file').click();
    const full = bob.getByTestId('image-viewer-full');
    await expect.poll(() => full.evaluate((el: HTMLImageElement) => (el.complete ? el.naturalWidth : 0))).toBe(1600);
    await bob.keyboard.press('Escape');

    // Bob downloads the report with the browser's own download: the same bytes, the same name.
    const downloading = bob.waitForEvent('download');
    await bobsRow.getByRole('button', { name: 'Download Quarterly report Q4.pdf' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('Quarterly report Q4.pdf');
    expect((await readFile((await download.path())!)).equals(report)).toBe(true);

    // ── To Bob alone: a contract with a Hebrew name and a pasted screenshot ──
    await member(ann, 'Bob').click();
    await composer(ann).waitFor();
    const contract = pdfLike(12);
    await ann
      .getByTestId('file-picker')
      .setInputFiles([{ name: 'חוזה שכירות — טיוטה.pdf', mimeType: 'application/pdf', buffer: contract }]);
    await composer(ann).evaluate(async (element) => {
      const canvas = new OffscreenCanvas(1280, 720);
      const g = canvas.getContext('2d')!;
      g.fillStyle = '#1e2126';
      g.fillRect(0, 0, 1280, 720);
      g.fillStyle = '#ff7070';
      g.fillRect(100, 100, 600, 80);
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      const data = new DataTransfer();
      data.items.add(new File([blob], 'image.png', { type: 'image/png' }));
      element.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    await expect.poll(() => ann.getByTestId('attachment').count()).toBe(2);
    await ann.getByTestId('attachment').locator('img').waitFor();
    await composer(ann).fill('Only for you: the draft and the error I saw');
    await composer(ann).press('Enter');

    const bobsDirect = bob.getByTestId('conversation').filter({ hasText: 'Ann' });
    await expect.poll(() => bobsDirect.getByTestId('unread').textContent(), { timeout: 20_000 }).toBe('1');
    await bobsDirect.click();
    const directRow = rowWith(bob, 'Only for you: the draft and the error I saw');
    await directRow.getByTestId('image-file').waitFor();
    const card = directRow.getByTestId('file-card');
    expect(await card.getByTestId('file-name').textContent()).toBe('חוזה שכירות — טיוטה.pdf');
    expect(await directRow.getByTestId('image-file').locator('img').getAttribute('alt')).toMatch(
      /^Pasted image \d{4}-\d\d-\d\d \d\d\.\d\d\.\d\d\.png$/,
    );
    const directDownload = bob.waitForEvent('download');
    await card.getByTestId('file-download').click();
    expect((await readFile((await (await directDownload).path())!)).equals(contract)).toBe(true);

    // Cat never sees it: not in any conversation, and the host refuses the file itself to Cat's token.
    const contractId = await card.getAttribute('data-file-id');
    expect(contractId).toMatch(/^f_/);
    expect(await cat.getByText('Only for you', { exact: false }).count()).toBe(0);
    expect(await cat.getByTestId('file-name').filter({ hasText: 'חוזה' }).count()).toBe(0);
    const catsToken = new URL(
      (await rowWith(cat, 'Plans for Monday, and the report')
        .getByTestId('image-file')
        .locator('img')
        .getAttribute('src'))!,
      host.url,
    ).searchParams.get('t');
    expect(catsToken).toBeTruthy();
    const status = await cat.evaluate(
      async ({ id, token }) => (await fetch(`/files/${id}?t=${encodeURIComponent(token)}`)).status,
      { id: contractId!, token: catsToken! },
    );
    expect(status).toBe(404);

    // The room as Bob sees it, checked by axe wide and narrow, light and dark.
    await bob.getByTestId('conversation').first().click();
    await rowWith(bob, 'Plans for Monday, and the report').getByTestId('image-file').waitFor();
    const found = await axeAcrossScreens(bob, 'files-room', async (width) => {
      if (width < 700) await bob.getByTestId('composer-input').waitFor();
    });
    expect(found).toEqual({ '1280 light': [], '1280 dark': [], '420 light': [], '420 dark': [] });
  }, 120_000);

  it('a large upload shows its bar with percent, speed and time left while it goes, and Cancel stops it', async () => {
    const host = await headlessHost();
    const ann = await browserUser(browser, host.url, 'Ann', '1234');
    await ann.getByTestId('attach').waitFor();
    // A slow network (1 MB/s up), so the upload is seen on its way, as on busy office Wi-Fi.
    const cdp = await ann.context().newCDPSession(ann);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: 1_000_000,
    });
    const video = Buffer.alloc(12_000_000);
    for (let i = 0; i < video.length; i += 4096) video.writeUInt32LE((i * 2654435761) >>> 0, i);
    await ann
      .getByTestId('file-picker')
      .setInputFiles([{ name: 'Demo recording 2026-12-05.mp4', mimeType: 'video/mp4', buffer: video }]);
    await ann.getByTestId('attachment').waitFor();
    await composer(ann).fill('The demo recording');
    await composer(ann).press('Enter');

    const bar = ann.getByRole('progressbar', { name: 'Uploading Demo recording 2026-12-05.mp4' });
    await expect
      .poll(async () => Number((await bar.getAttribute('aria-valuenow')) ?? 0), { timeout: 20_000 })
      .toBeGreaterThan(0);
    await expect
      .poll(() => ann.getByTestId('transfer-detail').textContent(), { timeout: 10_000 })
      .toMatch(/ s left| min left/);
    const detail = (await ann.getByTestId('transfer-detail').textContent())!;
    expect(detail).toMatch(/^\d+%/);
    expect(detail).toMatch(/KB\/s|MB\/s/);
    expect(Number(await bar.getAttribute('aria-valuenow'))).toBeLessThan(100);
    await screenshot(ann, 'files-upload-light', { theme: 'light' });

    await ann.getByRole('button', { name: 'Cancel uploading Demo recording 2026-12-05.mp4' }).click();
    await expect.poll(() => ann.getByTestId('transfer').getAttribute('data-state')).toBe('cancelled');
    expect(await ann.getByRole('progressbar').count()).toBe(0);
  }, 90_000);
});
