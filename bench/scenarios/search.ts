/**
 * Scenario 6: search at the host (protocol v1.5, PROTOCOL.md §19.8).
 *   build: a version-4 history (as an older Beacon left it) of 1,000,000 messages of Zipf-drawn
 *     words from a vocabulary of 5,000, written straight into SQLite; 10 % are direct messages
 *     between 50 members, 20 % sit in 5 channels after the migration.
 *   migrate: HistoryStore.open on it: migration 5 and the FTS5 index built from every row, timed.
 *   search: HistoryStore.search (visibility, hydration, highlights, two neighbours each side),
 *     p50/p95/p99 of two-word queries of three kinds: words drawn as messages draw them, two
 *     common words, a rare word with a short prefix last.
 *   baselines, same queries, same process and files: the same FTS5 match bare (newest 21 ids, no
 *     visibility, no context): what the store adds; FTS5's own prefix search of the last word
 *     ("word"*), bare: what expanding it into terms saves; and a LIKE scan of the newest 100,000
 *     messages, newest first, stopping at 21: what the host would do without FTS5.
 *   Each is timed in wall-clock and CPU milliseconds: on a busy machine a query waits for the CPU.
 * Tiny (CI): 20,000 messages and 60 queries, to check the scenario still runs.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { HistoryStore } from '../../src/host/store/history-store.ts';
import { MIGRATIONS } from '../../src/host/store/migrations.ts';
import { foldWord, ftsExpression, searchWords } from '../../src/host/store/search-words.ts';
import { waitForQuiet } from '../lib/proc.ts';
import type { ScenarioOptions, ScenarioResult } from '../lib/scenario.ts';
import { fmt, mb, summarize, type Summary } from '../lib/stats.ts';

const VOCABULARY = 5_000;
const MEMBERS = 50;
const CHANNELS = 5;
const LIMIT = 20;

/** A small deterministic generator (mulberry32), so every run searches the same room. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pronounceable words, some accented, ranked: word 0 is the most frequent. */
export function vocabulary(next: () => number): string[] {
  const onsets = [
    'b',
    'c',
    'd',
    'f',
    'g',
    'k',
    'l',
    'm',
    'n',
    'p',
    'r',
    's',
    't',
    'v',
    'br',
    'st',
    'pl',
    'tr',
    'ch',
    'sh',
  ];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'é', 'ou', 'ai', 'ä'];
  const words = new Set<string>();
  while (words.size < VOCABULARY) {
    const syllables = 1 + Math.floor(next() * 3);
    let word = '';
    for (let s = 0; s < syllables; s++)
      word += onsets[Math.floor(next() * onsets.length)]! + vowels[Math.floor(next() * vowels.length)]!;
    if (next() < 0.3) word += 'n';
    words.add(word);
  }
  return [...words];
}

/** Draws ranks with probability ∝ 1 / (rank + 1)^1.07, as word frequencies in text roughly go. */
export function zipf(next: () => number, size: number): () => number {
  const cumulative = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) cumulative[i] = sum += 1 / Math.pow(i + 1, 1.07);
  return () => {
    const target = next() * sum;
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Writes a version-4 history of `count` messages straight into SQLite, as fast as it goes. */
export function buildVersion4(
  dir: string,
  count: number,
  words: string[],
  rank: () => number,
  next: () => number,
): number {
  const t0 = performance.now();
  const db = new DatabaseSync(joinPath(dir, 'beacon.db'));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;');
  for (const sql of MIGRATIONS.slice(0, 4)) db.exec(sql);
  db.exec('PRAGMA user_version = 4');
  const member = db.prepare('INSERT INTO members (id, name, token, joined_at, last_seen) VALUES (?, ?, ?, 0, 0)');
  for (let m = 0; m < MEMBERS; m++) member.run(`m_${m}`, `Member ${m}`, `t_${m}`);
  const insert = db.prepare(
    'INSERT INTO messages (seq, sender, recipient, text, ts, client_id) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const start = Date.UTC(2026, 0, 1);
  db.exec('BEGIN');
  for (let seq = 1; seq <= count; seq++) {
    const length = 3 + Math.floor(next() * 20);
    const parts: string[] = [];
    for (let w = 0; w < length; w++) parts.push(words[rank()]!);
    if (next() < 0.2) parts[0] = parts[0]![0]!.toUpperCase() + parts[0]!.slice(1);
    const sender = Math.floor(next() * MEMBERS);
    const recipient = next() < 0.1 ? `m_${(sender + 1 + Math.floor(next() * (MEMBERS - 1))) % MEMBERS}` : null;
    insert.run(seq, `m_${sender}`, recipient, `${parts.join(' ')}.`, start + seq * 30_000, `c${seq}`);
    if (seq % 100_000 === 0) db.exec('COMMIT; BEGIN');
  }
  db.exec('COMMIT');
  db.close();
  return performance.now() - t0;
}

type Kind = 'as written' | 'two common words' | 'rare word, short prefix';

function queries(kind: Kind, count: number, words: string[], rank: () => number, next: () => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (kind === 'as written') out.push(`${words[rank()]} ${words[rank()]}`);
    else if (kind === 'two common words')
      out.push(`${words[Math.floor(next() * 20)]} ${words[Math.floor(next() * 20)]}`);
    else out.push(`${words[1_000 + Math.floor(next() * 4_000)]} ${words[Math.floor(next() * 50)]!.slice(0, 2)}`);
  }
  return out;
}

/** Bytes the FTS5 index takes, when this SQLite has the dbstat table to tell. */
function ftsBytes(db: DatabaseSync): number | undefined {
  try {
    const row = db.prepare("SELECT sum(pgsize) AS bytes FROM dbstat WHERE name LIKE 'messages_fts%'").get() as {
      bytes: number | null;
    };
    return row.bytes ?? undefined;
  } catch {
    return undefined;
  }
}

/** Wall-clock and CPU milliseconds of `run`: CPU time is what the query costs; on a busy machine wall time also waits. */
function time(run: () => unknown): { wall: number; cpu: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  run();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

const percentile = (values: readonly number[], q: number): number =>
  [...values].sort((x, y) => x - y)[Math.max(0, Math.ceil(q * values.length) - 1)]!;

export async function search(options: ScenarioOptions): Promise<ScenarioResult> {
  const count = options.tiny ? 20_000 : 1_000_000;
  const perKind = options.tiny ? 20 : 300;
  const next = random(14);
  const words = vocabulary(next);
  const rank = zipf(next, words.length);
  const busy = await waitForQuiet(options.tiny ? 0 : 10_000);
  const dir = mkdtempSync(joinPath(tmpdir(), 'beacon-bench-search-'));
  try {
    const buildMs = buildVersion4(dir, count, words, rank, next);
    options.log(`  built a version-4 history of ${count.toLocaleString('en-US')} messages in ${fmt(buildMs / 1000)} s`);

    const t0 = performance.now();
    const store = HistoryStore.open(dir);
    const migrateMs = performance.now() - t0;
    if (!store.hasFts5) throw new Error('this SQLite has no FTS5');
    options.log(`  migration 5 + FTS5 index of every row: ${fmt(migrateMs / 1000)} s`);

    // A fifth of the room moves to channels, as if they had been there all along.
    const channelIds: string[] = [];
    for (let c = 0; c < CHANNELS; c++) {
      const update = store.createChannel({ name: `channel ${c}`, by: 'm_0', ts: Date.now() });
      if (update.kind === 'channel') channelIds.push(update.channel.id);
    }
    store.close();
    const raw = new DatabaseSync(joinPath(dir, 'beacon.db'));
    raw.exec('BEGIN');
    const move = raw.prepare('UPDATE messages SET channel = ? WHERE seq % 25 = ? AND recipient IS NULL');
    channelIds.forEach((id, c) => move.run(id, c));
    raw.exec('COMMIT');
    const dbBytes = statSync(joinPath(dir, 'beacon.db')).size;
    const ftsPages = ftsBytes(raw);
    raw.close();

    const reopened = HistoryStore.open(dir);
    const fts = new DatabaseSync(joinPath(dir, 'beacon.db'), { readOnly: true });
    const bare = fts.prepare(
      `SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ${LIMIT + 1}`,
    );
    // The store's own expansion of a last word longer than the prefix index, done here by hand.
    const termsOf = fts.prepare('SELECT term FROM messages_fts_terms WHERE term >= ? AND term < ? LIMIT 65');
    const expanded = (split: string[]): string => {
      const last = foldWord(split.at(-1)!);
      if ([...last].length <= 3) return ftsExpression(split);
      const terms = (termsOf.all(last, `${last}\u{10FFFF}`) as { term: string }[]).map((row) => row.term);
      return ftsExpression(split, terms.length > 64 ? undefined : terms);
    };
    const like = fts.prepare(
      `SELECT seq FROM messages WHERE seq > ? AND text LIKE ? AND text LIKE ? ORDER BY seq DESC LIMIT ${LIMIT + 1}`,
    );
    const likeFloor = Math.max(0, count - 100_000);
    const ways: { name: string; run: (query: string, split: string[]) => unknown }[] = [
      {
        name: 'HistoryStore.search (20 hits, highlights, 2+2 neighbours)',
        run: (query) => reopened.search({ viewer: 'm_1', channels: true, query, limit: LIMIT }),
      },
      { name: 'the same FTS5 match bare: newest 21 ids', run: (_, split) => bare.all(expanded(split)) },
      { name: 'FTS5\'s own prefix ("word"*), bare', run: (_, split) => bare.all(ftsExpression(split)) },
      {
        name: 'LIKE scan of the newest 100k (no FTS5)',
        run: (_, split) => like.all(likeFloor, `%${split[0]}%`, `%${split[1]}%`),
      },
    ];

    const rows: string[][] = [];
    const data: Record<string, Record<string, { wall: Summary; cpu: Summary; wallP95: number; cpuP95: number }>> = {};
    let storeHits = 0;
    let storeQueries = 0;
    for (const kind of ['as written', 'two common words', 'rare word, short prefix'] as const) {
      const list = queries(kind, perKind, words, rank, next);
      // Warm-up: the first queries read the index from disk into the page cache.
      for (const query of list.slice(0, 10)) for (const way of ways) way.run(query, searchWords(query)!);
      const times = ways.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
      for (const query of list) {
        const split = searchWords(query)!;
        ways.forEach((way, w) => {
          const { wall, cpu } = time(() => way.run(query, split));
          times[w]!.wall.push(wall);
          times[w]!.cpu.push(cpu);
        });
        storeHits += reopened.search({ viewer: 'm_1', channels: true, query, limit: LIMIT }).hits.length;
        storeQueries++;
      }
      data[kind] = {};
      const storeP95 = percentile(times[0]!.wall, 0.95);
      ways.forEach((way, w) => {
        const { wall, cpu } = times[w]!;
        const wallP95 = percentile(wall, 0.95);
        const cpuP95 = percentile(cpu, 0.95);
        data[kind]![way.name] = { wall: summarize(wall), cpu: summarize(cpu), wallP95, cpuP95 };
        rows.push([
          kind,
          way.name,
          fmt(percentile(wall, 0.5)),
          fmt(wallP95),
          fmt(percentile(wall, 0.99)),
          fmt(percentile(cpu, 0.5)),
          fmt(cpuP95),
          fmt(wallP95 / storeP95),
        ]);
      });
      options.log(
        `  ${kind}: ${ways.map((way, w) => `${way.name.split(' (')[0]} p95 ${fmt(percentile(times[w]!.wall, 0.95))} ms`).join('; ')}`,
      );
    }
    fts.close();
    reopened.close();
    return {
      scenario: 'search',
      tables: [
        {
          title: `Search over ${count.toLocaleString('en-US')} messages (${perKind} two-word queries per kind, ${fmt(storeHits / storeQueries, 1)} hits on average; ms, wall-clock and CPU; target p95 < 50)`,
          header: ['queries', 'how', 'p50', 'p95', 'p99', 'CPU p50', 'CPU p95', 'p95 vs store'],
          rows,
        },
        {
          title: 'Building',
          header: ['step', 'seconds', 'database MB', 'FTS index MB'],
          rows: [
            ['write the version-4 history (raw SQL)', fmt(buildMs / 1000), '–', '–'],
            [
              'HistoryStore.open: migration 5 + FTS5 index',
              fmt(migrateMs / 1000),
              mb(dbBytes),
              ftsPages === undefined ? '–' : mb(ftsPages),
            ],
          ],
        },
      ],
      notes: [
        `Vocabulary ${VOCABULARY} words drawn Zipf (s = 1.07), 3–22 words a message; 10 % direct messages between ${MEMBERS} members; every 25th room message in one of ${CHANNELS} channels. Viewer m_1 with channels.`,
        '"rare word, short prefix": a word of rank 1,000–5,000 then the first two letters of a top-50 word (the last word is a prefix).',
        `Machine busy before: ${Math.round(busy * 100)}%; load average during the run ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs (CPU time is what a query costs; wall time also waits for the CPU).`,
      ],
      data: { count, buildMs, migrateMs, dbBytes, ftsBytes: ftsPages, kinds: data, busy, loadavg: loadavg() },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
