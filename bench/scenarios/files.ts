/**
 * Scenario 5: files. One file (1 GiB; 16 MiB with --tiny) goes up to the real host and comes back
 * down, and the same file goes through a plain node:http(s) stream copy (bench/baselines/http-copy.ts)
 * in the same run, over the same transport:
 *   upload: Beacon = tus creation POST + one streamed PATCH, answered once the host has hashed,
 *           sniffed, stored and recorded the file (docs/PROTOCOL.md §18.2); baseline = one streamed PUT;
 *   download: GET of the stored file, read to the end;
 *   memory: each server's RSS just before and its peak (VmHWM, reset first) during each transfer.
 * Servers: beacon (plain, --insecure) and beacon-tls (the default) by default, each against the
 * baseline with the same transport.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { closed, join } from '../lib/beacon-client.ts';
import { BENCH_DIR, procStatus, resetPeak, type ServerHandle, startServer, waitForQuiet } from '../lib/proc.ts';
import type { ScenarioOptions, ScenarioResult, Table } from '../lib/scenario.ts';
import { fmt } from '../lib/stats.ts';

const MiB = 1024 * 1024;

interface Transfer {
  ms: number;
  mbPerSecond: number;
  rssBeforeMb: number;
  rssPeakMb: number;
}

interface ModeResult {
  mode: 'plain' | 'tls';
  bytes: number;
  beacon: { upload: Transfer; download: Transfer };
  baseline: { upload: Transfer; download: Transfer };
}

/** A file of `bytes` random-looking bytes (a 1 MiB random block repeated: nothing on the way compresses). */
function makeFile(path: string, bytes: number): void {
  const block = randomBytes(MiB);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < bytes; written += MiB) writeSync(fd, block, 0, Math.min(MiB, bytes - written));
  } finally {
    closeSync(fd);
  }
}

function send(
  tls: boolean,
  options: RequestOptions,
  body: string | null,
): Promise<{ status: number; headers: IncomingMessage['headers']; text: string }> {
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)({ ...options, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    if (body === null) req.end();
    else req.end(body);
  });
}

/** Streams `file` as the body of one request; resolves with the response status and text. */
function streamUp(tls: boolean, options: RequestOptions, file: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)({ ...options, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    pipeline(createReadStream(file, { highWaterMark: MiB }), req).catch(reject);
  });
}

/** GETs a path and reads the body to the end, counting bytes. */
function readDown(tls: boolean, options: RequestOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)({ ...options, rejectUnauthorized: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`GET ${options.path}: ${res.statusCode}`));
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve(bytes));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Times `run` and watches the server's memory while it runs. */
async function measured(server: ServerHandle, bytes: number, run: () => Promise<unknown>): Promise<Transfer> {
  (global as { gc?: () => void }).gc?.();
  const before = procStatus(server.pid).rss;
  resetPeak(server.pid);
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const peak = Math.max(procStatus(server.pid).hwm, before);
  return { ms, mbPerSecond: bytes / MiB / (ms / 1000), rssBeforeMb: before / MiB, rssPeakMb: peak / MiB };
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

async function beaconRun(
  mode: 'plain' | 'tls',
  file: string,
  bytes: number,
  dataDir: string,
): Promise<{ upload: Transfer; download: Transfer }> {
  const tls = mode === 'tls';
  const server = await startServer(`beacon${tls ? '-tls' : ''}`, process.execPath, [
    joinPath(BENCH_DIR, 'servers/beacon-host.ts'),
    dataDir,
    ...(tls ? ['--tls'] : []),
  ]);
  try {
    const fingerprint = (await server.request('fingerprint')).fingerprint;
    const member = await join(
      server.port,
      { name: 'uploader' },
      10_000,
      tls && typeof fingerprint === 'string' ? { fingerprint } : null,
    );
    const files = (member.welcome as { files?: { token: string; path: string } }).files;
    if (!files) throw new Error('the host shares no files (no welcome.files)');
    const auth = { Authorization: `Bearer ${files.token}`, 'Tus-Resumable': '1.0.0' };
    const base = { host: '127.0.0.1', port: server.port };
    const upload = async (path: string, length: number): Promise<string> => {
      const created = await send(
        tls,
        {
          ...base,
          method: 'POST',
          path: `${files.path}/uploads`,
          headers: {
            ...auth,
            'Upload-Length': String(length),
            'Upload-Metadata': `name ${b64('bench.bin')},conversation ${b64('room')}`,
          },
        },
        null,
      );
      const location = created.headers.location;
      if (created.status !== 201 || !location) throw new Error(`tus creation: ${created.status} ${created.text}`);
      const patched = await streamUp(
        tls,
        {
          ...base,
          method: 'PATCH',
          path: new URL(location, 'http://x').pathname,
          headers: {
            ...auth,
            'Content-Type': 'application/offset+octet-stream',
            'Upload-Offset': '0',
            'Content-Length': String(length),
          },
        },
        path,
      );
      if (patched.status !== 204) throw new Error(`tus PATCH: ${patched.status} ${patched.text}`);
      return new URL(location, 'http://x').pathname.split('/').pop()!;
    };
    // Warm-up: a small file up and down, so the first measured request pays no start-up costs.
    const warm = joinPath(dataDir, '..', `warm-${mode}.bin`);
    makeFile(warm, MiB);
    const warmId = await upload(warm, MiB);
    await readDown(tls, { ...base, path: `${files.path}/${warmId}`, headers: auth });

    let id = '';
    const up = await measured(server, bytes, async () => (id = await upload(file, bytes)));
    const down = await measured(server, bytes, async () => {
      const got = await readDown(tls, { ...base, path: `${files.path}/${id}`, headers: auth });
      if (got !== bytes) throw new Error(`downloaded ${got} of ${bytes} bytes`);
    });
    await closed(member.ws, true);
    return { upload: up, download: down };
  } finally {
    await server.stop();
  }
}

async function baselineRun(
  mode: 'plain' | 'tls',
  file: string,
  bytes: number,
  dir: string,
): Promise<{ upload: Transfer; download: Transfer }> {
  const tls = mode === 'tls';
  const server = await startServer(`http-copy${tls ? '-tls' : ''}`, process.execPath, [
    joinPath(BENCH_DIR, 'baselines/http-copy.ts'),
    dir,
    ...(tls ? ['--tls'] : []),
  ]);
  try {
    const base = { host: '127.0.0.1', port: server.port };
    const put = async (name: string, path: string, length: number): Promise<void> => {
      const result = await streamUp(
        tls,
        { ...base, method: 'PUT', path: `/copy/${name}`, headers: { 'Content-Length': String(length) } },
        path,
      );
      if (result.status !== 201) throw new Error(`PUT: ${result.status}`);
    };
    const warm = joinPath(dir, '..', `warm-copy-${mode}.bin`);
    makeFile(warm, MiB);
    await put('warm', warm, MiB);
    await readDown(tls, { ...base, path: '/copy/warm' });
    const up = await measured(server, bytes, () => put('big', file, bytes));
    const down = await measured(server, bytes, async () => {
      const got = await readDown(tls, { ...base, path: '/copy/big' });
      if (got !== bytes) throw new Error(`downloaded ${got} of ${bytes} bytes`);
    });
    return { upload: up, download: down };
  } finally {
    await server.stop();
  }
}

export async function files(options: ScenarioOptions): Promise<ScenarioResult> {
  const bytes = options.tiny ? 16 * MiB : 1024 * MiB;
  const modes = (['plain', 'tls'] as const).filter(
    (mode) => !options.servers || options.servers.includes(mode === 'tls' ? 'beacon-tls' : 'beacon'),
  );
  const busy = await waitForQuiet(options.tiny ? 0 : 10_000);
  const work = mkdtempSync(joinPath(tmpdir(), 'beacon-bench-files-'));
  const results: ModeResult[] = [];
  try {
    const source = joinPath(work, 'source.bin');
    makeFile(source, bytes);
    for (const mode of modes) {
      const beaconDir = mkdtempSync(joinPath(work, `beacon-${mode}-`));
      const copyDir = mkdtempSync(joinPath(work, `copy-${mode}-`));
      // Alternate which goes first, so neither always gets a cold page cache.
      const beacon = await beaconRun(mode, source, bytes, beaconDir);
      rmSync(beaconDir, { recursive: true, force: true });
      const baseline = await baselineRun(mode, source, bytes, copyDir);
      rmSync(copyDir, { recursive: true, force: true });
      results.push({ mode, bytes, beacon, baseline });
      for (const direction of ['upload', 'download'] as const) {
        options.log(
          `  ${mode} ${direction}: Beacon ${fmt(beacon[direction].mbPerSecond, 0)} MB/s, node:http copy ${fmt(baseline[direction].mbPerSecond, 0)} MB/s (${fmt(beacon[direction].mbPerSecond / baseline[direction].mbPerSecond)}×); host RSS ${fmt(beacon[direction].rssBeforeMb, 0)} → peak ${fmt(beacon[direction].rssPeakMb, 0)} MB`,
        );
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(joinPath(tmpdir(), 'beacon-bench-files-last.json'), JSON.stringify(results));
  const throughput: Table = {
    title: `Files: one ${fmt(bytes / MiB, 0)} MiB file over loopback (MB/s, ratio to a plain node:http stream copy in the same run)`,
    header: ['transport', 'direction', 'Beacon MB/s', 'node:http copy MB/s', 'ratio', 'target'],
    rows: results.flatMap((r) =>
      (['upload', 'download'] as const).map((direction) => [
        r.mode,
        direction,
        fmt(r.beacon[direction].mbPerSecond, 0),
        fmt(r.baseline[direction].mbPerSecond, 0),
        `${fmt(r.beacon[direction].mbPerSecond / r.baseline[direction].mbPerSecond)}×`,
        '≥ 0.8×',
      ]),
    ),
  };
  const memory: Table = {
    title: 'Files: server RSS before and peak during each transfer (MB)',
    header: [
      'transport',
      'direction',
      'Beacon before',
      'Beacon peak',
      'Beacon growth',
      'copy before',
      'copy peak',
      'copy growth',
    ],
    rows: results.flatMap((r) =>
      (['upload', 'download'] as const).map((direction) => {
        const b = r.beacon[direction];
        const c = r.baseline[direction];
        return [
          r.mode,
          direction,
          fmt(b.rssBeforeMb, 0),
          fmt(b.rssPeakMb, 0),
          fmt(b.rssPeakMb - b.rssBeforeMb, 1),
          fmt(c.rssBeforeMb, 0),
          fmt(c.rssPeakMb, 0),
          fmt(c.rssPeakMb - c.rssBeforeMb, 1),
        ];
      }),
    ),
  };
  return {
    scenario: 'files',
    tables: [throughput, memory],
    notes: [
      `Beacon's upload time includes the host hashing (SHA-256), sniffing, storing and recording the file before it answers the last PATCH; the copy does none of that.`,
      busy > 0.15 ? `The machine was busy (${fmt(busy * 100, 0)} % CPU) when the scenario started.` : '',
    ].filter(Boolean),
    data: results,
  };
}
