/**
 * Search at the host (docs/PROTOCOL.md §19.8) over a real SQLite file with FTS5: who may find
 * what, what a query means whatever is typed into it, and where the words are drawn.
 */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Update } from '../../src/shared/protocol.ts';
import { HistoryStore, type NewMessage, type SearchQuery } from '../../src/host/store/history-store.ts';
import { ensureSearchIndex } from '../../src/host/store/search-index.ts';
import { highlightRanges, searchWords } from '../../src/host/store/search-words.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

afterEach(cleanup);

const ANN = 'm_ann';
const BOB = 'm_bob';
const CAT = 'm_cat';
let clientIds = 0;

function send(store: HistoryStore, sender: string, text: string, extra: Partial<NewMessage> = {}): number {
  return store.append({ sender, recipient: null, text, ts: 1_000 + clientIds, clientId: `c${clientIds++}`, ...extra })
    .message.seq;
}

const find = (store: HistoryStore, viewer: string, query: string, more: Partial<SearchQuery> = {}) =>
  store.search({ viewer, channels: true, query, limit: 20, ...more });
const seqsOf = (result: ReturnType<HistoryStore['search']>) => result.hits.map((hit) => hit.message.seq);

describe('who finds what', () => {
  it("a third member never finds another pair's direct message, whatever they narrow by", () => {
    const store = HistoryStore.open(tempDir());
    const secret = send(store, ANN, 'the budget is 40k', { recipient: BOB });
    const open = send(store, CAT, 'what is the budget?');
    expect(seqsOf(find(store, ANN, 'budget'))).toEqual([open, secret]);
    expect(seqsOf(find(store, BOB, 'budget'))).toEqual([open, secret]);
    expect(seqsOf(find(store, CAT, 'budget'))).toEqual([open]);
    expect(seqsOf(find(store, CAT, 'budget', { conversation: { with: ANN } }))).toEqual([]);
    expect(seqsOf(find(store, CAT, 'budget', { conversation: { with: BOB } }))).toEqual([]);
    expect(seqsOf(find(store, CAT, 'budget', { from: ANN }))).toEqual([]);
    expect(seqsOf(find(store, CAT, '40k'))).toEqual([]);
    // Nor as a neighbour of a hit of their own.
    const near = send(store, CAT, 'budget again');
    send(store, ANN, 'budget, only Bob', { recipient: BOB });
    const hit = find(store, CAT, 'again').hits[0]!;
    expect(hit.message.seq).toBe(near);
    expect([...hit.before, ...hit.after].map((m) => m.seq)).toEqual([open]);
    store.close();
  });

  it("a client without channels finds only the default channel's messages and its own DMs", () => {
    const store = HistoryStore.open(tempDir());
    const id = (store.createChannel({ name: 'ops', by: ANN, ts: 1 }) as Extract<Update, { kind: 'channel' }>).channel
      .id;
    const inRoom = send(store, ANN, 'deploy friday');
    const inOps = send(store, ANN, 'deploy tonight', { channel: id });
    const dm = send(store, BOB, 'deploy with me', { recipient: ANN });
    expect(seqsOf(find(store, ANN, 'deploy'))).toEqual([dm, inOps, inRoom]);
    expect(seqsOf(find(store, ANN, 'deploy', { channels: false }))).toEqual([dm, inRoom]);
    expect(seqsOf(find(store, ANN, 'deploy', { conversation: { channel: id } }))).toEqual([inOps]);
    expect(seqsOf(find(store, ANN, 'deploy', { conversation: 'room' }))).toEqual([inRoom]);
    expect(seqsOf(find(store, ANN, 'deploy', { conversation: { with: BOB } }))).toEqual([dm]);
    store.close();
  });

  it('a deleted message is never found; an edited one is found by its new words only', () => {
    const dir = tempDir();
    const store = HistoryStore.open(dir);
    const gone = send(store, ANN, 'password hunter2');
    const edited = send(store, ANN, 'meet at noon');
    store.deleteMessage({ seq: gone, by: ANN, ts: 1 });
    store.editMessage({ seq: edited, by: ANN, text: 'meet at three', ts: 2 });
    expect(seqsOf(find(store, BOB, 'hunter2'))).toEqual([]);
    expect(seqsOf(find(store, BOB, 'password'))).toEqual([]);
    expect(seqsOf(find(store, BOB, 'noon'))).toEqual([]);
    expect(find(store, BOB, 'three').hits[0]?.message).toMatchObject({
      seq: edited,
      text: 'meet at three',
      editedAt: 2,
    });
    // The start of a word the edit brought in finds it too, as does one written after a restart.
    expect(seqsOf(find(store, BOB, 'meet thre'))).toEqual([edited]);
    store.close();
    const again = HistoryStore.open(dir);
    const later = send(again, CAT, 'threshold reached');
    expect(seqsOf(find(again, BOB, 'thres'))).toEqual([later]);
    expect(seqsOf(find(again, BOB, 'thr'))).toEqual([later, edited]);
    again.close();
  });
});

describe('results', () => {
  it('come newest first, page with before, and narrow by author and time', () => {
    const store = HistoryStore.open(tempDir());
    const seqs = Array.from({ length: 7 }, (_, i) => send(store, i % 2 ? BOB : ANN, `standup note ${i}`));
    const first = find(store, CAT, 'standup', { limit: 3 });
    expect(seqsOf(first)).toEqual([7, 6, 5]);
    expect(first.hasMore).toBe(true);
    const second = find(store, CAT, 'standup', { limit: 3, before: 5 });
    expect(seqsOf(second)).toEqual([4, 3, 2]);
    const last = find(store, CAT, 'standup', { limit: 3, before: 2 });
    expect(seqsOf(last)).toEqual([1]);
    expect(last.hasMore).toBe(false);
    expect(seqsOf(find(store, CAT, 'standup', { from: BOB }))).toEqual([6, 4, 2]);
    const ts = (seq: number) => store.getMessage(seq)!.ts;
    expect(seqsOf(find(store, CAT, 'standup', { since: ts(seqs[2]!), until: ts(seqs[5]!) }))).toEqual([5, 4, 3]);
    store.close();
  });

  it('carry two live neighbours of the same conversation each side, oldest first', () => {
    const store = HistoryStore.open(tempDir());
    const id = (store.createChannel({ name: 'ops', by: ANN, ts: 1 }) as Extract<Update, { kind: 'channel' }>).channel
      .id;
    const r1 = send(store, ANN, 'one');
    send(store, ANN, 'elsewhere', { channel: id });
    const r2 = send(store, ANN, 'two');
    const dropped = send(store, ANN, 'three');
    const hit = send(store, BOB, 'the needle');
    send(store, ANN, 'dm', { recipient: BOB });
    const r4 = send(store, ANN, 'four');
    const r5 = send(store, ANN, 'five');
    send(store, ANN, 'six');
    store.deleteMessage({ seq: dropped, by: ANN, ts: 1 });
    const [found] = find(store, CAT, 'needle').hits;
    expect(found?.message.seq).toBe(hit);
    expect(found?.before.map((m) => m.seq)).toEqual([r1, r2]);
    expect(found?.after.map((m) => m.seq)).toEqual([r4, r5]);
    store.close();
  });

  it('highlight the words where they are, accents and case ignored, the last word also as a prefix', () => {
    const store = HistoryStore.open(tempDir());
    const cases: [string, string, [number, number][]][] = [
      [
        'Café crème brûlée',
        'cafe creme',
        [
          [0, 4],
          [5, 10],
        ],
      ],
      ['cafe\u0301 noir', 'CAFÉ', [[0, 5]]],
      [
        'Building the builder',
        'buil',
        [
          [0, 8],
          [13, 20],
        ],
      ],
      // "שלומך" is written with a medial mem, "שלום" with a final one: not the same letters.
      [
        'שלום עולם, מה שלומך, שלום',
        'שלום',
        [
          [0, 4],
          [21, 25],
        ],
      ],
      ['مرحبا بالعالم', 'مرحبا', [[0, 5]]],
      [
        '🎉 party at 😀 noon 🎉',
        'party noon',
        [
          [3, 8],
          [15, 19],
        ],
      ],
      ['İstanbul trip', 'istanbul', [[0, 8]]],
      ['Ｆｕｌｌ width', 'width', [[5, 10]]],
    ];
    for (const [text] of cases) send(store, ANN, text);
    for (const [text, query, ranges] of cases) {
      const hits = find(store, BOB, query).hits.filter((hit) => hit.message.text === text);
      expect(
        hits.map((hit) => hit.highlights),
        `${query} in ${text}`,
      ).toEqual([ranges]);
    }
    store.close();
  });

  it('highlights mark exactly the words FTS5 itself matched', () => {
    const dir = tempDir();
    const store = HistoryStore.open(dir);
    const texts = [
      'Ünïcödé wörds ände Ende',
      'x_y foo-bar foo.bar foo/bar',
      "don’t can't naïve NAÏVE naive",
      'ǅemal ǆemal DŽEMAL',
      'Straße strasse STRASSE',
      '日本語のテキスト 日本',
      'a\u0301b ab á-b',
      'emoji👍inside word👍word',
      'ﬁne fine',
      'ΣΊΣΥΦΟΣ σίσυφος',
    ];
    for (const text of texts) send(store, ANN, text);
    const queries = [
      'unicode',
      'ande',
      'ende',
      'foo bar',
      'naive',
      'dzemal',
      'ǆemal',
      'strasse',
      'straße',
      '日本',
      'ab',
      'emoji',
      'word',
      'fine',
      'σισυφος',
      'can',
      't',
    ];
    store.close();
    const db = new DatabaseSync(join(dir, 'beacon.db'), { readOnly: true });
    const fts = db.prepare(
      'SELECT rowid AS seq, highlight(messages_fts, 0, char(1), char(2)) AS marked FROM messages_fts WHERE messages_fts MATCH ?',
    );
    for (const query of queries) {
      const words = searchWords(query)!;
      const match = words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ');
      for (const row of fts.all(match) as { seq: number; marked: string }[]) {
        const text = texts[row.seq - 1]!;
        const expected: [number, number][] = [];
        let offset = 0;
        let start = 0;
        for (const char of row.marked) {
          if (char === '\u0001') start = offset;
          else if (char === '\u0002') expected.push([start, offset]);
          else offset += char.length;
        }
        expect(highlightRanges(text, words), `${query} in ${text}`).toEqual(expected);
      }
    }
    db.close();
  });
});

describe('hostile queries', () => {
  it('FTS5 syntax typed into a query is only words: no error, no operator, no other column', () => {
    const store = HistoryStore.open(tempDir());
    const plain = send(store, ANN, 'budget near the river');
    const other = send(store, ANN, 'budget');
    const queries: [string, number[]][] = [
      ['NEAR(budget river)', [plain]],
      ['budget NOT river', []], // "not" is a word here, and no message holds it
      ['budget OR nothing', []],
      ['"budget', [other, plain]],
      ['budget"', [other, plain]],
      ['"', []],
      ['*', []],
      ['budget*', [other, plain]],
      ['-river budget', [plain]],
      ['^budget', [other, plain]],
      ['text:budget', []], // "text" is a word too
      ['messages_fts:budget', []],
      ['{text}: budget', []],
      ['budget AND', []],
      ['(budget', [other, plain]],
      ['budget)', [other, plain]],
      ["budget'; DROP TABLE messages; --", []],
      ['\u0000budget', [other, plain]],
      ['', []],
      ['   ', []],
      ['👍🎉', []],
      ['one two three four five six seven eight nine ten eleven', []],
    ];
    for (const [query, expected] of queries) {
      expect(seqsOf(find(store, BOB, query)), query).toEqual(expected);
    }
    expect(store.page(BOB, 'room', {}, 10).messages).toHaveLength(2);
    store.close();
  });

  it('a 10,000-character query, RTL marks, zero-width joiners and combining floods find nothing and throw nothing', () => {
    const store = HistoryStore.open(tempDir());
    send(store, ANN, 'ordinary words');
    for (const query of [
      'a'.repeat(10_000),
      'word '.repeat(2_000),
      '\u202Eordinary\u202C',
      'ord\u200Dinary',
      `o${'\u0301'.repeat(5_000)}`,
      '\uFFFF\uFFFE',
      '🏳️‍🌈',
    ]) {
      expect(() => find(store, BOB, query)).not.toThrow();
    }
    expect(seqsOf(find(store, BOB, '\u202Eordinary\u202C'))).toEqual([1]);
    store.close();
  });

  it('a query of more than 10 words finds nothing', () => {
    expect(searchWords('1 2 3 4 5 6 7 8 9 10')).toHaveLength(10);
    expect(searchWords('1 2 3 4 5 6 7 8 9 10 11')).toBeNull();
  });
});

describe('the index', () => {
  it('a history written while search was unavailable (no FTS5) is indexed again when search is back', () => {
    const dir = tempDir();
    const store = HistoryStore.open(dir);
    send(store, ANN, 'before the gap');
    store.close();
    // As an open by a SQLite without FTS5 leaves it, and a message written then.
    const db = new DatabaseSync(join(dir, 'beacon.db'));
    ensureSearchIndex(db, false);
    db.prepare(
      "INSERT INTO messages (seq, sender, recipient, text, ts, client_id) VALUES (2, ?, NULL, 'during the gap', 5, 'g')",
    ).run(ANN);
    db.close();
    const again = HistoryStore.open(dir);
    expect(seqsOf(find(again, BOB, 'gap'))).toEqual([2, 1]);
    again.close();
  });

  it('stays whole through batches: edits and deletions before and after a message is indexed, and a crash before the batch', () => {
    const dir = tempDir();
    const store = HistoryStore.open(dir);
    const seqs = Array.from({ length: 70 }, (_, i) => send(store, ANN, `note ${i} alpha`));
    // seq 1 is in the index already (a batch of 64 went in); seq 70 is not yet.
    for (const seq of [1, 70]) store.editMessage({ seq, by: ANN, text: `note ${seq} bravo`, ts: 5 });
    for (const seq of [2, 69]) store.deleteMessage({ seq, by: ANN, ts: 6 });
    expect(seqsOf(find(store, BOB, 'bravo'))).toEqual([70, 1]);
    expect(find(store, BOB, 'alpha', { limit: 100 }).hits).toHaveLength(66);
    const more = [send(store, BOB, 'charlie one'), send(store, BOB, 'charlie two')];
    store.editMessage({ seq: more[0]!, by: BOB, text: 'charlie uno', ts: 7 });
    // No close: the process dies here, with the last messages not yet indexed.
    const reopened = HistoryStore.open(dir);
    expect(seqsOf(find(reopened, ANN, 'charlie'))).toEqual([...more].reverse());
    expect(seqsOf(find(reopened, ANN, 'uno'))).toEqual([more[0]]);
    reopened.close();
    store.close();
    const db = new DatabaseSync(join(dir, 'beacon.db'));
    // FTS5's own check: every indexed word is in the row it points to, and nothing is missing.
    expect(() => db.exec("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")).not.toThrow();
    db.close();
    expect(seqs).toHaveLength(70);
  });

  it('search without FTS5 is refused with BEACON_ERR_SEARCH_UNAVAILABLE, not an SQL error', () => {
    const store = HistoryStore.open(tempDir());
    Object.defineProperty(store, 'hasFts5', { value: false });
    expect(() => find(store, ANN, 'x')).toThrow(expect.objectContaining({ code: 'BEACON_ERR_SEARCH_UNAVAILABLE' }));
    store.close();
  });
});
