/**
 * Scenario 4: the store.
 *   through the host: one member sends with a window of unacknowledged messages
 *     into the real host (its real store: WAL, synchronous=NORMAL, on disk);
 *     acks per second sustained. Then the host is killed with SIGKILL and the
 *     database reopened: every acknowledged message must be there.
 *   raw: HistoryStore.append in a loop in this process (same durability setting).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { HistoryStore } from '../../src/host/store/history-store.ts';
import { join, sendPipelined } from '../lib/beacon-client.ts';
import { BENCH_DIR, startServer, waitForQuiet } from '../lib/proc.ts';
import type { ScenarioOptions, ScenarioResult } from '../lib/scenario.ts';
import { fmt } from '../lib/stats.ts';

export async function store(options: ScenarioOptions): Promise<ScenarioResult> {
  const hostCount = options.tiny ? 1_000 : 30_000;
  const rawCount = options.tiny ? 2_000 : 100_000;
  const window = 256;
  const busy = await waitForQuiet(options.tiny ? 0 : 10_000);

  // ── through the host, then kill -9 ──
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'beacon-bench-store-'));
  let host: Awaited<ReturnType<typeof sendPipelined>>;
  let survived: number;
  let senderId: string;
  try {
    const server = await startServer('beacon', process.execPath, [
      joinPath(BENCH_DIR, 'servers/beacon-host.ts'),
      dataDir,
    ]);
    try {
      const member = await join(server.port, { name: 'writer' });
      senderId = member.welcome.you.id;
      // warm-up, then the measured run
      await sendPipelined(member.ws, Math.min(500, hostCount), window, 30_000, undefined, 'warm-');
      host = await sendPipelined(member.ws, hostCount, window, options.tiny ? 20_000 : 60_000);
      // No goodbye, no close: the process dies now, as in a crash.
      await server.kill9();
      member.ws.terminate();
    } finally {
      await server.stop();
    }
    const db = new DatabaseSync(joinPath(dataDir, 'beacon.db'));
    const row = db
      .prepare("SELECT count(*) AS n, max(seq) AS last FROM messages WHERE sender = ? AND client_id NOT LIKE 'warm-%'")
      .get(senderId) as { n: number; last: number };
    db.close();
    survived = row.n;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const hostRate = host.acked / (host.ms / 1000);
  options.log(
    `  through the host: ${fmt(hostRate, 0)} acked msg/s (${host.acked} in ${fmt(host.ms, 0)} ms, ${host.outcome}); after kill -9: ${survived}/${host.acked} present`,
  );

  // ── raw HistoryStore.append ──
  const rawDir = mkdtempSync(joinPath(tmpdir(), 'beacon-bench-raw-'));
  let rawMs: number;
  try {
    const s = HistoryStore.open(rawDir);
    const text = `bench message ${'lorem ipsum '.repeat(6)}`;
    for (let i = 0; i < 500; i++) s.append({ sender: 'm_w', recipient: null, text, ts: Date.now(), clientId: `w${i}` });
    const t0 = performance.now();
    for (let i = 0; i < rawCount; i++)
      s.append({ sender: 'm_a', recipient: null, text, ts: Date.now(), clientId: `a${i}` });
    rawMs = performance.now() - t0;
    s.close();
  } finally {
    rmSync(rawDir, { recursive: true, force: true });
  }
  const rawRate = rawCount / (rawMs / 1000);
  options.log(`  raw HistoryStore.append: ${fmt(rawRate, 0)} msg/s (${fmt((rawMs * 1000) / rawCount)} µs each)`);

  return {
    scenario: 'store',
    tables: [
      {
        title: 'Store (WAL, synchronous=NORMAL, on disk; one message per transaction)',
        header: ['measure', 'messages', 'msg/s', 'µs each', 'durable after kill -9'],
        rows: [
          [
            `acked through the host (window ${window})`,
            String(host.acked),
            fmt(hostRate, 0),
            fmt((host.ms * 1000) / Math.max(1, host.acked)),
            `${survived}/${host.acked}${survived === host.acked ? ' ✓' : ' ✗'}`,
          ],
          ['raw HistoryStore.append', String(rawCount), fmt(rawRate, 0), fmt((rawMs * 1000) / rawCount), '–'],
        ],
      },
    ],
    notes: [`Machine busy before: ${Math.round(busy * 100)}%. Host outcome: ${host.outcome}.`],
    data: { host, hostRate, survived, rawCount, rawMs, rawRate, window, busy },
  };
}
