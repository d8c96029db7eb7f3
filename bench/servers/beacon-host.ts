/**
 * Beacon's real host (src/host/room-server.ts) in its own process, for the benchmarks.
 * Limits are the defaults except the per-connection rate limit, raised so one
 * benchmark sender can burst, and maxConnections (BENCH_LIMITS, JSON, may override more).
 *   node bench/servers/beacon-host.ts <dataDir>         plain ws:// (the host's `insecure: true`, as `--insecure`)
 *   node bench/servers/beacon-host.ts <dataDir> --tls   TLS, the host's default: key and certificate in <dataDir>
 * The control command `fingerprint` answers the host's certificate fingerprint (null when plain),
 * for the members to pin.
 */
import { writeFileSync } from 'node:fs';
import { type Profiler, Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoomServer } from '../../src/host/room-server.ts';
import { serveControl } from './control.ts';

export const BENCH_RATE_LIMITS = { messagesPerSecond: 1_000_000_000, messageBurst: 1_000_000_000 };
/**
 * Room for the fan-out's 10,000 members (and their sender) with margin: the default is 12,000.
 * The per-address limits need no change: the host's own machine is not counted per address
 * (src/host/connection-gate.ts, newcomer-throttle.ts), and every bench member comes from 127.0.0.1.
 */
export const BENCH_CONNECTION_LIMITS = { maxConnections: 25_000 };

const dataDir = process.argv[2] ?? ':memory:';
const tls = process.argv.slice(3).includes('--tls');
const server = await RoomServer.start({
  port: 0,
  bind: '127.0.0.1',
  roomName: 'Bench room',
  code: null,
  dataDir,
  insecure: !tls,
  limits: { ...BENCH_RATE_LIMITS, ...BENCH_CONNECTION_LIMITS, ...JSON.parse(process.env.BENCH_LIMITS ?? '{}') },
});
server.on('error', (error) => process.stderr.write(`host error: ${error.message}\n`));
// CPU profiles of chosen phases, on request (npm run bench -- --profile): written to BENCH_PROFILE_DIR.
const inspector = new Session();
inspector.connect();
const post = (method: string, params?: object): Promise<void> =>
  new Promise((resolve, reject) => inspector.post(method, params, (error) => (error ? reject(error) : resolve())));
const stopProfiler = (): Promise<Profiler.Profile> =>
  new Promise((resolve, reject) =>
    inspector.post('Profiler.stop', (error, result) => (error ? reject(error) : resolve(result.profile))),
  );
serveControl(
  server.port,
  () => server.stop(),
  () => ({ members: server.members().length, lastSeq: server.lastSeq }),
  {
    fingerprint: async () => ({ fingerprint: server.info().fingerprint }),
    'profile-start': async () => {
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 200 });
      await post('Profiler.start');
      return { ok: true };
    },
    'profile-stop': async (request) => {
      const profile = await stopProfiler();
      const file = join(process.env.BENCH_PROFILE_DIR ?? tmpdir(), `${String(request.name ?? 'beacon')}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      return { ok: true, file };
    },
  },
);
