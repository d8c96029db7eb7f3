/**
 * Rooms nearby on a real (virtual) LAN: DNS-SD over multicast DNS between
 * network namespaces (test/helpers/netns.ts). Switch A holds two hosts
 * (alpha, beta), a browsing member and a hostile announcer (eve); switch B,
 * another subnet with no route to A, holds one more host (far). Every
 * machine's multicast goes out on its own switch only; a capture in the
 * test's own namespace shows none of it arrives there.
 *
 * The member runs test/fixtures/lan-browser.ts (the engine's RoomBrowser,
 * one timestamped JSON line per change) for the whole of each test, so
 * appear and vanish times are measured from the lines, not from sleeps, and
 * `npm run rooms` is what a person would type. Needs root and iproute2,
 * tcpdump, nftables; skipped with the reason otherwise.
 *
 * The measured times are printed as one line ("discovery times: …") at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_NEARBY_ROOMS, type NearbyRoom } from '../../src/shared/discovery.ts';
import {
  type Capture,
  capture,
  createNetwork,
  lanUnavailable,
  type Machine,
  type Network,
  nodeIn,
  type Program,
  runIn,
} from '../helpers/netns.ts';

const PORT = 4747;
const CODE = '40417733';
type Name = 'alpha' | 'beta' | 'member' | 'eve' | 'far';

let network: Network<'a' | 'b', Name>;
let m: Record<Name, Machine>;
const folders: string[] = [];
const programs: Program[] = [];
const captures: Capture[] = [];
/** Measured times, ms, printed as one line after the file. */
const measured: Record<string, number> = {};

function start(machine: Machine, script: string, args: string[]): Program {
  const program = nodeIn(machine, script, args);
  programs.push(program);
  return program;
}

/**
 * A headless host on `machine` hosting `room` as `hostName`; resolves once it has said how to join (`readyAt`, when
 * the test read "In a browser: …") and, unless --no-announce, that it is announced (`announcedAt`).
 */
async function startHost(machine: Machine, room: string, hostName: string, extra: string[] = []) {
  const data = mkdtempSync(join(tmpdir(), 'beacon-discovery-'));
  folders.push(data);
  const program = start(machine, 'src/cli/host.ts', [
    ...['--bind', '0.0.0.0', '--port', String(PORT), '--code', CODE, '--data', data],
    ...['--name', room, '--host-name', hostName],
    ...extra,
  ]);
  const ready = await program.line(/^In a browser:/, 'stdout', 20_000);
  const fingerprint =
    program.stdout
      .find((line) => line.startsWith('Fingerprint: '))
      ?.replace(/^Fingerprint: /, '')
      .replace(/ /g, '')
      .toLowerCase() ?? null;
  const said = await program.line(/^(Announced on the local network|Not announced)/, 'stdout', 10_000);
  const at = (line: string) => program.times.stdout[program.stdout.indexOf(line)]!;
  return { program, readyAt: at(ready), announcedAt: at(said), fingerprint };
}

interface Seen {
  t: number;
  rooms?: NearbyRoom[];
  alive?: number;
  rss?: number;
  status?: unknown;
}

/** The member's browser, left running; `when` resolves with the first change (from line `after`) that satisfies `test`. */
async function startBrowser(machine: Machine = m.member) {
  const program = start(machine, 'test/fixtures/lan-browser.ts', []);
  await program.line(/^\{"t":\d+,"(status|alive|rooms)"/, 'stdout', 15_000);
  const seen = (): Seen[] =>
    program.stdout.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Seen);
  const changes = () => seen().filter((line): line is Seen & { rooms: NearbyRoom[] } => line.rooms !== undefined);
  const when = async (
    test: (rooms: NearbyRoom[]) => boolean,
    timeoutMs: number,
    after = 0,
  ): Promise<{ t: number; rooms: NearbyRoom[] }> => {
    const deadline = Date.now() + timeoutMs;
    for (let from = after; ;) {
      const lines = program.stdout.slice(from);
      for (const line of lines) {
        if (!line.startsWith('{"t":')) continue;
        const parsed = JSON.parse(line) as Seen;
        if (parsed.rooms && test(parsed.rooms)) return { t: parsed.t, rooms: parsed.rooms };
      }
      from += lines.length;
      const left = deadline - Date.now();
      if (program.child.exitCode !== null || program.child.signalCode !== null) {
        throw new Error(
          `the browser exited (${program.child.exitCode ?? program.child.signalCode}):\n${program.stderr.join('\n')}`,
        );
      }
      if (left <= 0) {
        const last = changes().at(-1)?.rooms ?? [];
        throw new Error(
          `the browser never showed what the test waited for; last listed (${last.length}): ` +
            `${JSON.stringify(last.slice(0, 10).map(show))}${last.length > 10 ? ' …' : ''}\n` +
            `stderr:\n${program.stderr.join('\n')}`,
        );
      }
      // The next line (an "alive" line comes every second), or the deadline.
      await program.line(/^\{/, 'stdout', left, from).catch(() => undefined);
    }
  };
  /** The rooms listed now (the last change). */
  const now = () => changes().at(-1)?.rooms ?? [];
  return { program, when, now, changes, seen, lineCount: () => program.stdout.length };
}

const show = (room: NearbyRoom) => `${room.roomName} by ${room.hostName} at ${room.address}`;
const listed = (rooms: NearbyRoom[], hostName: string) => rooms.some((room) => room.hostName === hostName);

/** `npm run rooms` on the member, as a person would type it; resolves with its exit code and lines. */
async function npmRooms(seconds: number, json = false) {
  const program = runIn(m.member, 'npm', [
    'run',
    '--silent',
    'rooms',
    '--',
    '--seconds',
    String(seconds),
    ...(json ? ['--json'] : []),
  ]);
  programs.push(program);
  const timer = setTimeout(() => program.child.kill('SIGKILL'), (seconds + 15) * 1_000);
  const code = await program.exited();
  clearTimeout(timer);
  // 'exit' can come before the last lines are read.
  await new Promise((done) => setImmediate(done));
  return { code, lines: program.stdout.filter((line) => line.length > 0), stderr: program.stderr };
}

/** Every UDP datagram of a pcap of Ethernet frames (IPv4, unfragmented or first fragments). */
function udpDatagrams(pcap: Buffer): { from: string; to: string; payload: Buffer }[] {
  const out: { from: string; to: string; payload: Buffer }[] = [];
  if (pcap.length < 24) return out;
  for (let at = 24; at + 16 <= pcap.length;) {
    const length = pcap.readUInt32LE(at + 8);
    const frame = pcap.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    if (frame.length < 14 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    if (ip.length < 20 || ip[9] !== 17) continue;
    const udp = ip.subarray((ip[0]! & 0x0f) * 4, ip.readUInt16BE(2));
    if (udp.length < 8) continue;
    out.push({
      from: `${ip.subarray(12, 16).join('.')}:${udp.readUInt16BE(0)}`,
      to: `${ip.subarray(16, 20).join('.')}:${udp.readUInt16BE(2)}`,
      payload: udp.subarray(8),
    });
  }
  return out;
}

/** The mDNS responses in a capture, decoded (those that decode), with who sent them. */
function mdnsResponses(pcap: Buffer) {
  return udpDatagrams(pcap)
    .filter((datagram) => datagram.to.endsWith(':5353') || datagram.from.endsWith(':5353'))
    .flatMap((datagram) => {
      try {
        const packet = dnsPacket.decode(datagram.payload);
        if (packet.type !== 'response') return [];
        return [
          {
            from: datagram.from,
            raw: datagram.payload,
            records: [...(packet.answers ?? []), ...(packet.additionals ?? [])],
          },
        ];
      } catch {
        return [];
      }
    });
}

/** Waits until `until` (epoch ms): the time something must NOT have happened by (a negative needs a clock). */
const quietFor = (until: number) => new Promise((done) => setTimeout(done, Math.max(0, until - Date.now())));

/**
 * What must not reach a listing: control characters but tab (the column separator; terminal escapes, newlines that
 * forge lines) and the bidi marks, embeddings, overrides and isolates that reorder what is shown (Trojan Source).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNREADABLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const skipped = lanUnavailable ? ` (skipped: ${lanUnavailable})` : '';

describe.skipIf(lanUnavailable !== null)(`rooms nearby on two switches${skipped}`, { timeout: 60_000 }, () => {
  beforeAll(async () => {
    network = await createNetwork({
      a: { subnet: '10.77.0', machines: ['alpha', 'beta', 'member', 'eve'] },
      b: { subnet: '10.78.0', machines: ['far'] },
    });
    m = network.machines;
  });
  afterEach(async () => {
    await Promise.all(captures.splice(0).map((each) => each.stop().catch(() => undefined)));
    await Promise.all(programs.splice(0).map((program) => program.stop(2_000)));
    for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await network?.destroy();
    const parts = Object.entries(measured).map(([what, ms]) => `${what} ${seconds(ms)}`);
    if (parts.length > 0) {
      console.log(`discovery times (sudo npx vitest run test/lan/discovery.test.ts): ${parts.join(', ')}`);
    }
  });

  it('a room hosted on the LAN is listed by `npm run rooms` on another machine within a few seconds', async () => {
    const browser = await startBrowser();
    const alpha = await startHost(m.alpha, 'Design review', 'Ada');
    const { t } = await browser.when((rooms) => listed(rooms, 'Ada'), 10_000);
    measured['appear (host\'s "In a browser:" line to listed)'] = t - alpha.readyAt;
    measured['appear (host\'s "Announced" line to listed)'] = t - alpha.announcedAt;
    expect(t - alpha.readyAt).toBeLessThan(5_000);
    const room = browser.now().find((each) => each.hostName === 'Ada')!;
    expect(room).toMatchObject({
      roomName: 'Design review',
      address: `${m.alpha.address}:${PORT}`,
      codeRequired: true,
      encrypted: true,
      fingerprint: alpha.fingerprint,
    });

    const before = Date.now();
    const listing = await npmRooms(3);
    measured['npm run rooms -- --seconds 3 (wall)'] = Date.now() - before;
    expect(listing.code, listing.stderr.join('\n')).toBe(0);
    expect(listing.lines, listing.stderr.join('\n')).toEqual([
      [`${m.alpha.address}:${PORT}`, 'Design review', 'Ada', 'code', alpha.fingerprint].join('\t'),
    ]);
    const json = await npmRooms(3, true);
    expect(json.code, json.stderr.join('\n')).toBe(0);
    expect(
      json.lines.map((line) => JSON.parse(line) as NearbyRoom),
      json.stderr.join('\n'),
    ).toMatchObject([{ roomName: 'Design review', hostName: 'Ada', address: `${m.alpha.address}:${PORT}` }]);
  });

  it('two hosts on one switch are both listed, told apart by their hosts’ names; a host on another switch is not', async () => {
    // Nothing of the test's LAN may reach the computer's own interfaces.
    const own = await capture(null, 'any', 'udp port 5353');
    captures.push(own);
    const onB = await capture(network.switches.b, 'br0', 'udp port 5353');
    captures.push(onB);
    const browser = await startBrowser();
    const [, , far] = await Promise.all([
      startHost(m.alpha, 'Design review', 'Ada'),
      startHost(m.beta, 'Design review', 'Bo'),
      startHost(m.far, 'Far away room', 'Cyd'),
    ]);
    const { rooms } = await browser.when((each) => listed(each, 'Ada') && listed(each, 'Bo'), 10_000);
    expect(
      rooms
        .filter((room) => room.roomName === 'Design review')
        .map((room) => room.address)
        .sort(),
    ).toEqual([`${m.alpha.address}:${PORT}`, `${m.beta.address}:${PORT}`]);
    // The far host did announce, on its own switch (so not hearing it is the switches, not silence)…
    await onB.until((pcap) => pcap.includes('Far away room'), 10_000);
    // …and the member, listening all along, has not heard it 5 s after it was ready.
    await quietFor(far.readyAt + 5_000);
    expect(browser.changes().some((change) => listed(change.rooms, 'Cyd'))).toBe(false);

    const listing = await npmRooms(3);
    expect(listing.code, listing.stderr.join('\n')).toBe(0);
    expect(listing.lines.map((line) => line.split('\t').slice(0, 3)).sort(), listing.stderr.join('\n')).toEqual([
      [`${m.alpha.address}:${PORT}`, 'Design review', 'Ada'],
      [`${m.beta.address}:${PORT}`, 'Design review', 'Bo'],
    ]);
    const mine = await own.stop();
    expect(['Design review', 'Far away room'].filter((text) => mine.includes(text))).toEqual([]);
  });

  it('a host started with --no-announce is never listed, and nothing on the wire names it', async () => {
    const wire = await capture(network.switches.a, 'br0', 'udp port 5353');
    captures.push(wire);
    const browser = await startBrowser();
    const quiet = await startHost(m.beta, 'Quiet corner', 'Quentin', ['--no-announce']);
    await startHost(m.alpha, 'Design review', 'Ada');
    await browser.when((rooms) => listed(rooms, 'Ada'), 10_000);
    await quietFor(quiet.readyAt + 5_000);
    // The browser ran from before the quiet host started; it never listed it.
    expect(browser.changes().some((change) => listed(change.rooms, 'Quentin'))).toBe(false);
    const listing = await npmRooms(3);
    expect(listing.code).toBe(0);
    expect(listing.lines.join('\n')).not.toContain('Quiet corner');
    await wire.sync(m.member, m.alpha);
    const responses = mdnsResponses(await wire.stop());
    // The capture works: the announcing host's responses are in it…
    expect(responses.some((response) => response.raw.includes('Design review'))).toBe(true);
    // …and no response names the quiet room or its host, or comes from its machine.
    expect(
      responses.filter((response) => response.raw.includes('Quiet corner') || response.raw.includes('Quentin')),
    ).toEqual([]);
    expect(responses.filter((response) => response.from.startsWith(`${m.beta.address}:`))).toEqual([]);
  });

  it('a host stopped with Ctrl-C vanishes within 2 s; a host killed outright within about 10 s', async () => {
    const browser = await startBrowser();
    const [alpha, beta] = await Promise.all([
      startHost(m.alpha, 'Design review', 'Ada'),
      startHost(m.beta, 'Budget', 'Bo'),
    ]);
    await browser.when((rooms) => listed(rooms, 'Ada') && listed(rooms, 'Bo'), 10_000);

    let after = browser.lineCount();
    const interrupted = Date.now();
    alpha.program.child.kill('SIGINT');
    const gone = await browser.when((rooms) => !listed(rooms, 'Ada'), 5_000, after);
    measured['vanish after Ctrl-C'] = gone.t - interrupted;
    expect(await alpha.program.exited()).toBe(0);
    expect(gone.t - interrupted).toBeLessThan(2_000);
    expect(listed(gone.rooms, 'Bo')).toBe(true);

    after = browser.lineCount();
    const killed = Date.now();
    beta.program.child.kill('SIGKILL');
    const vanished = await browser.when((rooms) => !listed(rooms, 'Bo'), 20_000, after);
    measured['vanish after SIGKILL'] = vanished.t - killed;
    expect(vanished.t - killed).toBeLessThan(11_000);
  });

  it('thousands of fake and malformed announcements neither break a running browser nor grow it past its bound', async () => {
    const own = await capture(null, 'any', 'udp port 5353');
    captures.push(own);
    const browser = await startBrowser();
    await startHost(m.alpha, 'Design review', 'Ada');
    await browser.when((rooms) => listed(rooms, 'Ada'), 10_000);
    const flood = start(m.eve, 'test/fixtures/mdns-flood.ts', ['--count', '3000', '--every', '1000']);
    await flood.line(/"round":3\b/, 'stdout', 30_000);
    const rssBefore = browser.seen().find((line) => line.rss !== undefined)?.rss ?? 0;
    // Still alive and answering (an "alive" line after three rounds of the flood), still bounded.
    await browser.program.line(/"alive"/, 'stdout', 10_000, browser.lineCount());
    expect(browser.program.child.exitCode).toBeNull();
    const counts = browser.seen().map((line) => line.rooms?.length ?? line.alive ?? 0);
    expect(Math.max(...counts)).toBeLessThanOrEqual(MAX_NEARBY_ROOMS);
    // The room it knew before the flood is still listed.
    expect(listed(browser.now(), 'Ada')).toBe(true);
    const rss = browser.seen().findLast((line) => line.rss !== undefined)!.rss!;
    console.log(
      `under the flood: ${browser.now().length} rooms kept (bound ${MAX_NEARBY_ROOMS}), ` +
        `browser RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rss / 2 ** 20).toFixed(0)} MiB`,
    );
    expect(rss).toBeLessThan(rssBefore + 100 * 2 ** 20);
    // What is listed is what a person can read: no control or bidi characters, no kilobytes of name.
    for (const room of browser.now()) {
      expect(`${room.roomName}${room.hostName}`).not.toMatch(UNREADABLE);
      expect(`${room.roomName}${room.hostName}`).not.toContain('\t');
      expect(room.roomName.length).toBeLessThanOrEqual(60);
      expect(room.hostName.length).toBeLessThanOrEqual(40);
      expect(room.fingerprint === null || /^[0-9a-f]{32}$/.test(room.fingerprint)).toBe(true);
    }

    const listing = await npmRooms(3);
    expect(listing.code, listing.stderr.join('\n')).toBe(0);
    expect(listing.lines.length).toBeLessThanOrEqual(MAX_NEARBY_ROOMS);
    for (const line of listing.lines) {
      // Five columns each, one room per line, nothing a terminal would act on.
      expect(line.split('\t')).toHaveLength(5);
      expect(line).not.toMatch(UNREADABLE);
      expect(line.length).toBeLessThan(200);
    }
    expect(flood.child.exitCode).toBeNull();
    // Megabytes of it on switch A, none in the test's own namespace.
    expect((await own.stop()).includes('Fake room')).toBe(false);
  });

  // Found by this file: the browser used to keep the first MAX_NEARBY_ROOMS rooms it heard, so one machine
  // announcing 200+ fakes hid every real room heard after it. A full list now makes room for a machine with
  // fewer rooms listed (src/node/room-browser.ts, 54f3537).
  it('a real room is still listed during a flood: by `npm run rooms` started then, and when hosted then', async () => {
    const browser = await startBrowser();
    const alpha = await startHost(m.alpha, 'Design review', 'Ada');
    await browser.when((rooms) => listed(rooms, 'Ada'), 10_000);
    const flood = start(m.eve, 'test/fixtures/mdns-flood.ts', ['--count', '3000', '--every', '1000']);
    await flood.line(/"round":2\b/, 'stdout', 30_000);
    const listing = await npmRooms(3);
    expect(listing.code, listing.stderr.join('\n')).toBe(0);
    expect(listing.lines).toContain(
      [`${m.alpha.address}:${PORT}`, 'Design review', 'Ada', 'code', alpha.fingerprint].join('\t'),
    );
    const beta = await startHost(m.beta, 'Late room', 'Bo');
    const { t } = await browser.when((rooms) => listed(rooms, 'Bo'), 12_000);
    measured['appear under the flood'] = t - beta.readyAt;
  });
});
