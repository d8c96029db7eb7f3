/**
 * The Node servers of the fan-out benchmark as they ship: one JavaScript file each, bundled with
 * rolldown (the bundler vite uses), run without type stripping. Run from TypeScript source, each
 * process paid 18-48 MB of RSS for Node's type stripper (its WebAssembly memory grows with every
 * module it strips and never shrinks): a cost the desktop app, which runs built JavaScript, never
 * has. Beacon and the Node baselines are built alike, so the memory figures compare like with like.
 */
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BENCH_DIR } from './proc.ts';

const OUT_DIR = join(BENCH_DIR, '.cache', 'built');
const builds = new Map<string, Promise<string>>();

/** The built file of `entry` (a path under bench/), bundled once per benchmark run. */
export function built(entry: string): Promise<string> {
  let build = builds.get(entry);
  if (!build) {
    build = bundle(entry);
    builds.set(entry, build);
  }
  return build;
}

async function bundle(entry: string): Promise<string> {
  const { build } = await import('rolldown');
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${basename(entry).replace(/\.ts$/, '')}.mjs`);
  await build({
    input: join(BENCH_DIR, entry),
    platform: 'node',
    // ws loads these optional native helpers only if they are installed; they are not.
    external: [/^node:/, 'bufferutil', 'utf-8-validate'],
    output: { file, format: 'esm', codeSplitting: false },
    logLevel: 'warn',
  });
  return file;
}
