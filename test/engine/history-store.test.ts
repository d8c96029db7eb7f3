import { writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/main/store/migrations.ts';
import { HistoryStore } from '../../src/main/store/history-store.ts';
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
