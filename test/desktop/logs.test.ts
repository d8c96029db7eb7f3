/** The main process's log file (src/main/app-log.ts): where it is, how it rotates, how errors are written. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAppLog, describeError, LOG_FILE_NAME, logsFolder, MAX_LOG_BYTES } from '../../src/main/app-log.ts';

const dirs: string[] = [];
const temp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-logs-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the log file', () => {
  it('lives in logs/ of the user data folder, readable by this user only', () => {
    const userData = temp();
    const log = createAppLog(logsFolder(userData), { console: false, id: 'where' });
    log.info('Beacon started');
    const file = join(userData, 'logs', LOG_FILE_NAME);
    expect(log.folder).toBe(join(userData, 'logs'));
    expect(readFileSync(file, 'utf8')).toMatch(
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[info\]\s+Beacon started\n$/,
    );
    if (process.platform !== 'win32') {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(log.folder).mode & 0o777).toBe(0o700);
    }
  });

  it('rotates past its size: one older file is kept, so the folder stays within twice the limit', () => {
    const folder = temp();
    const maxBytes = 4_096;
    const log = createAppLog(folder, { console: false, maxBytes, id: 'rotation' });
    const line = 'Member joined (2 in the room) '.padEnd(100, '.');
    for (let i = 0; i < 200; i++) log.info(`${i} ${line}`);
    expect(readdirSync(folder).sort()).toEqual(['main.log', 'main.old.log']);
    const current = statSync(join(folder, 'main.log')).size;
    const older = statSync(join(folder, 'main.old.log')).size;
    // A file is rotated at the first write past the limit: it can exceed it by one line at most.
    expect(current).toBeLessThanOrEqual(maxBytes + 200);
    // electron-log counts what it writes (a few bytes off the disk's count): the old file is about the limit.
    expect(Math.abs(older - maxBytes)).toBeLessThan(200);
    // The newest line is in main.log, and nothing is lost between the two files but older rotations.
    expect(readFileSync(join(folder, 'main.log'), 'utf8')).toContain(`199 ${line}`);
  });

  it('keeps 1 MiB per file by default', () => {
    expect(MAX_LOG_BYTES).toBe(1024 * 1024);
  });

  it('writes an error as its code and message with where it came from', () => {
    const error = Object.assign(new Error('listen EADDRINUSE: address already in use :::4747'), { code: 'EADDRINUSE' });
    const text = describeError(error);
    expect(text.split('\n')[0]).toBe('EADDRINUSE: listen EADDRINUSE: address already in use :::4747');
    expect(text).toContain('logs.test.ts');
    expect(describeError('a string')).toBe('string');
    expect(describeError({ token: 'secret' })).toBe('object');
    const folder = temp();
    const log = createAppLog(folder, { console: false, id: 'errors' });
    log.error('Host error', error);
    expect(readFileSync(join(folder, LOG_FILE_NAME), 'utf8')).toMatch(/\[error\]\s+Host error EADDRINUSE: listen/);
    expect(existsSync(join(folder, 'main.old.log'))).toBe(false);
  });
});
