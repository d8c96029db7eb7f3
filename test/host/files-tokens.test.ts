/** File tokens: stable per member and room, unforgeable without the room's secret file. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileTokens, SECRET_FILE } from '../../src/host/files/file-tokens.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

afterEach(cleanup);

describe('FileTokens', () => {
  it('gives a member the same token after a restart, and another room a different one', () => {
    const dir = tempDir();
    const token = FileTokens.load(dir).issue('m_ann');
    expect(FileTokens.load(dir).issue('m_ann')).toBe(token);
    expect(FileTokens.load(dir).memberOf(token)).toBe('m_ann');
    expect(FileTokens.load(tempDir()).memberOf(token)).toBeNull();
    expect(statSync(join(dir, SECRET_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, SECRET_FILE))).toHaveLength(32);
  });

  it('recognises nothing but its own tokens', () => {
    const tokens = FileTokens.load(tempDir());
    const ann = tokens.issue('m_ann');
    const mac = ann.split('.')[1]!;
    for (const forged of [
      '',
      '.',
      'm_ann',
      `m_bob.${mac}`,
      `m_ann.${mac.slice(0, -1)}`,
      `m_ann.${mac}x`,
      `m_ann.${'A'.repeat(43)}`,
      `../x.${mac}`,
    ]) {
      expect(tokens.memberOf(forged)).toBeNull();
    }
  });

  it('a damaged secret is replaced (tokens change; every welcome hands them out again)', () => {
    const dir = tempDir();
    const token = FileTokens.load(dir).issue('m_ann');
    writeFileSync(join(dir, SECRET_FILE), 'short');
    expect(FileTokens.load(dir).memberOf(token)).toBeNull();
  });
});
