/**
 * Ten thousand people in one room, one of them in a browser (issue 16): a real host, 10,000 lean
 * members joined from this process over raw sockets (bench/lib/lean-ws.ts, as the benchmark joins
 * them), and the built web client. The member list must count them all, draw only the rows in
 * view, reach the last names, find one person by name, and show a visible member leave.
 */
import type { Browser, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { LeanWs } from '../../bench/lib/lean-ws.ts';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort, spawnNode } from '../helpers/processes.ts';
import { tempDir } from '../helpers/room.ts';
import { browserUser, HOST_READY, useChromium, WEB_ROOT } from './helpers.ts';

/**
 * This process's limit of open files (Linux): each member is a socket here and one in the host, so a
 * machine allowing fewer than 10,000 gets the largest room it can hold, and the test says so.
 */
function openFilesLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) && soft > 0 ? soft : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
const WANTED = Number(process.env['H3_MEMBERS'] ?? 10_000);
const MEMBERS = Math.min(WANTED, openFilesLimit() - 500);
if (MEMBERS < WANTED) console.log(`open-files limit: a room of ${MEMBERS} instead of ${WANTED}`);
/** Sockets opening at once: enough to join 10,000 in seconds, few enough not to trip the host's accept queue. */
const CONCURRENCY = 32;

let browser: Browser;
useChromium((launched) => (browser = launched));

const members: LeanWs[] = [];
let hostProcess: ChildProcess | null = null;

afterEach(() => {
  for (const ws of members.splice(0)) ws.close();
  hostProcess?.kill();
  hostProcess = null;
});

const nameOf = (i: number): string => `Member ${String(i).padStart(5, '0')}`;

/**
 * Joins member `i` and resolves at its welcome; rejects (bounded) if none comes within 120 s (host
 * and members share this process and a busy 2-core machine: late joins of 10,000 are slow).
 */
function join(port: number, i: number): Promise<LeanWs> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => settle(new Error(`${nameOf(i)} got no welcome within 30 s`)), 30_000);
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(ws);
    };
    const ws: LeanWs = new LeanWs(
      port,
      '/',
      {
        onFrame: (prefix) => {
          if (prefix.toString('latin1').includes('"type":"welcome"')) settle();
        },
        onClose: () => settle(new Error(`${nameOf(i)} was closed while joining`)),
      },
      (error) => {
        if (error) return settle(new Error(`${nameOf(i)} could not connect: ${error.message}`));
        ws.send(
          JSON.stringify({ type: 'hello', v: 1, name: nameOf(i), code: '1234', features: ['channels', 'members'] }),
        );
      },
    );
    members.push(ws);
  });
}

async function joinAll(port: number, started: number): Promise<LeanWs[]> {
  const joinedMembers: LeanWs[] = new Array<LeanWs>(MEMBERS);
  let next = 1;
  const worker = async (): Promise<void> => {
    while (next <= MEMBERS) {
      const i = next++;
      joinedMembers[i - 1] = await join(port, i);
      if (i % 2_000 === 0) console.log(`${i} joined after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return joinedMembers;
}

const ROWS = '[data-testid="members-list"] [data-testid="member"]';
const row = (page: Page, name: string) => page.locator(ROWS).filter({ hasText: name });

describe('a room of ten thousand in the browser', () => {
  it('counts everyone, draws only the rows in view, reaches the last name, finds one person, and shows a visible member leave', async () => {
    // The host in its own process: 10,000 sockets on each side would pass this process's open-file limit.
    // Connections from the host's own machine are not held to the per-address limits (connection-gate.ts).
    const port = await freePort();
    const host = await spawnNode(
      'src/cli/host.ts',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--data',
        tempDir(),
        '--code',
        '1234',
        '--name',
        'Conference',
      ].concat(['--insecure', '--no-announce', '--web', WEB_ROOT]),
      HOST_READY,
    );
    hostProcess = host.child;
    const started = performance.now();
    const joinedMembers = await joinAll(port, started);
    console.log(`${MEMBERS} members joined in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const page = await browserUser(browser, `http://127.0.0.1:${port}/`, 'Ann', '1234', {
      width: 1280,
      height: 800,
    });
    page.context().setDefaultTimeout(15_000);
    await page.getByTestId('composer-input').waitFor();

    // Everyone is counted, you first, and only the rows in view exist.
    await expect
      .poll(() => page.getByTestId('members-count').textContent())
      .toBe((MEMBERS + 1).toLocaleString('en-US'));
    await row(page, nameOf(1)).waitFor();
    expect(await page.locator(ROWS).first().getAttribute('data-status')).toBe('online');
    expect(await page.locator(ROWS).first().textContent()).toContain('Ann');
    expect(await page.locator(ROWS).count()).toBeLessThan(80);

    // A visible member leaving shows on their row.
    await expect.poll(() => row(page, nameOf(2)).getAttribute('data-status')).toBe('online');
    joinedMembers[1]!.close();
    await expect.poll(() => row(page, nameOf(2)).getAttribute('data-status'), { timeout: 15_000 }).not.toBe('online');

    // The end of the list holds the last names.
    await page.getByTestId('members-list').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await row(page, nameOf(MEMBERS)).waitFor();
    expect(await page.locator(ROWS).count()).toBeLessThan(80);

    // One person among ten thousand, by name.
    const sought = nameOf(Math.ceil(MEMBERS * 0.4321));
    await page.getByTestId('member-filter').fill(sought.toLowerCase());
    await expect.poll(() => page.locator(ROWS).allTextContents()).toEqual([expect.stringContaining(sought)]);
  }, 600_000);
});
