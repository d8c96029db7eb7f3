/**
 * Scenario 3: join and resume against a store of 1,000,000 messages, for the
 * host without encryption (`beacon`) and with TLS (`beacon-tls`), each in its
 * own process on its own copy of the store (`--servers` picks which).
 * The store is built once (one transaction of direct SQL on a schema made by
 * HistoryStore) in bench/.cache and copied for every run, so runs do not grow it.
 *   join:   connect → welcome for fresh members (each leaves before the next)
 *   resume: a member misses 1,000 messages, then resumes with its token and lastSeq, repeatedly
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { HistoryStore } from '../../src/host/store/history-store.ts';
import { closed, join, sendPipelined } from '../lib/beacon-client.ts';
import { BENCH_DIR, procStatus, sleep, startServer } from '../lib/proc.ts';
import type { ScenarioOptions, ScenarioResult } from '../lib/scenario.ts';
import { fmt, kb, mb, type Summary, summarize } from '../lib/stats.ts';
import { pinFor } from './fanout.ts';

const SEED_MEMBERS = 50;

/** The store sizes the full run measures (welcome and resume at each, to show how cost grows). */
export const STORE_SIZES = [10_000, 100_000, 1_000_000, 10_000_000] as const;

/** What complete.json records about a cached store. */
interface BuiltStore {
  count: number;
  /** Time to build this store from nothing, summed over the increments it was built from (ms). */
  builtMs: number;
  /** The cached store it was grown from (0: built from nothing). */
  grownFrom?: number;
  /** Time of this increment alone: copy, appended rows, then the search index of the new rows (ms). */
  incrementMs?: number;
  bytes?: number;
}

const storeDir = (count: number): string => joinPath(BENCH_DIR, '.cache', `store-${count}`);

/** Reads a cached store's record, or undefined if it was never finished (a build killed halfway is not trusted). */
export function builtStore(count: number): BuiltStore | undefined {
  const marker = joinPath(storeDir(count), 'complete.json');
  return existsSync(marker) ? (JSON.parse(readFileSync(marker, 'utf8')) as BuiltStore) : undefined;
}

/**
 * Builds (once) a store of `count` messages: 95 % room, 5 % direct, texts of 20-140 characters.
 * A larger store is grown from the largest smaller one in the cache (copied, then the missing rows
 * appended), so 10^7 costs the 9 M rows it adds rather than all ten million again.
 */
export function seededStore(count: number, log: (line: string) => void): string {
  const dir = storeDir(count);
  if (builtStore(count)) {
    // A store built by an older Beacon is brought to the current schema once, here (v1.5's migration
    // and search index take half a minute for 1 M messages), not in each run's start-up.
    HistoryStore.open(dir).close();
    return joinPath(dir, 'beacon.db');
  }
  const base = [...STORE_SIZES, 10_000].filter((size) => size < count && builtStore(size)).sort((a, b) => b - a)[0];
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  let from = 0;
  let baseMs = 0;
  if (base) {
    // The base is migrated and indexed first, so the copy only lacks the appended rows.
    HistoryStore.open(storeDir(base)).close();
    copyFileSync(joinPath(storeDir(base), 'beacon.db'), joinPath(dir, 'beacon.db'));
    from = base;
    baseMs = builtStore(base)!.builtMs;
    log(
      `  growing the store of ${base.toLocaleString('en-US')} messages to ${count.toLocaleString('en-US')} in ${dir} (once)…`,
    );
  } else {
    log(`  building a store of ${count.toLocaleString('en-US')} messages in ${dir} (once)…`);
    HistoryStore.open(dir).close();
  }
  const db = new DatabaseSync(joinPath(dir, 'beacon.db'));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;');
  const words = 'the build is green again ship it after lunch who has the staging key review please ok'.split(' ');
  // Timestamps rise with seq and end now: from count seconds ago for a new store, from the base's last
  // message for a grown one (its new rows are packed closer; nothing the bench reads depends on the gap).
  const last = db.prepare('SELECT MAX(ts) AS ts FROM messages').get() as { ts: number | null };
  const first = last.ts ?? Date.now() - count * 1000;
  const step = Math.max(1, (Date.now() - first) / (count - from));
  db.exec('BEGIN');
  const member = db.prepare('INSERT OR IGNORE INTO members (id, name, token, joined_at) VALUES (?, ?, ?, ?)');
  for (let i = 0; i < SEED_MEMBERS; i++) member.run(`m_seed${i}`, `Seed ${i}`, `t_seedtoken${i}`, first);
  const insert = db.prepare(
    'INSERT INTO messages (seq, sender, recipient, text, ts, client_id) VALUES (?, ?, ?, ?, ?, ?)',
  );
  let x = 12345 + from;
  const rand = (n: number): number => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % n;
  };
  for (let seq = from + 1; seq <= count; seq++) {
    const sender = rand(SEED_MEMBERS);
    const direct = rand(20) === 0;
    const recipient = direct ? `m_seed${(sender + 1 + rand(SEED_MEMBERS - 1)) % SEED_MEMBERS}` : null;
    const n = 3 + rand(22);
    let text = '';
    for (let w = 0; w < n; w++) text += (w ? ' ' : '') + words[rand(words.length)];
    insert.run(seq, `m_seed${sender}`, recipient, text, Math.round(first + (seq - from) * step), `seed${seq}`);
    // Commits every million rows: one transaction of 9 M rows would hold its whole WAL until the end.
    if ((seq - from) % 1_000_000 === 0) db.exec('COMMIT; BEGIN');
  }
  db.exec('COMMIT');
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
  log(
    `  ${(count - from).toLocaleString('en-US')} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s; indexing them for search…`,
  );
  // The host indexes unindexed rows when it opens the store; done here, once, not in every run.
  HistoryStore.open(dir).close();
  const incrementMs = performance.now() - t0;
  const record: BuiltStore = {
    count,
    builtMs: baseMs + incrementMs,
    grownFrom: from,
    incrementMs,
    bytes: statSync(joinPath(dir, 'beacon.db')).size,
  };
  writeFileSync(joinPath(dir, 'complete.json'), JSON.stringify(record));
  log(`  built in ${(incrementMs / 1000).toFixed(1)} s, ${mb(record.bytes!)} MB on disk`);
  return joinPath(dir, 'beacon.db');
}

/** The host variants this scenario measures (the same two as the fan-out's: plain ws:// and TLS). */
const VARIANTS = [
  { name: 'beacon', tls: false },
  { name: 'beacon-tls', tls: true },
] as const;

interface HostRun {
  server: string;
  join: Summary;
  joinHello: Summary;
  resume: Summary;
  resumeHello: Summary;
  joinTimes: number[];
  resumeTimes: number[];
  welcomeBytes: number;
  resumeBytes: number;
  historyLength: number;
  hostRss: number;
  lastSeq: number;
  dataDir: string;
}

/** Joins and resumes against one host process on a fresh copy of the store; keeps the copy for the page reads. */
async function measureHost(
  variant: (typeof VARIANTS)[number],
  source: string,
  counts: { missed: number; joins: number; resumes: number; stored: number },
  log: (line: string) => void,
): Promise<HostRun> {
  const { missed, joins, resumes, stored } = counts;
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'beacon-bench-join-'));
  copyFileSync(source, joinPath(dataDir, 'beacon.db'));
  const server = await startServer(variant.name, process.execPath, [
    joinPath(BENCH_DIR, 'servers/beacon-host.ts'),
    dataDir,
    ...(variant.tls ? ['--tls'] : []),
  ]);
  try {
    const port = server.port;
    const tls = variant.tls ? await pinFor(server) : null;
    // ── join ──
    const joinTimes: number[] = [];
    const helloTimes: number[] = [];
    let welcomeBytes = 0;
    let historyLength = 0;
    for (let i = 0; i < joins + 5; i++) {
      const j = await join(port, { name: `joiner ${i}`, features: ['channels'] }, undefined, tls);
      if (i >= 5) {
        joinTimes.push(j.connectToWelcomeMs);
        helloTimes.push(j.helloToWelcomeMs);
      }
      welcomeBytes = j.welcomeBytes;
      historyLength = j.welcome.history.length;
      await closed(j.ws, true);
    }
    const joinSummary = summarize(joinTimes);
    log(
      `  ${variant.name}: join with ${stored.toLocaleString('en-US')} stored: p50 ${fmt(joinSummary.p50)} ms, p99 ${fmt(joinSummary.p99)} ms`,
    );

    // ── resume ──
    const away = await join(port, { name: 'returning member' }, undefined, tls);
    const { token, lastSeq } = away.welcome;
    await closed(away.ws, false);
    const sender = await join(port, { name: 'chatty member' }, undefined, tls);
    const sent = await sendPipelined(sender.ws, missed, 100, 60_000);
    if (sent.outcome !== 'complete') throw new Error(`sending the missed messages: ${sent.outcome}`);
    await closed(sender.ws, true);
    const resumeTimes: number[] = [];
    const resumeHello: number[] = [];
    let resumeBytes = 0;
    for (let i = 0; i < resumes + 3; i++) {
      const r = await join(
        port,
        { name: 'returning member', resume: { token, lastSeq }, features: ['channels'] },
        undefined,
        tls,
      );
      if (!r.welcome.resumed || r.welcome.history.length !== missed) {
        throw new Error(
          `resume returned resumed=${r.welcome.resumed}, ${r.welcome.history.length} messages (expected ${missed})`,
        );
      }
      if (i >= 3) {
        resumeTimes.push(r.connectToWelcomeMs);
        resumeHello.push(r.helloToWelcomeMs);
      }
      resumeBytes = r.welcomeBytes;
      await closed(r.ws, false);
      await sleep(5);
    }
    const resumeSummary = summarize(resumeTimes);
    log(`  ${variant.name}: resume of ${missed}: p50 ${fmt(resumeSummary.p50)} ms, p99 ${fmt(resumeSummary.p99)} ms`);
    const hostRss = procStatus(server.pid).rss;
    return {
      server: variant.name,
      join: joinSummary,
      joinHello: summarize(helloTimes),
      resume: resumeSummary,
      resumeHello: summarize(resumeHello),
      joinTimes,
      resumeTimes,
      welcomeBytes,
      resumeBytes,
      historyLength,
      hostRss,
      lastSeq,
      dataDir,
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  } finally {
    await server.stop();
  }
}

export async function joinResume(options: ScenarioOptions): Promise<ScenarioResult> {
  const stored = options.tiny ? 10_000 : 1_000_000;
  const missed = options.tiny ? 100 : 1_000;
  const joins = options.tiny ? 10 : 40;
  const resumes = options.tiny ? 5 : 30;
  const source = seededStore(stored, options.log);
  const built = JSON.parse(readFileSync(joinPath(source, '..', 'complete.json'), 'utf8')) as { builtMs: number };
  const variants = VARIANTS.filter((v) => !options.servers || options.servers.includes(v.name));
  // --servers naming only baselines (naive-ws, …) still measures the plain host: this scenario is Beacon's alone.
  if (variants.length === 0) variants.push(VARIANTS[0]);
  const runs: HostRun[] = [];
  try {
    for (const variant of variants) {
      runs.push(await measureHost(variant, source, { missed, joins, resumes, stored }, options.log));
    }

    // The store's part alone, in this process, on the first host's copy.
    const first = runs[0]!;
    const storeOnly = HistoryStore.open(first.dataDir);
    const pageTimes: number[] = [];
    const afterTimes: number[] = [];
    for (let i = 0; i < 30; i++) {
      let t = performance.now();
      storeOnly.page(`m_fresh${i}`, 'all', {}, 100);
      pageTimes.push(performance.now() - t);
      t = performance.now();
      storeOnly.page('m_seed1', 'all', { after: first.lastSeq }, missed);
      afterTimes.push(performance.now() - t);
    }
    storeOnly.close();
    const page = summarize(pageTimes.slice(5));
    const after = summarize(afterTimes.slice(5));

    const row = (server: string, what: string, s: Summary, hello: Summary | null, bytes: string): string[] => [
      server,
      what,
      String(s.n),
      fmt(s.p50),
      fmt(s.p99),
      fmt(s.max),
      hello ? fmt(hello.p50) : '–',
      bytes,
    ];
    const tables: ScenarioResult['tables'] = [
      {
        title: `Join and resume with ${stored.toLocaleString('en-US')} stored messages (ms; measured at the client, loopback)`,
        header: ['server', 'measure', 'runs', 'p50', 'p99', 'max', 'hello→welcome p50', 'welcome KB'],
        rows: [
          ...runs.flatMap((r) => [
            row(r.server, 'connect → welcome (new member)', r.join, r.joinHello, kb(r.welcomeBytes)),
            row(r.server, `connect → welcome (resume, ${missed} missed)`, r.resume, r.resumeHello, kb(r.resumeBytes)),
          ]),
          row('–', 'store.page latest 100 (in process)', page, null, '–'),
          row('–', `store.page ${missed} after lastSeq (in process)`, after, null, '–'),
        ],
      },
    ];
    const plain = runs.find((r) => r.server === 'beacon');
    const tls = runs.find((r) => r.server === 'beacon-tls');
    if (plain && tls) {
      const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : '–');
      tables.push({
        title: 'The cost of TLS on joining (beacon-tls ÷ beacon, same run; lower is better)',
        header: ['measure', 'p50', 'p99', 'hello→welcome p50', 'TLS − plain p50 ms'],
        rows: [
          [
            'connect → welcome (new member)',
            ratio(tls.join.p50, plain.join.p50),
            ratio(tls.join.p99, plain.join.p99),
            ratio(tls.joinHello.p50, plain.joinHello.p50),
            fmt(tls.join.p50 - plain.join.p50),
          ],
          [
            `connect → welcome (resume, ${missed} missed)`,
            ratio(tls.resume.p50, plain.resume.p50),
            ratio(tls.resume.p99, plain.resume.p99),
            ratio(tls.resumeHello.p50, plain.resumeHello.p50),
            fmt(tls.resume.p50 - plain.resume.p50),
          ],
        ],
      });
    }
    const notes = [
      `Store of ${stored.toLocaleString('en-US')} messages (95 % room, 5 % direct) built once in ${(built.builtMs / 1000).toFixed(1)} s and copied per run; host RSS after the runs: ${runs.map((r) => `${r.server} ${mb(r.hostRss)} MB`).join(', ')}.`,
      `A new member's welcome holds the latest ${first.historyLength} messages.`,
    ];
    if (tls) {
      notes.push(
        'beacon = the host without encryption (plain ws://); beacon-tls = its default, TLS: every join is a new TCP connection and a full TLS handshake (no session resumption), the client skipping CA checks and pinning the fingerprint before it sends the upgrade.',
      );
    }
    return {
      scenario: 'join',
      tables,
      notes,
      data: {
        stored,
        missed,
        runs: runs.map(({ dataDir: _dataDir, ...r }) => r),
        page,
        after,
      },
    };
  } finally {
    for (const r of runs) rmSync(r.dataDir, { recursive: true, force: true });
  }
}
