/**
 * The packaging check (issue 15): builds the unpacked Linux app the way `npm run dist` would, but with a
 * stand-in Electron distribution (the real one cannot be downloaded here), and fails when the app
 *
 *  - carries anything but its own build (out/**) and package.json: main bundles its dependencies, so no
 *    node_modules may ship (a package listed under `dependencies` would; the benchmark's Bun lives in
 *    bench/package.json for that reason);
 *  - grows past PAYLOAD_BUDGET_BYTES (app.asar plus app.asar.unpacked);
 *  - does not have the fuses Beacon requires flipped in its executable (electron-builder.yml electronFuses);
 *  - cannot start from the packaged files alone: app.asar is extracted to a folder with no node_modules
 *    above it, and the built shell is run there against the recorded Electron stand-in of the shell test.
 *
 *   npm run check:package [-- --budget-mb 4 --keep]
 *
 * Run after `npm run build` (it packages out/ as it is).
 */
import { extractAll, listPackage, statFile } from '@electron/asar';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PROBE_PREFIX } from './packaged-host-probe.ts';

const ROOT = resolve(import.meta.dirname, '..');

/**
 * app.asar + app.asar.unpacked may not pass this. Measured 2.6 MB when main began bundling its
 * dependencies (issue 15; before: 10.5 MB app.asar + 107 MB unpacked Bun); about 1.5× that leaves room to grow
 * while a new dependency tree or a stray binary still fails.
 */
export const PAYLOAD_BUDGET_BYTES = 4_000_000;

/**
 * node_modules packages the app may carry: none, main bundles what it imports. A package that cannot be bundled
 * (a native add-on, say) would be named here with its reason.
 */
export const RUNTIME_MODULES: readonly string[] = [];

/** The fuses every packaged Beacon must have (indices of @electron/fuses' FuseV1Options). */
export const REQUIRED_FUSES = [
  { index: 0, name: 'RunAsNode', on: false },
  { index: 1, name: 'EnableCookieEncryption', on: true },
  { index: 2, name: 'EnableNodeOptionsEnvironmentVariable', on: false },
  { index: 3, name: 'EnableNodeCliInspectArguments', on: false },
  { index: 4, name: 'EnableEmbeddedAsarIntegrityValidation', on: true },
  { index: 5, name: 'OnlyLoadAppFromAsar', on: true },
  { index: 7, name: 'GrantFileProtocolExtraPrivileges', on: false },
] as const;

/** @electron/fuses' marker: the fuse wire follows it (version byte, length byte, one '0'/'1' per fuse). */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** Electron's defaults for the eight V1 fuses: run-as-node, NODE_OPTIONS, --inspect and file:// privileges on. */
const DEFAULT_FUSE_WIRE = '10110001';

/** Where a path inside app.asar (or app.asar.unpacked) comes from, for the report. */
export function origin(path: string): string {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] !== 'node_modules') return parts[0] ?? '/';
  const name = parts[1]?.startsWith('@') ? `${parts[1]}/${parts[2] ?? ''}` : (parts[1] ?? '');
  return `node_modules/${name}`;
}

/** Whether the app may carry this file: its own build (no source maps), its package.json, or an allowed runtime module. */
export function isAllowed(path: string, runtimeModules: readonly string[] = RUNTIME_MODULES): boolean {
  const clean = `/${path.split('/').filter(Boolean).join('/')}`;
  if (clean === '/package.json') return true;
  if (clean.startsWith('/out/')) return !clean.endsWith('.map');
  const from = origin(clean);
  return from.startsWith('node_modules/') && runtimeModules.some((m) => from === `node_modules/${m}`);
}

/** Paths the app must not carry, grouped by where they come from, with their bytes. */
export function strays(
  entries: readonly { path: string; bytes: number }[],
  runtimeModules: readonly string[] = RUNTIME_MODULES,
): Map<string, { files: number; bytes: number }> {
  const found = new Map<string, { files: number; bytes: number }>();
  for (const { path, bytes } of entries) {
    if (isAllowed(path, runtimeModules)) continue;
    const from = origin(path);
    const seen = found.get(from) ?? { files: 0, bytes: 0 };
    found.set(from, { files: seen.files + 1, bytes: seen.bytes + bytes });
  }
  return found;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;

/**
 * A stand-in for Electron's Linux distribution: the executable (a script that would exit at once, carrying a
 * fuse wire with Electron's defaults so electron-builder's fuse flipping has something to flip) and resources/.
 * electron-builder copies the folder, renames `electron` to `beacon` and writes app.asar into resources/.
 */
export function makeStandInElectron(folder: string): void {
  mkdirSync(join(folder, 'resources'), { recursive: true });
  const wire = `${FUSE_SENTINEL}\x01${String.fromCharCode(DEFAULT_FUSE_WIRE.length)}${DEFAULT_FUSE_WIRE}`;
  const executable = join(folder, 'electron');
  writeFileSync(
    executable,
    `#!/bin/sh\n# stand-in for Electron (scripts/check-package.ts)\nexit 0\n# ${wire}\n`,
    'latin1',
  );
  chmodSync(executable, 0o755);
}

/** The fuse wire of an executable, as '0'/'1' per fuse; null when it has none. */
export function readFuseWire(bytes: Buffer): string | null {
  const at = bytes.indexOf(FUSE_SENTINEL, 0, 'latin1');
  if (at < 0) return null;
  const start = at + FUSE_SENTINEL.length;
  const length = bytes[start + 1] ?? 0;
  return bytes.subarray(start + 2, start + 2 + length).toString('latin1');
}

function walk(folder: string, base = folder): { path: string; bytes: number }[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = join(folder, entry.name);
    if (entry.isDirectory()) return walk(full, base);
    return [{ path: `/${relative(base, full)}`, bytes: lstatSync(full).size }];
  });
}

function fail(problems: string[]): never {
  console.error(`\npackage check FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}

/** Runs the packaged main (extracted, with no node_modules above it) against the shell test's Electron stand-in. */
export function bootsAlone(extracted: string, scratch: string): string | null {
  const standIn = join(ROOT, 'test/desktop/shell-standin');
  const userData = join(scratch, 'user-data');
  mkdirSync(userData);
  const result = spawnSync(
    process.execPath,
    ['--import', pathToFileURL(join(standIn, 'register.ts')).href, join(standIn, 'driver.ts'), 'app'],
    {
      cwd: scratch,
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? scratch,
        BEACON_SHELL_OUT: join(extracted, 'out'),
        BEACON_STANDIN_USER_DATA: userData,
        BEACON_DISCOVERY: 'off',
      },
    },
  );
  const line = result.stdout.split('\n').find((l) => l.startsWith('BEACON-SHELL-REPORT '));
  if (!line)
    return `the packaged main did not report (exit ${result.status ?? result.signal}): ${result.stderr.slice(-2000)}`;
  const report = JSON.parse(line.slice('BEACON-SHELL-REPORT '.length)) as { loadError?: string; errors?: string[] };
  if (report.loadError) return `the packaged main does not load on its own: ${report.loadError.split('\n')[0]}`;
  if (report.errors?.length) return `the packaged main raised errors: ${report.errors.join('; ').slice(0, 2000)}`;
  return null;
}

/** Hosts a room from the packaged main (scripts/packaged-host-probe.ts): TLS identity, SQLite, ws, the page. */
export function hostsAlone(extracted: string, scratch: string): string | null {
  const userData = mkdtempSync(join(scratch, 'host-user-data-'));
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(ROOT, 'test/desktop/shell-standin/register.ts')).href,
      join(ROOT, 'scripts/packaged-host-probe.ts'),
    ],
    {
      cwd: scratch,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? scratch,
        BEACON_PROBE_OUT: join(extracted, 'out'),
        BEACON_STANDIN_USER_DATA: userData,
        BEACON_DISCOVERY: 'off',
      },
    },
  );
  const line = result.stdout.split('\n').find((l) => l.startsWith(PROBE_PREFIX));
  if (!line)
    return `hosting from the packaged main did not report (exit ${result.status ?? result.signal}): ${result.stderr.slice(-2000)}`;
  const report = JSON.parse(line.slice(PROBE_PREFIX.length)) as { ok: boolean; error?: string };
  return report.ok ? null : `hosting from the packaged main failed: ${report.error ?? '?'}`;
}

function main(): void {
  const { values } = parseArgs({
    options: { 'budget-mb': { type: 'string' }, keep: { type: 'boolean', default: false } },
  });
  const budget = values['budget-mb'] === undefined ? PAYLOAD_BUDGET_BYTES : Number(values['budget-mb']) * 1e6;
  if (!Number.isFinite(budget) || budget <= 0) fail([`--budget-mb must be a positive number of MB`]);
  if (!existsSync(join(ROOT, 'out/main/index.js'))) fail(['out/main/index.js is missing: run `npm run build` first']);

  const scratch = mkdtempSync(join(tmpdir(), 'beacon-package-check-'));
  try {
    const standIn = join(scratch, 'electron-standin');
    const output = join(scratch, 'dist');
    makeStandInElectron(standIn);
    console.log(`packaging out/ with electron-builder (linux dir, stand-in Electron in ${standIn})`);
    const builder = spawnSync(
      join(ROOT, 'node_modules/.bin/electron-builder'),
      ['--linux', 'dir', '--publish', 'never', `-c.electronDist=${standIn}`, `-c.directories.output=${output}`],
      { cwd: ROOT, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false' } },
    );
    if (builder.status !== 0) {
      fail([`electron-builder failed (${builder.status ?? builder.signal}):\n${builder.stdout}\n${builder.stderr}`]);
    }
    const app = join(output, 'linux-unpacked');
    const resources = join(app, 'resources');
    const asarPath = join(resources, 'app.asar');
    if (!existsSync(asarPath)) fail([`no app.asar in ${resources}`]);

    // Files stored in app.asar, with their sizes (directories have none; unpacked files are counted below).
    const inAsar = listPackage(asarPath, { isPack: false }).flatMap((path) => {
      const entry = statFile(asarPath, path.slice(1)) as { size?: number; unpacked?: boolean };
      return entry.size === undefined || entry.unpacked ? [] : [{ path, bytes: entry.size }];
    });
    const unpacked = walk(join(resources, 'app.asar.unpacked'));
    const others = readdirSync(resources).filter((name) => name !== 'app.asar' && name !== 'app.asar.unpacked');
    const asarBytes = lstatSync(asarPath).size;
    const unpackedBytes = unpacked.reduce((sum, f) => sum + f.bytes, 0);
    const total = asarBytes + unpackedBytes;

    console.log(`app.asar: ${inAsar.length} files, ${mb(asarBytes)}`);
    console.log(`app.asar.unpacked: ${unpacked.length} files, ${mb(unpackedBytes)}`);
    console.log(
      `payload: ${mb(total)} (budget ${mb(budget)}; before issue 15: 10.50 MB app.asar + 107.42 MB unpacked)`,
    );

    const problems: string[] = [];
    const found = [...strays([...inAsar, ...unpacked])].map(([from, { files, bytes }]) => ({ from, files, bytes }));
    const modules = found.filter((f) => f.from.startsWith('node_modules/'));
    for (const { from, files, bytes } of found.filter((f) => !f.from.startsWith('node_modules/'))) {
      problems.push(`${from} (${files} files, ${mb(bytes)}) is in the app: only out/** and package.json belong there`);
    }
    if (modules.length > 0) {
      problems.push(
        `${modules.length} packages are in the app, though main bundles its dependencies:\n` +
          modules.map((m) => `      ${m.from} (${m.files} files, ${mb(m.bytes)})`).join('\n') +
          `\n    List what the app uses under devDependencies (it is bundled), or name a package that cannot be ` +
          `bundled in RUNTIME_MODULES with the reason; benchmark and test tools belong in their own package ` +
          `(bench/package.json), never under dependencies.`,
      );
    }
    for (const name of others) problems.push(`resources/${name} is shipped beside app.asar (extraResources?)`);
    if (total > budget) {
      problems.push(`the payload is ${mb(total)}, over the budget of ${mb(budget)} (PAYLOAD_BUDGET_BYTES)`);
    }

    const wire = readFuseWire(readFileSync(join(app, 'beacon')));
    if (wire === null)
      problems.push('the packaged executable has no fuse wire: electron-builder did not copy the stand-in?');
    else {
      const wrong = REQUIRED_FUSES.filter((f) => wire[f.index] !== (f.on ? '1' : '0'));
      console.log(
        `fuses: ${REQUIRED_FUSES.map((f) => `${f.name}=${wire[f.index] === '1' ? 'on' : 'off'}`).join(', ')}`,
      );
      for (const f of wrong) {
        problems.push(
          `fuse ${f.name} is ${f.on ? 'off' : 'on'} in the packaged executable (electron-builder.yml electronFuses)`,
        );
      }
    }

    const extracted = join(scratch, 'app');
    extractAll(asarPath, extracted);
    const bootProblem = bootsAlone(extracted, scratch);
    if (bootProblem) problems.push(bootProblem);
    else console.log('the packaged main starts from app.asar alone (no node_modules) against the Electron stand-in');
    const hostProblem = hostsAlone(extracted, scratch);
    if (hostProblem) problems.push(hostProblem);
    else console.log('the packaged main hosts a room on port 0, serves its page and /room.json over HTTPS, and stops');

    if (problems.length > 0) fail(problems);
    console.log('package check passed: only the app is inside, within budget, fuses set');
  } finally {
    if (values.keep) console.log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) main();
