/**
 * Scenario 5: the interface in real Chromium. The renderer's App is mounted
 * through the component-test harness (test/harness: a fake ChatApi, served by
 * Vite on 127.0.0.1) and handed a welcome holding a conversation of 100,000
 * messages. Measured in the page:
 *   - first paint: from the welcome event to the first frame painted with the list's rows
 *   - message rows in the DOM (virtualized list: should stay ~ a screenful)
 *   - frame times while scrolling from the bottom to the top (programmatic steps, one per frame)
 * Skipped with a clear line when the harness, Chromium or the list is missing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, withTimeout } from '../lib/proc.ts';
import type { ScenarioOptions, ScenarioResult } from '../lib/scenario.ts';
import { fmt, summarize } from '../lib/stats.ts';

const CHROMIUM = '/usr/bin/chromium';
/** One display refresh at 60 Hz, which headless Chromium paces its frames to. */
const DISPLAY_FRAME_MS = 1000 / 60;

/** The parts of test/harness (window.harness in the page) this benchmark uses. */
interface Harness {
  mount(): { emit(event: Record<string, unknown>): void };
  makeMessages(count: number, lastSeq: number, senders?: readonly string[], formatted?: boolean): unknown[];
  member(id: string, name: string): unknown;
}
const HARNESS = join(ROOT, 'test/harness');

function skipped(options: ScenarioOptions, reason: string): ScenarioResult {
  const line = `SKIPPED: renderer benchmark: ${reason}`;
  options.log(`  ${line}`);
  return {
    scenario: 'interface',
    tables: [
      {
        title: 'Interface (Chromium)',
        header: ['measure', 'value'],
        rows: [['renderer benchmark', `skipped: ${reason}`]],
      },
    ],
    notes: [line],
    data: { skipped: true, reason },
  };
}

export async function interfaceBench(options: ScenarioOptions): Promise<ScenarioResult> {
  if (!existsSync(join(ROOT, 'src/renderer/src/components/messages/MessageList.svelte')))
    return skipped(options, 'pending the UI');
  if (!existsSync(join(HARNESS, 'main.ts'))) return skipped(options, 'pending the UI (no test/harness to mount it)');
  if (!existsSync(CHROMIUM)) return skipped(options, `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  const count = options.tiny ? 2_000 : 100_000;
  const maxFrames = options.tiny ? 60 : 600;

  const { createServer } = await import('vite');
  const { svelte } = await import('@sveltejs/vite-plugin-svelte');
  const { launchChromium } = await import('../../test/helpers/chromium.ts');
  const server = await createServer({
    configFile: false,
    root: HARNESS,
    cacheDir: join(ROOT, 'node_modules/.vite-bench-harness'),
    logLevel: 'error',
    plugins: [svelte({ configFile: false })],
    server: { host: '127.0.0.1', port: 0, strictPort: false, fs: { allow: [ROOT] }, hmr: false },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  let browser: Awaited<ReturnType<typeof launchChromium>> | null = null;
  try {
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('Vite did not report a port');
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    page.setDefaultTimeout(30_000);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`http://127.0.0.1:${address.port}/`);
    await page.waitForFunction(() => (window as unknown as { harness?: unknown }).harness !== undefined);

    const result = await withTimeout(
      page.evaluate(
        async ({ count, maxFrames }) => {
          const h = (window as unknown as { harness: Harness }).harness;
          const fake = h.mount();
          const history = h.makeMessages(count, count, ['bob', 'ann', 'chen', 'dana'], true);
          fake.emit({ type: 'connection', state: { kind: 'connected', address: '10.0.0.2:4747', rttMs: 3 } });
          const frame = (): Promise<number> => new Promise((resolve) => requestAnimationFrame(resolve));
          await frame();
          await frame();
          // ── first paint ──
          const t0 = performance.now();
          fake.emit({
            type: 'welcome',
            room: {
              name: 'Lab',
              you: h.member('me', 'Me'),
              members: [
                h.member('me', 'Me'),
                h.member('bob', 'Bob'),
                h.member('ann', 'Ann'),
                h.member('chen', 'Chen Wei'),
                h.member('dana', 'דנה'),
              ],
            },
            history,
            hasMore: false,
            resumed: false,
          });
          let list: HTMLElement | null = null;
          for (let i = 0; i < 600; i++) {
            await frame();
            list = document.querySelector('[data-testid="message-list"]');
            if (list && list.querySelector('[data-testid="message-row"]')) break;
          }
          // rAF callbacks run before the paint of their frame: the next one marks the paint done.
          await frame();
          const firstPaintMs = performance.now() - t0;
          if (!list) return { error: 'no message list appeared' };
          const rowsAfterOpen = list.querySelectorAll('[data-testid="message-row"]').length;
          // Let the list settle at the end before scrolling.
          for (let i = 0; i < 20; i++) await frame();
          // The scrolling element is the list or one of its descendants (or ancestors), whichever scrolls.
          const scrolls = (el: Element): boolean =>
            el.scrollHeight > el.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(el).overflowY);
          let scroller: HTMLElement | null =
            [list, ...Array.from(list.querySelectorAll<HTMLElement>('*'))].find(scrolls) ?? null;
          for (let el: HTMLElement | null = list.parentElement; !scroller && el; el = el.parentElement)
            if (scrolls(el)) scroller = el;
          if (!scroller) return { error: 'found no scrolling element in the message list' };
          const rowsRoot = list;
          list = scroller;
          // ── scroll from bottom to top, one step per frame ──
          const frames: number[] = [];
          let maxRows = rowsAfterOpen;
          let last = await frame();
          let steps = 0;
          while (list.scrollTop > 0 && steps < maxFrames * 4) {
            const remaining = maxFrames - frames.length;
            const step = Math.max(200, Math.ceil(list.scrollTop / Math.max(1, remaining)));
            list.scrollTop = Math.max(0, list.scrollTop - step);
            const now = await frame();
            frames.push(now - last);
            last = now;
            steps++;
            const rows = rowsRoot.querySelectorAll('[data-testid="message-row"]').length;
            if (rows > maxRows) maxRows = rows;
          }
          return {
            firstPaintMs,
            rowsAfterOpen,
            maxRows,
            frames,
            reachedTop: list.scrollTop === 0,
            scrollHeight: list.scrollHeight,
          };
        },
        { count, maxFrames },
      ),
      options.tiny ? 60_000 : 120_000,
      'the interface benchmark in Chromium',
    );
    if ('error' in result) return skipped(options, String(result.error));
    const frames = summarize(result.frames);
    const sorted = Float64Array.from(result.frames).sort();
    const p95 = sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]! : NaN;
    // rAF times come in whole display frames (16.7 ms at 60 Hz) give or take a little jitter: a frame
    // at 16.8 ms was on time, one at 33 ms or more missed a display refresh.
    const missed = result.frames.filter((ms) => ms > DISPLAY_FRAME_MS * 1.5).length;
    options.log(
      `  ${count.toLocaleString('en-US')} messages: first paint ${fmt(result.firstPaintMs)} ms, at most ${result.maxRows} rows in the DOM, scroll frames p95 ${fmt(p95)} ms`,
    );
    return {
      scenario: 'interface',
      tables: [
        {
          title: `Interface: a conversation of ${count.toLocaleString('en-US')} messages in headless Chromium (software rendering)`,
          header: ['measure', 'value', 'target'],
          rows: [
            ['first paint after the welcome (ms)', fmt(result.firstPaintMs), '< 300'],
            ['message rows in the DOM after opening', String(result.rowsAfterOpen), '≤ 100'],
            ['message rows in the DOM, most while scrolling', String(result.maxRows), '≤ 100'],
            [`scroll frames (bottom → top, ${frames.n} frames): p50 ms`, fmt(frames.p50), ''],
            ['scroll frames: p95 ms', fmt(p95), '< 16.7'],
            ['scroll frames: max ms', fmt(frames.max), ''],
            [
              'scroll frames that missed a display refresh',
              `${missed} (${fmt((100 * missed) / Math.max(1, frames.n))}%)`,
              '< 5%',
            ],
            ['reached the top', result.reachedTop ? 'yes' : 'no', ''],
          ],
        },
      ],
      notes: [
        'Mounted through test/harness (fake ChatApi) served by Vite on 127.0.0.1; Chromium headless with --disable-gpu, so frame times include software rasterization.',
        'Messages as people write them: one in twelve each with bold, inline code, a quote, a list, a link, a code block or Hebrew; four senders with avatars.',
        'Frame times are whole display refreshes (16.7 ms) plus jitter: p95 at 16.8 ms means at least 95% of frames were on time.',
        ...(errors.length ? [`page errors: ${errors.slice(0, 3).join(' | ')}`] : []),
      ],
      data: { count, ...result, frameSummary: frames, p95, missed },
    };
  } finally {
    await browser?.close().catch(() => {});
    await server.close().catch(() => {});
  }
}
