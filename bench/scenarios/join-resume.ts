/**
 * Scenario 3: join and resume against a store of 1,000,000 messages, for the
 * host without encryption (`beacon`) and with TLS (`beacon-tls`), each in its
 * own process on its own copy of the store (`--servers` picks which).
 * The store is built once (one transaction of direct SQL on a schema made by
 * HistoryStore) in bench/.cache and copied for every run, so runs do not grow it.
 *   join:   connect → welcome for fresh members (each leaves before the next)
 *   resume: a member misses 1,000 messages, then resumes with its token and lastSeq, repeatedly
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** Builds (once) a store of `count` messages: 95 % room, 5 % direct, texts of 20-140 characters. */
export function seededStore(count: number, log: (line: string) => void): string {
  const dir = joinPath(BENCH_DIR, '.cache', `store-${count}`);
  const marker = joinPath(dir, 'complete.json');
  if (existsSync(marker)) {
    // A store built by an older Beacon is brought to the current schema once, here (v1.5's migration
    // and search index take half a minute for 1 M messages), not in each run's start-up.
    HistoryStore.open(dir).close();
    return joinPath(dir, 'beacon.db');
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`  building a store of ${count.toLocaleString('en-US')} messages in ${dir} (once)…`);
  const t0 = performance.now();
  HistoryStore.open(dir).close();
  const db = new DatabaseSync(joinPath(dir, 'beacon.db'));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;');
  const words = 'the build is green again ship it after lunch who has the staging key review please ok'.split(' ');
  const now = Date.now() - count * 1000;
  db.exec('BEGIN');
  const member = db.prepare('INSERT INTO members (id, name, token, joined_at) VALUES (?, ?, ?, ?)');
  for (let i = 0; i < SEED_MEMBERS; i++) member.run(`m_seed${i}`, `Seed ${i}`, `t_seedtoken${i}`, now);
  const insert = db.prepare(
    'INSERT INTO messages (seq, sender, recipient, text, ts, client_id) VALUES (?, ?, ?, ?, ?, ?)',
  );
  let x = 12345;
  const rand = (n: number): number => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % n;
  };
  for (let seq = 1; seq <= count; seq++) {
    const sender = rand(SEED_MEMBERS);
    const direct = rand(20) === 0;
    const recipient = direct ? `m_seed${(sender + 1 + rand(SEED_MEMBERS - 1)) % SEED_MEMBERS}` : null;
    const n = 3 + rand(22);
    let text = '';
    for (let w = 0; w < n; w++) text += (w ? ' ' : '') + words[rand(words.length)];
    insert.run(seq, `m_seed${sender}`, recipient, text, now + seq * 1000, `seed${seq}`);
  }
  db.exec('COMMIT');
  db.close();
  writeFileSync(marker, JSON.stringify({ count, builtMs: performance.now() - t0 }));
  log(`  built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
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
