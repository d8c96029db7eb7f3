/**
 * The scaling prototype (bench/prototypes, docs/SCALING.md §4): what the lead would notice if it
 * broke. It must pass with every member getting every message, and fail loudly, naming the
 * message, when one publish is dropped, doubled or sent late. Real sockets, a real redis-server
 * (Debian's), real processes, and node-redis (the `redis` package) between them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BENCH_DIR } from '../../bench/lib/proc.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

const redisInstalled = spawnSync('redis-server', ['--version'], { timeout: 5_000 }).status === 0;

/** Runs the prototype at a tiny size into a temporary folder; resolves with its exit code, output and JSON. */
function runPrototype(args: string[]): Promise<{ code: number | null; output: string; json: string }> {
  const out = mkdtempSync(join(tmpdir(), 'beacon-proto-test-'));
  cleanups.push(() => rmSync(out, { recursive: true, force: true }));
  const child = spawn(process.execPath, [join(BENCH_DIR, 'prototypes/shared-fanout.ts'), '--out', out, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // SIGTERM, not SIGKILL: the prototype's exit handler then kills its redis-server and edges, which
  // a killed prototype would leave running (seen when a mutated run timed out).
  cleanups.push(() => void child.kill('SIGTERM'));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      const mutation = args[args.indexOf('--mutate') + 1];
      const name = args.includes('--mutate') ? `mutation-${mutation}` : 'latest';
      let json = '';
      try {
        json = readFileSync(join(out, `${name}.json`), 'utf8');
      } catch {
        // no results written: the output says why
      }
      resolve({ code, output, json });
    });
  });
}

describe.skipIf(!redisInstalled)('the shared fan-out prototype (needs Debian redis-server)', () => {
  it('delivers every message once and in order to members on both edges, and exits 0', async () => {
    const { code, output, json } = await runPrototype(['--sizes', '12']);
    expect(code, output).toBe(0);
    const results = JSON.parse(json).results as { topology: string; verify: Record<string, unknown> }[];
    expect(results.map((r) => r.topology)).toEqual(['one process', 'one process + Redis', 'two processes + Redis']);
    for (const result of results) {
      expect(result.verify).toMatchObject({ receivers: 12, lost: 0, duplicated: 0, outOfOrder: 0 });
      expect(result.verify.messages).toBeGreaterThan(1000);
    }
  }, 90_000);

  it.each([
    ['drop-publish', 'got message #12 0 times', { lost: 12, duplicated: 0, outOfOrder: 0 }],
    ['duplicate-publish', 'got message #12 2 times', { lost: 0, duplicated: 12, outOfOrder: 0 }],
    ['reorder-publish', 'saw 1 messages out of order', { lost: 0, duplicated: 0, outOfOrder: 12 }],
  ])(
    'fails loudly when one publish is mutated once (%s)',
    async (mutation, fault, counts) => {
      const { code, output, json } = await runPrototype(['--mutate', mutation, '--sizes', '12']);
      expect(code, output).toBe(1);
      expect(output).toContain('DELIVERY FAULTS');
      expect(output).toContain(fault);
      // Members on the second edge heard it only through Redis: they are named too.
      expect(output).toMatch(/\(edge 1\)/);
      expect(JSON.parse(json).results[0].verify).toMatchObject(counts);
    },
    60_000,
  );
});

if (!redisInstalled) {
  console.warn('shared-fanout prototype tests skipped: no redis-server (apt-get install -y redis-server)');
}
