/**
 * Rooms nearby, the browsing side. The parsing is fed hostile packets
 * directly; the live tests announce and browse on loopback only (interface
 * 127.0.0.1 and an mDNS port of their own, never 5353), so nothing reaches the
 * real network: multicast sent with IP_MULTICAST_IF 127.0.0.1 stays on `lo`.
 */
import type { Answer } from 'dns-packet';
import { createSocket } from 'node:dgram';
import { encode } from 'dns-packet';
import makeMdns from 'multicast-dns';
import { afterEach, describe, expect, it } from 'vitest';
import { RoomAnnouncer, type RoomAnnouncement } from '../../src/host/room-announcer.ts';
import { heardAnnouncements, RoomBrowser } from '../../src/node/room-browser.ts';
import { MAX_NEARBY_ROOMS, type NearbyRoom, SERVICE_NAME } from '../../src/shared/discovery.ts';
import type { Fingerprint } from '../../src/shared/fingerprint.ts';

const FP = '0123456789abcdef0123456789abcdef';
const NOW = 1_000;

function announcement(
  instance: string,
  txt: Record<string, string> | Array<string | Buffer>,
  options: { port?: number; addresses?: string[]; ttl?: number; target?: string } = {},
): Answer[] {
  const fqdn = `${instance}.${SERVICE_NAME}`;
  const target = options.target ?? `${instance.replace(/\W/g, '')}.local`;
  const ttl = options.ttl ?? 10;
  const data = Array.isArray(txt) ? txt : Object.entries(txt).map(([k, v]) => `${k}=${v}`);
  return [
    { name: SERVICE_NAME, type: 'PTR', ttl, data: fqdn },
    { name: fqdn, type: 'SRV', ttl, data: { port: options.port ?? 4747, target } },
    { name: fqdn, type: 'TXT', ttl, data },
    ...(options.addresses ?? ['192.168.1.20']).map((address): Answer => ({
      name: target,
      type: address.includes(':') ? 'AAAA' : 'A',
      ttl,
      data: address,
    })),
  ];
}

const GOOD = { v: '1', room: 'Team room', host: 'Ann', code: '1', fp: FP };

function parse(answers: Answer[], source: string | null = '192.168.1.99'): NearbyRoom[] {
  return heardAnnouncements({ answers }, source, NOW).rooms;
}

describe('heardAnnouncements: what one mDNS answer says', () => {
  it('turns a well-formed announcement into a room with its address, code and fingerprint', () => {
    expect(parse(announcement('Team room [0123]', GOOD, { addresses: ['fd00::5', '192.168.1.20'] }))).toEqual([
      {
        id: 'team room [0123]._beacon._tcp.local@192.168.1.20:4747',
        roomName: 'Team room',
        hostName: 'Ann',
        address: '192.168.1.20:4747',
        addresses: ['192.168.1.20:4747', '[fd00::5]:4747'],
        codeRequired: true,
        protocolVersion: 1,
        fingerprint: FP,
        encrypted: true,
        lastSeen: NOW,
      },
    ]);
  });

  it('an insecure host (no fp) is listed as not encrypted; an open room as open', () => {
    const { fp: _fp, ...insecure } = GOOD;
    const [room] = parse(announcement('Open', { ...insecure, code: '0' }));
    expect(room).toMatchObject({ fingerprint: null, encrypted: false, codeRequired: false });
  });

  it('drops a fingerprint that is not 32 lowercase hex digits instead of calling the room unencrypted', () => {
    for (const fp of ['abc', FP.toUpperCase(), FP + FP, FP.slice(1), '', 'zz'.repeat(16), `${FP} `]) {
      expect(parse(announcement('Bad fp', { ...GOOD, fp })), fp).toEqual([]);
    }
  });

  it('drops bad versions, codes and missing keys', () => {
    for (const v of ['', 'abc', '-1', '1.5', ' 1', '٣', '1'.repeat(30)]) {
      expect(parse(announcement('V', { ...GOOD, v })), v).toEqual([]);
    }
    for (const code of ['', '2', 'yes', '01']) expect(parse(announcement('C', { ...GOOD, code }))).toEqual([]);
    for (const key of ['v', 'room', 'host', 'code'] as const) {
      const { [key]: _gone, ...rest } = GOOD;
      expect(parse(announcement('Missing', rest)), key).toEqual([]);
    }
  });

  it('refuses names with bidi overrides, invisible or control characters, and names too long', () => {
    for (const room of [
      'Team\u202Emoor',
      'A\u2066B',
      'zero\u200Bwidth',
      'esc\u001b[31m',
      'nul\u0000',
      'x'.repeat(61),
    ]) {
      expect(parse(announcement('Names', { ...GOOD, room })), JSON.stringify(room)).toEqual([]);
    }
    expect(parse(announcement('Names', { ...GOOD, host: 'h'.repeat(41) }))).toEqual([]);
    // Tabs and line breaks collapse to a space: one room stays one line of `npm run rooms`.
    expect(parse(announcement('Tabs', { ...GOOD, room: 'Team\troom\nx' }))[0]?.roomName).toBe('Team room x');
  });

  it('a TXT record of 100 KB is dropped, and one of invalid UTF-8', () => {
    const huge = Array.from({ length: 400 }, (_, i) => `k${i}=${'x'.repeat(250)}`);
    expect(parse(announcement('Huge', [...Object.entries(GOOD).map(([k, v]) => `${k}=${v}`), ...huge]))).toEqual([]);
    const broken = [Buffer.from('room=\xff\xfe', 'latin1'), 'v=1', 'host=Ann', 'code=0'];
    expect(parse(announcement('Broken', broken))).toEqual([]);
  });

  it('the first of a repeated key counts (RFC 6763): a second room= cannot replace the name', () => {
    const txt = ['v=1', 'room=Team room', 'room=Evil', 'host=Ann', 'code=0'];
    expect(parse(announcement('Twice', txt))[0]?.roomName).toBe('Team room');
  });

  it('keeps only usable IP literals with the service port; falls back to the sender; drops port 0', () => {
    const addresses = ['0.0.0.0', '224.0.0.251', 'fe80::1', 'ff02::fb', '10.0.0.7', 'not-an-ip'];
    expect(parse(announcement('Addr', GOOD, { addresses, port: 5000 }))[0]?.addresses).toEqual(['10.0.0.7:5000']);
    expect(parse(announcement('Src', GOOD, { addresses: [] }), '192.168.1.99')[0]?.address).toBe('192.168.1.99:4747');
    expect(parse(announcement('None', GOOD, { addresses: [] }), null)).toEqual([]);
    expect(parse(announcement('Port0', GOOD, { port: 0 }))).toEqual([]);
  });

  it('reads a goodbye (TTL 0) and a bare PTR as a refresh; ignores other services and junk records', () => {
    const heard = heardAnnouncements(
      {
        answers: [
          ...announcement('Gone', GOOD, { ttl: 0 }),
          { name: SERVICE_NAME, type: 'PTR', ttl: 10, data: `Still.${SERVICE_NAME}` },
          ...announcement('Other', GOOD).map((r) => ({ ...r, name: r.name.replace('_beacon', '_http') })),
          { name: SERVICE_NAME, type: 'PTR', ttl: 10, data: 'elsewhere.example' },
          { name: 'x'.repeat(300), type: 'A', ttl: 10, data: '1.2.3.4' },
        ] as Answer[],
      },
      null,
      NOW,
    );
    expect(heard).toEqual({ rooms: [], refreshed: [`still.${SERVICE_NAME}`], goodbyes: [`gone.${SERVICE_NAME}`] });
  });

  it('never throws on malformed packets', () => {
    const junk = [
      {},
      { answers: 'x' },
      { answers: [null, 1, { name: 5 }] },
      { answers: [{ name: SERVICE_NAME, type: 'PTR', ttl: 10, data: { not: 'a name' } }] },
      {
        answers: [
          { name: SERVICE_NAME, type: 'PTR', ttl: 10, data: `a.${SERVICE_NAME}` },
          { name: `a.${SERVICE_NAME}`, type: 'SRV', ttl: 10, data: null },
          { name: `a.${SERVICE_NAME}`, type: 'TXT', ttl: 10, data: 7 },
        ],
      },
    ];
    for (const packet of junk) expect(() => heardAnnouncements(packet as never, null, NOW)).not.toThrow();
  });

  it('5,000 services in one packet: bounded work, and the browser keeps at most MAX_NEARBY_ROOMS', () => {
    const answers = Array.from({ length: 5_000 }, (_, i) => announcement(`Fake ${i}`, GOOD)).flat();
    const started = performance.now();
    const heard = heardAnnouncements({ answers }, null, NOW);
    expect(performance.now() - started).toBeLessThan(1_000);
    // Only the first records of a packet are read (a real one cannot hold many more).
    expect(heard.rooms.length).toBeLessThanOrEqual(500);
  });
});

// ── live, on loopback only ─────────────────────────────────────────────────

const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((thing) => thing.stop()));
});

const mdnsPort = (): number => 40_000 + Math.floor(Math.random() * 20_000);

function browse(port: number): { browser: RoomBrowser; events: NearbyRoom[][] } {
  const browser = new RoomBrowser({ interface: '127.0.0.1', mdnsPort: port, queryIntervalMs: 500, debounceMs: 20 });
  const events: NearbyRoom[][] = [];
  browser.on('change', (rooms) => events.push(rooms));
  browser.start();
  running.push(browser);
  return { browser, events };
}

async function announce(port: number, room: Partial<RoomAnnouncement> = {}): Promise<RoomAnnouncer> {
  const announcer = await RoomAnnouncer.start(
    { roomName: 'Team room', hostName: 'Ann', port: 4747, codeRequired: true, fingerprint: FP as Fingerprint, ...room },
    { interface: '127.0.0.1', mdnsPort: port },
  );
  running.push(announcer);
  return announcer;
}

describe('RoomBrowser on loopback', () => {
  it('lists an announced room within a second or so, and drops it within a second of its goodbye', async () => {
    const port = mdnsPort();
    const { browser } = browse(port);
    const started = Date.now();
    const announcer = await announce(port);
    await expect.poll(() => browser.rooms.map((r) => r.roomName), { timeout: 3_000 }).toEqual(['Team room']);
    const appeared = Date.now() - started;
    expect(browser.rooms[0]).toMatchObject({ hostName: 'Ann', address: '127.0.0.1:4747', fingerprint: FP });
    const stopped = Date.now();
    await announcer.stop();
    await expect.poll(() => browser.rooms.length, { timeout: 1_000, interval: 20 }).toBe(0);
    console.log(
      `loopback: appeared after ${appeared} ms (probe included), gone ${Date.now() - stopped} ms after goodbye`,
    );
  });

  it('drops a room that stops answering (no goodbye) after the silence time', async () => {
    const port = mdnsPort();
    const browser = new RoomBrowser({ interface: '127.0.0.1', mdnsPort: port, queryIntervalMs: 300, silenceMs: 1_500 });
    browser.start();
    running.push(browser);
    // A host that announces once and is then gone without a word (killed, unplugged).
    const once = makeMdns({ interface: '127.0.0.1', bind: '0.0.0.0', port });
    running.push({ stop: () => new Promise<void>((resolve) => once.destroy(() => resolve())) });
    await new Promise((resolve) => once.on('ready', resolve));
    once.respond({ answers: announcement('Once', GOOD, { addresses: ['127.0.0.1'] }) });
    await expect.poll(() => browser.rooms.length, { timeout: 2_000, interval: 20 }).toBe(1);
    const heard = Date.now();
    await expect.poll(() => browser.rooms.length, { timeout: 4_000, interval: 50 }).toBe(0);
    expect(Date.now() - heard).toBeGreaterThan(1_000);
  });

  it('two hosts announcing the same room are told apart: the second is renamed, both are listed', async () => {
    const port = mdnsPort();
    const { browser } = browse(port);
    const first = await announce(port);
    const second = await announce(port, { hostName: 'Ben', port: 4748 });
    expect(first.instanceName).toBe('Team room [0123]');
    expect(second.instanceName).toBe('Team room [0123] (2)');
    await expect.poll(() => browser.rooms.map((r) => r.hostName).sort(), { timeout: 3_000 }).toEqual(['Ann', 'Ben']);
  });

  it('a burst of rooms is told in a few events, not one per room', async () => {
    const port = mdnsPort();
    const { browser, events } = browse(port);
    await Promise.all(Array.from({ length: 30 }, (_, i) => announce(port, { roomName: `Room ${i}`, port: 5000 + i })));
    await expect.poll(() => browser.rooms.length, { timeout: 5_000 }).toBe(30);
    expect(events.length).toBeLessThan(15);
  });

  it('a flood of 300 fake rooms in one packet keeps MAX_NEARBY_ROOMS and one event', async () => {
    const port = mdnsPort();
    const { browser, events } = browse(port);
    const flood = makeMdns({ interface: '127.0.0.1', bind: '0.0.0.0', port });
    running.push({ stop: () => new Promise<void>((resolve) => flood.destroy(() => resolve())) });
    await new Promise((resolve) => flood.on('ready', resolve));
    const answers = Array.from({ length: 300 }, (_, i) =>
      announcement(`F${i}`, { v: '1', room: `Fake ${i}`, host: 'F', code: '0' }, { addresses: ['127.0.0.1'] }),
    ).flat();
    await new Promise((resolve) => flood.respond({ answers }, resolve));
    await expect.poll(() => browser.rooms.length, { timeout: 2_000, interval: 20 }).toBe(MAX_NEARBY_ROOMS);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events.filter((rooms) => rooms.length > 0)).toHaveLength(1);
  });

  it('a machine flooding fake rooms cannot take every place: a real room from another machine is still listed', async () => {
    const port = mdnsPort();
    const { browser } = browse(port);
    // The flood comes from 127.0.0.2, a machine of its own as far as the browser can tell.
    const flood = createSocket({ type: 'udp4', reuseAddr: true });
    running.push({ stop: () => new Promise<void>((resolve) => flood.close(() => resolve())) });
    await new Promise<void>((resolve) => flood.bind(0, '127.0.0.2', resolve));
    flood.setMulticastInterface('127.0.0.1');
    const answers = Array.from({ length: 300 }, (_, i) =>
      announcement(`F${i}`, { v: '1', room: `Fake ${i}`, host: 'F', code: '0' }, { addresses: ['127.0.0.2'] }),
    ).flat();
    const packet = encode({ type: 'response', flags: 1 << 10, answers });
    await new Promise((resolve) => flood.send(packet, port, '224.0.0.251', resolve));
    await expect.poll(() => browser.rooms.length, { timeout: 2_000, interval: 20 }).toBe(MAX_NEARBY_ROOMS);
    await announce(port);
    await expect.poll(() => browser.rooms.some((room) => room.roomName === 'Team room'), { timeout: 3_000 }).toBe(true);
    expect(browser.rooms).toHaveLength(MAX_NEARBY_ROOMS);
  });
});
