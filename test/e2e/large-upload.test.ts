/**
 * Large files from a browser, through a real headless host in a child process: a 1 GiB upload
 * with the host's memory watched all the way, and an upload the host dies in the middle of
 * (SIGKILL) that carries on, after the host comes back, from where it stopped.
 * The files live on disk and reach Chromium by path, as a person's pick would.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { killChildren } from '../helpers/processes.ts';
import { tempDir } from '../helpers/room.ts';
import { browserUser, headlessHost, member, messageRow, useChromium } from './helpers.ts';

let browser: Browser;
useChromium((launched) => (browser = launched));
afterEach(() => killChildren());

const MiB = 1024 * 1024;

/** A file of `bytes` on disk (a random 1 MiB block repeated: nothing on the way compresses it). */
function bigFile(bytes: number): string {
  const path = join(tempDir(), `survey-${bytes / MiB}MiB.zip`);
  const block = randomBytes(MiB);
  const fd = openSync(path, 'w');
  for (let written = 0; written < bytes; written += MiB) writeSync(fd, block, 0, Math.min(MiB, bytes - written));
  closeSync(fd);
  return path;
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Resident memory of a process, from /proc. */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** The unfinished uploads in a host's data folder: id → bytes received so far. */
function partialUploads(data: string): Map<string, number> {
  const dir = join(data, 'files', 'uploads');
  const found = new Map<string, number>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return found;
  }
  for (const name of names) {
    if (!/^f_[A-Za-z0-9_-]{22}$/.test(name)) continue;
    try {
      found.set(name, statSync(join(dir, name)).size);
    } catch {
      // finished and moved away between the listing and the stat
    }
  }
  return found;
}

/** Picks `path` in `page`'s composer and sends it with `caption`. */
async function sendFileByPath(page: Page, path: string, caption: string): Promise<void> {
  await page.getByTestId('attach').waitFor();
  await page.getByTestId('file-picker').setInputFiles(path);
  await expect.poll(() => page.getByTestId('attachment').count()).toBe(1);
  const composer = page.getByTestId('composer-input');
  await composer.fill(caption);
  await composer.press('Enter');
}

/**
 * The SHA-256 of the file in the row captioned `caption`, as the page fetches it: Download is
 * clicked (the browser starts its own download from the host) and the same address, with this
 * member's token, is read by the page. (Chromium under Playwright cancels its own downloads of
 * tens of MB from a self-signed https origin, Beacon's or any: seen with a bare node:https server
 * too, so the bytes are checked through the page's fetch.)
 */
async function downloadedSha256(page: Page, caption: string): Promise<string> {
  const card = messageRow(page, caption).getByTestId('file-card');
  await card.waitFor({ timeout: 60_000 });
  const downloading = page.waitForEvent('download', { timeout: 60_000 });
  await card.getByTestId('file-download').click();
  const download = await downloading;
  const url = download.url();
  await download.cancel();
  return page.evaluate(async (address) => {
    const response = await fetch(address);
    const digest = await crypto.subtle.digest('SHA-256', await response.arrayBuffer());
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  }, url);
}

describe('large files from a browser', () => {
  it(
    'an upload cut by the host dying goes on from where it stopped once the host is back, and the file arrives whole',
    { timeout: 240_000 },
    async () => {
      const size = 256 * MiB;
      const path = bigFile(size);
      const expected = await sha256OfFile(path);
      const data = tempDir();
      let host = await headlessHost({ data, name: 'Survey room' });
      const ann = await browserUser(browser, host.url, 'Ann', '1234');
      const bob = await browserUser(browser, host.url, 'Bob', '1234');
      await member(ann, 'Bob').waitFor();

      await sendFileByPath(ann, path, 'The whole survey, raw');
      // Part of it has reached the host's disk: the host dies there, with no warning.
      let partial = 0;
      await expect
        .poll(
          () => {
            const uploads = partialUploads(data);
            partial = Math.max(0, ...uploads.values());
            return partial;
          },
          { timeout: 120_000, interval: 50 },
        )
        .toBeGreaterThan(size / 4);
      const idsBefore = [...partialUploads(data).keys()];
      expect(idsBefore).toHaveLength(1);
      host.child.kill('SIGKILL');
      await new Promise((resolve) => host.child.once('exit', resolve));
      const keptAtDeath = partialUploads(data).get(idsBefore[0]!) ?? 0;
      expect(keptAtDeath).toBeGreaterThan(0);
      // Ann's page says it is waiting, not that it failed.
      await expect
        .poll(() => ann.getByTestId('transfer').first().getAttribute('data-state'), { timeout: 30_000 })
        .toBe('waiting');

      // The host comes back on the same port with the same folder (same key, same file tokens).
      host = await headlessHost({ data, port: host.port, name: 'Survey room' });
      // The same upload goes on: no second upload was started, and it never went back below what was kept.
      let lowest = keptAtDeath;
      const watcher = setInterval(() => {
        const now = partialUploads(data);
        const size = now.get(idsBefore[0]!);
        if (size !== undefined) lowest = Math.min(lowest, size);
        for (const id of now.keys()) if (id !== idsBefore[0]) lowest = -1;
      }, 20);
      try {
        const sent = messageRow(ann, 'The whole survey, raw');
        await expect.poll(() => sent.getAttribute('data-status'), { timeout: 180_000 }).toBe('sent');
      } finally {
        clearInterval(watcher);
      }
      expect(lowest, 'the upload started again from the beginning (or as a new upload)').toBe(keptAtDeath);

      // Bob gets it, byte for byte.
      expect(await downloadedSha256(bob, 'The whole survey, raw')).toBe(expected);
    },
  );

  it("a 1 GiB upload from a browser leaves the host's memory flat", { timeout: 300_000 }, async () => {
    const size = 1024 * MiB;
    const path = bigFile(size);
    const host = await headlessHost({ name: 'Archive' });
    const pid = host.child.pid!;
    const ann = await browserUser(browser, host.url, 'Ann', '1234');
    const bob = await browserUser(browser, host.url, 'Bob', '1234');
    await member(ann, 'Bob').waitFor();
    // Settled after the joins: what the host holds before the file starts.
    const before = rssOf(pid);
    let peak = before;
    const watcher = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 100);
    try {
      await sendFileByPath(ann, path, 'Disk image of the old file server');
      await expect
        .poll(() => messageRow(ann, 'Disk image of the old file server').getAttribute('data-status'), {
          timeout: 280_000,
          interval: 500,
        })
        .toBe('sent');
    } finally {
      clearInterval(watcher);
    }
    const growthMb = (peak - before) / MiB;
    console.log(
      `host RSS ${Math.round(before / MiB)} MB before, peak ${Math.round(peak / MiB)} MB during a 1 GiB upload`,
    );
    // Flat means independent of the file's size: a fixed allowance for buffers and the allocator,
    // far below the 1 GiB that a host holding the file in memory would need.
    expect(growthMb).toBeLessThan(96);
    await messageRow(bob, 'Disk image of the old file server').getByTestId('file-card').waitFor({ timeout: 30_000 });
  });
});
