/**
 * The scaling prototype (bench/prototypes, docs/SCALING.md §4): what the lead would notice if it
 * broke. Its Redis client must match replies to commands however TCP cuts them, and hand pub/sub
 * pushes to the subscriber even when they arrive between replies; the prototype must pass with
 * every member getting every message, and fail loudly, naming the message, when one publish is
 * dropped, doubled or sent late. Real sockets, a real redis-server (Debian's), real processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BENCH_DIR } from '../../bench/lib/proc.ts';
import { Resp } from '../../bench/prototypes/resp.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A TCP server that answers every read with `reply`, written one byte per event-loop turn. */
async function trickleServer(reply: Buffer): Promise<number> {
  const server: Server = createServer((socket) => {
    socket.once('data', async () => {
      for (const byte of reply) {
        socket.write(Buffer.from([byte]));
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
  });
  cleanups.push(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

describe('the prototype redis client', () => {
  it('matches pipelined replies to their commands when every byte arrives on its own', async () => {
    const port = await trickleServer(Buffer.from(':7\r\n$5\r\nhello\r\n*2\r\n:1\r\n$-1\r\n-ERR nope\r\n+OK\r\n'));
    const client = await Resp.open(port);
    cleanups.push(() => client.close());
    const replies = [
      client.command('INCR', 'a'),
      client.command('GET', 'b'),
      client.command('X'),
      client.command('Y').catch((error: Error) => error),
      client.command('PING'),
    ];
    const [seven, hello, array, error, ok] = await Promise.all(replies);
    expect(seven).toBe(7);
    expect(String(hello)).toBe('hello');
    expect(array).toEqual([1, null]);
    expect((error as Error).message).toBe('ERR nope');
    expect(ok).toBe('OK');
  });

  it('gives the subscriber a published payload that arrives in pieces, and only once', async () => {
    const push = (text: string): string => `*3\r\n$7\r\nmessage\r\n$4\r\nroom\r\n$${text.length}\r\n${text}\r\n`;
    const port = await trickleServer(
      Buffer.from(`*3\r\n$9\r\nsubscribe\r\n$4\r\nroom\r\n:1\r\n${push('{"seq":1}')}${push('{"seq":2}')}`),
    );
    const client = await Resp.open(port);
    cleanups.push(() => client.close());
    const got: string[] = [];
    const both = new Promise<void>((resolve) => {
      void client.subscribe('room', (channel, payload) => {
        got.push(`${channel} ${payload.toString()}`);
        if (got.length === 2) resolve();
      });
    });
    await both;
    expect(got).toEqual(['room {"seq":1}', 'room {"seq":2}']);
  });
});

const redisInstalled = spawnSync('redis-server', ['--version'], { timeout: 5_000 }).status === 0;

/** Runs the prototype at a tiny size into a temporary folder; resolves with its exit code, output and JSON. */
function runPrototype(args: string[]): Promise<{ code: number | null; output: string; json: string }> {
  const out = mkdtempSync(join(tmpdir(), 'beacon-proto-test-'));
  cleanups.push(() => rmSync(out, { recursive: true, force: true }));
  const child = spawn(process.execPath, [join(BENCH_DIR, 'prototypes/shared-fanout.ts'), '--out', out, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => void child.kill('SIGKILL'));
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
