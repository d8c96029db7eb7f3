import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/host/store/migrations.ts';
import { HistoryStore } from '../../src/host/store/history-store.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

afterEach(cleanup);

const message = (sender: string, clientId: string, recipient: string | null = null) => ({
  sender,
  recipient,
  text: `from ${sender}`,
  ts: 1_700_000_000_000,
  clientId,
});

describe('HistoryStore', () => {
  it('a fresh database is migrated to the latest schema, in WAL mode, and FTS5 is detected', () => {
    const dir = tempDir();
    const store = HistoryStore.open(dir);
    expect(store.schemaVersion).toBe(MIGRATIONS.length);
    expect(store.hasFts5).toBe(true);
    store.close();
    const db = new DatabaseSync(join(dir, 'beacon.db'));
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    db.close();
  });

  it('each migration upgrades an older database and keeps its data', () => {
    const dir = tempDir();
    const db = new DatabaseSync(join(dir, 'beacon.db'));
    db.exec(MIGRATIONS[0]!);
    db.exec('PRAGMA user_version = 1');
    db.prepare("INSERT INTO messages VALUES (1, 'm_a', NULL, 'kept', 1, 'c1')").run();
    db.close();
    const store = HistoryStore.open(dir);
    expect(store.schemaVersion).toBe(MIGRATIONS.length);
    expect(store.page('m_a', 'room', {}, 10).messages.map((m) => m.text)).toEqual(['kept']);
    store.setSetting('name', 'Room');
    expect(store.getSetting('name')).toBe('Room');
    store.close();
  });

  it('migration 3 gives the members of a version-2 database a last-seen time and keeps every row', () => {
    const dir = tempDir();
    const db = new DatabaseSync(join(dir, 'beacon.db'));
    db.exec(MIGRATIONS[0]!);
    db.exec(MIGRATIONS[1]!);
    db.exec('PRAGMA user_version = 2');
    db.prepare("INSERT INTO members VALUES ('m_a', 'Ann', 't_a', 1000)").run();
    db.prepare("INSERT INTO messages VALUES (1, 'm_a', NULL, 'kept', 1, 'c1')").run();
    db.prepare("INSERT INTO room VALUES ('name', 'Team room')").run();
    db.close();
    const store = HistoryStore.open(dir);
    expect(store.schemaVersion).toBe(MIGRATIONS.length);
    expect(store.findMemberByToken('t_a')).toEqual({ id: 'm_a', name: 'Ann', token: 't_a', joinedAt: 1000 });
    expect(store.recentIdentities(1000)).toEqual([{ id: 'm_a', name: 'Ann' }]);
    expect(store.recentIdentities(1001)).toEqual([]);
    expect(store.page('m_a', 'room', {}, 10).messages.map((m) => m.text)).toEqual(['kept']);
    expect(store.getSetting('name')).toBe('Team room');
    store.close();
  });

  it('numbers messages in order and stores a resend (same sender and client id) once', () => {
    const store = HistoryStore.open(tempDir());
    expect(store.append(message('m_a', 'c1')).message.seq).toBe(1);
    expect(store.append(message('m_b', 'c1')).message.seq).toBe(2);
    const resend = store.append(message('m_a', 'c1'));
    expect(resend).toMatchObject({ duplicate: true, message: { seq: 1 } });
    expect(store.append(message('m_a', 'c2')).message.seq).toBe(3);
    store.close();
  });

  it('keeps everything across a restart and continues the numbering', () => {
    const dir = tempDir();
    const first = HistoryStore.open(dir);
    for (let i = 0; i < 50; i++) first.append(message('m_a', `c${i}`));
    first.saveMember({ id: 'm_a', name: 'Ann', token: 't_a', joinedAt: 1 });
    first.close();
    const second = HistoryStore.open(dir);
    expect(second.lastSeq).toBe(50);
    expect(second.append(message('m_a', 'c50')).message.seq).toBe(51);
    expect(second.findMemberByToken('t_a')).toEqual({ id: 'm_a', name: 'Ann', token: 't_a', joinedAt: 1 });
    second.close();
  });

  it('pages backwards and forwards, and shows direct messages only to the two people in them', () => {
    const store = HistoryStore.open(':memory:');
    for (let i = 0; i < 5; i++) store.append(message('m_a', `r${i}`));
    store.append(message('m_a', 'd1', 'm_b'));
    store.append(message('m_c', 'd2', 'm_a'));
    expect(store.page('m_b', 'all', {}, 100).messages.map((m) => m.clientId)).toEqual([
      'r0',
      'r1',
      'r2',
      'r3',
      'r4',
      'd1',
    ]);
    expect(store.page('m_c', { with: 'm_b' }, {}, 100).messages).toEqual([]);
    expect(store.page('m_a', { with: 'm_c' }, {}, 100).messages.map((m) => m.clientId)).toEqual(['d2']);
    const latest = store.page('m_a', 'room', {}, 2);
    expect(latest).toMatchObject({ hasMore: true });
    expect(latest.messages.map((m) => m.seq)).toEqual([4, 5]);
    expect(store.page('m_a', 'room', { before: 4 }, 10).messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(store.page('m_b', 'all', { after: 3 }, 10).messages.map((m) => m.seq)).toEqual([4, 5, 6]);
    store.close();
  });

  it('a page of large messages stops at the byte budget and says there is more', () => {
    const store = HistoryStore.open(':memory:');
    const big = 'é'.repeat(30_000); // 60,000 UTF-8 bytes
    for (let i = 0; i < 10; i++) store.append({ ...message('m_a', `c${i}`), text: big });
    const latest = store.page('m_a', 'room', {}, 100, 200_000);
    expect(latest.messages.map((m) => m.seq)).toEqual([8, 9, 10]);
    expect(latest.hasMore).toBe(true);
    const older = store.page('m_a', 'room', { before: 8 }, 100, 200_000);
    expect(older.messages.map((m) => m.seq)).toEqual([5, 6, 7]);
    const resumed = store.page('m_a', 'all', { after: 2 }, 100, 200_000);
    expect(resumed.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(resumed.hasMore).toBe(true);
    const rest = store.page('m_a', 'all', { after: 8 }, 100, 200_000);
    expect(rest).toMatchObject({ hasMore: false });
    expect(rest.messages.map((m) => m.seq)).toEqual([9, 10]);
    store.close();
  });

  it('a page always holds at least one message', () => {
    const store = HistoryStore.open(':memory:');
    store.append({ ...message('m_a', 'c1'), text: 'x'.repeat(50_000) });
    store.append({ ...message('m_a', 'c2'), text: 'y'.repeat(50_000) });
    const latest = store.page('m_a', 'room', {}, 100, 1_000);
    expect(latest.messages.map((m) => m.seq)).toEqual([2]);
    expect(latest.hasMore).toBe(true);
    const last = store.page('m_a', 'room', { before: 2 }, 100, 1_000);
    expect(last.messages.map((m) => m.seq)).toEqual([1]);
    expect(last.hasMore).toBe(false);
    store.close();
  });

  it('identities that never wrote and were not seen for a day are pruned; authors and recipients of messages are kept', () => {
    const store = HistoryStore.open(':memory:');
    const day = 24 * 60 * 60 * 1000;
    const now = 10 * day;
    const member = (id: string, joinedAt: number) =>
      store.saveMember({ id, name: id.toUpperCase(), token: `t_${id}`, joinedAt });
    member('m_author', 0);
    member('m_recipient', 0);
    member('m_lurker', 0);
    member('m_back', 0);
    member('m_new', now - 1000);
    for (let i = 0; i < 500; i++) member(`m_fuzz${i}`, i);
    store.touchMember('m_back', now - 60_000);
    store.append(message('m_author', 'c1', 'm_recipient'));

    expect(store.pruneIdentities(day, now)).toBe(501);
    expect(store.findMemberByToken('t_m_lurker')).toBeUndefined();
    expect(store.findMemberByToken('t_m_fuzz7')).toBeUndefined();
    for (const kept of ['m_author', 'm_recipient', 'm_back', 'm_new']) {
      expect(store.findMemberByToken(`t_${kept}`)).toMatchObject({ id: kept });
    }
    expect(store.recentIdentities(now - day)).toEqual([
      { id: 'm_back', name: 'M_BACK' },
      { id: 'm_new', name: 'M_NEW' },
    ]);
    expect(store.pruneIdentities(day, now)).toBe(0);
    store.close();
  });

  it.skipIf(process.platform === 'win32')('the history files are readable only by their owner', () => {
    const dir = join(tempDir(), 'room');
    const store = HistoryStore.open(dir);
    store.saveMember({ id: 'm_a', name: 'Ann', token: 't_secret', joinedAt: 1 });
    store.append(message('m_a', 'c1'));
    const mode = (path: string) => statSync(path).mode & 0o777;
    expect(mode(dir)).toBe(0o700);
    for (const file of ['beacon.db', 'beacon.db-wal', 'beacon.db-shm']) expect(mode(join(dir, file))).toBe(0o600);
    store.close();
  });

  it.skipIf(process.platform === 'win32')('history left readable by an older version is made private', () => {
    const dir = tempDir();
    const first = HistoryStore.open(dir);
    first.saveMember({ id: 'm_a', name: 'Ann', token: 't_secret', joinedAt: 1 });
    first.close();
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'beacon.db'), 0o644);
    const second = HistoryStore.open(dir);
    second.append(message('m_a', 'c1'));
    const mode = (path: string) => statSync(path).mode & 0o777;
    expect(mode(dir)).toBe(0o700);
    for (const file of ['beacon.db', 'beacon.db-wal', 'beacon.db-shm']) expect(mode(join(dir, file))).toBe(0o600);
    second.close();
  });

  it('an unreadable data folder is a clear error', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a folder');
    expect(() => HistoryStore.open(file)).toThrow(
      expect.objectContaining({
        code: 'BEACON_ERR_STORE',
        message: expect.stringMatching(/^The room history could not be opened/),
      }),
    );
  });
});
