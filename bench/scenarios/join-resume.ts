/**
 * Scenario 3: join and resume against stores of 10^4, 10^5, 10^6 and 10^7 messages (tiny: 10^4),
 * for the host without encryption (`beacon`) and, at 10^6, with TLS (`beacon-tls`), each in its
 * own process on its own copy of the store (`--servers` picks which). Writes a plot of welcome
 * and resume time against the store's size (bench/results/welcome-resume.svg, docs/perf/).
 * Each store is built once (direct SQL on a schema made by HistoryStore, a larger one grown from
 * a smaller one) in bench/.cache and copied for every run, so runs do not grow it.
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
import { cpus, tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { HistoryStore } from '../../src/host/store/history-store.ts';
import { closed, join, sendPipelined } from '../lib/beacon-client.ts';
import { logXChart } from '../lib/plot.ts';
import { BENCH_DIR, machineBusy, procStatus, ROOT, sleep, startServer } from '../lib/proc.ts';
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
  if (!existsSync(marker)) return undefined;
  const built = JSON.parse(readFileSync(marker, 'utf8')) as BuiltStore;
  // Stores cached before sizes were recorded: their size now.
  return { ...built, bytes: built.bytes ?? statSync(joinPath(storeDir(count), 'beacon.db')).size };
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

/** One store size's figures: each host variant's runs, and the store's own page reads. */
interface SizeRun {
  stored: number;
  built: BuiltStore;
  runs: HostRun[];
  page: Summary;
  after: Summary;
}

/** Which store sizes to measure: BENCH_STORE_SIZES (e.g. 10000,100000) or the full set; tiny: 10^4 only. */
function storeSizes(tiny: boolean): number[] {
  const chosen = process.env.BENCH_STORE_SIZES?.split(',').map(Number);
  if (chosen?.length && chosen.every((n) => Number.isInteger(n) && n > 0)) return chosen;
  return tiny ? [10_000] : [...STORE_SIZES];
}

/** The size TLS is compared at (join and resume do not depend on the store's size for TLS's part). */
const TLS_AT = 1_000_000;

async function measureSize(
  stored: number,
  options: ScenarioOptions,
  counts: { missed: number; joins: number; resumes: number },
  sizes: number[],
): Promise<SizeRun> {
  const source = seededStore(stored, options.log);
  const built = builtStore(stored)!;
  // TLS at one size only (the largest if 10^6 is not measured): the store is not what it costs.
  const tlsHere = stored === (sizes.includes(TLS_AT) ? TLS_AT : sizes.at(-1));
  const variants = VARIANTS.filter(
    (v) => (!options.servers || options.servers.includes(v.name)) && (!v.tls || tlsHere),
  );
  // --servers naming only baselines (naive-ws, …) still measures the plain host: this scenario is Beacon's alone.
  if (variants.length === 0) variants.push(VARIANTS[0]);
  const runs: HostRun[] = [];
  try {
    for (const variant of variants) {
      runs.push(await measureHost(variant, source, { ...counts, stored }, options.log));
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
      storeOnly.page('m_seed1', 'all', { after: first.lastSeq }, counts.missed);
      afterTimes.push(performance.now() - t);
    }
    storeOnly.close();
    return { stored, built, runs, page: summarize(pageTimes.slice(5)), after: summarize(afterTimes.slice(5)) };
  } finally {
    for (const r of runs) rmSync(r.dataDir, { recursive: true, force: true });
  }
}

/** The plot of welcome and resume time against stored messages (p50 solid, p99 dashed). */
function welcomeResumeChart(sizeRuns: SizeRun[], missed: number, machine: string): string {
  const plain = (size: SizeRun): HostRun => size.runs.find((r) => r.server === 'beacon') ?? size.runs[0]!;
  const points = (pick: (r: HostRun) => number): { x: number; y: number }[] =>
    sizeRuns.map((size) => ({ x: size.stored, y: pick(plain(size)) }));
  return logXChart({
    title: 'Welcome and resume time against stored messages (Beacon host, ws://, loopback)',
    xLabel: 'stored messages (log scale)',
    yLabel: 'connect → welcome, ms',
    series: [
      { name: 'welcome p50 (new member)', color: '#1f6feb', points: points((r) => r.join.p50) },
      { name: 'welcome p99', color: '#1f6feb', dashed: true, points: points((r) => r.join.p99) },
      { name: `resume p50 (${missed} missed)`, color: '#d1242f', points: points((r) => r.resume.p50) },
      { name: 'resume p99', color: '#d1242f', dashed: true, points: points((r) => r.resume.p99) },
    ],
    caption: `npm run bench -- --scenario join · ${machine} · ${new Date().toISOString().slice(0, 10)}`,
  });
}

export async function joinResume(options: ScenarioOptions): Promise<ScenarioResult> {
  const sizes = storeSizes(options.tiny);
  const missed = options.tiny ? 100 : 1_000;
  const joins = options.tiny ? 10 : 40;
  const resumes = options.tiny ? 5 : 30;
  // Others' jobs on the machine show in these figures: the plot and the notes say how busy it was.
  const busyBefore = await machineBusy();
  const sizeRuns: SizeRun[] = [];
  for (const stored of sizes) sizeRuns.push(await measureSize(stored, options, { missed, joins, resumes }, sizes));

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
  const tables: ScenarioResult['tables'] = sizeRuns.map((size) => ({
    title: `Join and resume with ${size.stored.toLocaleString('en-US')} stored messages (ms; measured at the client, loopback)`,
    header: ['server', 'measure', 'runs', 'p50', 'p99', 'max', 'hello→welcome p50', 'welcome KB'],
    rows: [
      ...size.runs.flatMap((r) => [
        row(r.server, 'connect → welcome (new member)', r.join, r.joinHello, kb(r.welcomeBytes)),
        row(r.server, `connect → welcome (resume, ${missed} missed)`, r.resume, r.resumeHello, kb(r.resumeBytes)),
      ]),
      row('–', 'store.page latest 100 (in process)', size.page, null, '–'),
      row('–', `store.page ${missed} after lastSeq (in process)`, size.after, null, '–'),
    ],
  }));
  const plainOf = (size: SizeRun): HostRun | undefined => size.runs.find((r) => r.server === 'beacon');
  if (sizeRuns.length > 1) {
    tables.unshift({
      title: `How welcome and resume grow with the store (beacon, ws://; ms at the client; resume = ${missed} missed)`,
      header: [
        'stored messages',
        'welcome p50',
        'welcome p99',
        'resume p50',
        'resume p99',
        'page 100 p50 (store)',
        `page ${missed} after p50 (store)`,
        'host RSS MB',
        'store MB on disk',
        'build s (this increment)',
      ],
      rows: sizeRuns.map((size) => {
        const r = plainOf(size) ?? size.runs[0]!;
        return [
          size.stored.toLocaleString('en-US'),
          fmt(r.join.p50),
          fmt(r.join.p99),
          fmt(r.resume.p50),
          fmt(r.resume.p99),
          fmt(size.page.p50),
          fmt(size.after.p50),
          mb(r.hostRss),
          size.built.bytes === undefined ? '–' : mb(size.built.bytes),
          size.built.incrementMs === undefined
            ? fmt(size.built.builtMs / 1000, 1)
            : `${fmt(size.built.incrementMs / 1000, 1)} (from ${(size.built.grownFrom ?? 0).toLocaleString('en-US')})`,
        ];
      }),
    });
  }
  const tlsSize = sizeRuns.find((size) => size.runs.some((r) => r.server === 'beacon-tls'));
  const plain = tlsSize && plainOf(tlsSize);
  const tls = tlsSize?.runs.find((r) => r.server === 'beacon-tls');
  if (plain && tls) {
    const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : '–');
    tables.push({
      title: `The cost of TLS on joining (beacon-tls ÷ beacon, same run, ${tlsSize.stored.toLocaleString('en-US')} stored; lower is better)`,
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
    ...sizeRuns.map(
      (size) =>
        `Store of ${size.stored.toLocaleString('en-US')} messages (95 % room, 5 % direct): ${size.built.incrementMs === undefined ? `built in ${(size.built.builtMs / 1000).toFixed(1)} s` : `grown from the cached ${(size.built.grownFrom ?? 0).toLocaleString('en-US')} in ${(size.built.incrementMs / 1000).toFixed(1)} s (rows, then their search index; ${(size.built.builtMs / 1000).toFixed(1)} s from nothing)`}${size.built.bytes === undefined ? '' : `, ${mb(size.built.bytes)} MB on disk`}; copied per host run; host RSS after the runs: ${size.runs.map((r) => `${r.server} ${mb(r.hostRss)} MB`).join(', ')}.`,
    ),
    `A new member's welcome holds the latest ${sizeRuns[0]!.runs[0]!.historyLength} messages.`,
    `Machine ${Math.round(busyBefore * 100)} % busy (all cores) just before the first size.`,
    'Stores are cached in bench/.cache/store-<count> (a larger one grown from the largest smaller one); BENCH_STORE_SIZES=10000,100000 picks sizes.',
  ];
  if (tls) {
    notes.push(
      'beacon = the host without encryption (plain ws://); beacon-tls = its default, TLS: every join is a new TCP connection and a full TLS handshake (no session resumption), the client skipping CA checks and pinning the fingerprint before it sends the upgrade. Measured at one store size only.',
    );
  }
  if (sizeRuns.length > 1 && sizeRuns.some((size) => plainOf(size))) {
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(busyBefore * 100)} % busy before`;
    const svg = welcomeResumeChart(sizeRuns, missed, machine);
    mkdirSync(joinPath(BENCH_DIR, 'results'), { recursive: true });
    mkdirSync(joinPath(ROOT, 'docs', 'perf'), { recursive: true });
    writeFileSync(joinPath(BENCH_DIR, 'results', 'welcome-resume.svg'), svg);
    writeFileSync(joinPath(ROOT, 'docs', 'perf', 'welcome-resume.svg'), svg);
    notes.push('Plot: bench/results/welcome-resume.svg (copied to docs/perf/welcome-resume.svg).');
  }
  return {
    scenario: 'join',
    tables,
    notes,
    data: {
      sizes,
      missed,
      bySize: sizeRuns.map((size) => ({
        stored: size.stored,
        built: size.built,
        page: size.page,
        after: size.after,
        runs: size.runs.map(({ dataDir: _dataDir, ...r }) => r),
      })),
    },
  };
}
