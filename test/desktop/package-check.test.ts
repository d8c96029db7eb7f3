/**
 * The parts of the packaging check (scripts/check-package.ts) that need no electron-builder run: what may be
 * inside the app, and the stand-in Electron's fuse wire. The check itself runs in CI (.ci/run).
 */
import { flipFuses, FuseV1Options, FuseVersion } from '@electron/fuses';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAllowed, makeStandInElectron, readFuseWire, strays } from '../../scripts/check-package.ts';

const folders: string[] = [];
afterAll(() => folders.forEach((f) => rmSync(f, { recursive: true, force: true })));

describe('what an installer may carry', () => {
  it('the app’s own build and package.json, but no source maps', () => {
    expect(isAllowed('/package.json')).toBe(true);
    expect(isAllowed('/out/main/index.js')).toBe(true);
    expect(isAllowed('/out/renderer/assets/index-abc.js')).toBe(true);
    expect(isAllowed('/out/main/index.js.map')).toBe(false);
    expect(isAllowed('/src/main/index.ts')).toBe(false);
  });

  it('no package at all unless it is named as a runtime module', () => {
    const entries = [
      { path: '/out/main/index.js', bytes: 1000 },
      { path: '/node_modules/@oven/bun-linux-x64/bin/bun', bytes: 107_000_000 },
      { path: '/node_modules/@oven/bun-linux-x64/package.json', bytes: 400 },
      { path: '/node_modules/ws/index.js', bytes: 500 },
    ];
    expect([...strays(entries)]).toEqual([
      ['node_modules/@oven/bun-linux-x64', { files: 2, bytes: 107_000_400 }],
      ['node_modules/ws', { files: 1, bytes: 500 }],
    ]);
    expect([...strays(entries, ['ws'])].map(([from]) => from)).toEqual(['node_modules/@oven/bun-linux-x64']);
  });
});

describe('the stand-in Electron', () => {
  it('carries Electron’s default fuses, which @electron/fuses flips as electron-builder asks', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'beacon-standin-'));
    folders.push(folder);
    makeStandInElectron(folder);
    const executable = join(folder, 'electron');
    expect(readFuseWire(readFileSync(executable))).toBe('10110001');
    await flipFuses(executable, {
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
    });
    expect(readFuseWire(readFileSync(executable))).toBe('01110101');
  });
});
