/**
 * Finds rooms announced on the local network (`_beacon._tcp.local`, see
 * src/host/room-announcer.ts): asks every few seconds, turns each answer into a
 * NearbyRoom after checking every field, drops a room on its goodbye or when it
 * stops answering, and tells the whole list on change (a little later, so a
 * burst of a thousand announcements is one event).
 *
 * Anyone on the network can announce anything: every field is bounded and
 * checked here, at most MAX_NEARBY_ROOMS are kept, a malformed announcement is
 * dropped, and nothing in a packet can make this throw. Discovery is a hint:
 * joining a room found here is checked like one typed by hand.
 */
import { EventEmitter } from 'node:events';
import { isIPv4, isIPv6 } from 'node:net';
import makeMdns from 'multicast-dns';
import type { Answer } from 'dns-packet';
import { checkDisplayName } from '../shared/display-name.ts';
import {
  DISCOVERY_TIMING,
  MAX_NEARBY_ROOMS,
  MAX_TXT_BYTES,
  type NearbyRoom,
  type NearbyStatus,
  SERVICE_NAME,
  TXT_KEYS,
} from '../shared/discovery.ts';
import { parseFingerprint } from '../shared/fingerprint.ts';
import { MAX_PORT, WIRE_LIMITS } from '../shared/protocol.ts';

export interface RoomBrowserOptions {
  /** The one IPv4 address of the interface to browse on, e.g. '127.0.0.1' in tests. Default: every interface. */
  interface?: string;
  /** UDP port of multicast DNS (5353); tests pick their own. */
  mdnsPort?: number;
  queryIntervalMs?: number;
  /** A room not heard for this long is dropped. */
  silenceMs?: number;
  /** Changes within this time are told as one event. */
  debounceMs?: number;
}

export interface RoomBrowserEvents {
  /** The whole list and where browsing stands, after any change to either. */
  change: [rooms: NearbyRoom[], status: NearbyStatus];
}

/** What one response packet says: rooms heard (whole), instance names refreshed, and goodbyes. */
export interface HeardAnnouncements {
  rooms: NearbyRoom[];
  /** Lower-case instance names whose PTR came again without the rest (still there). */
  refreshed: string[];
  /** Lower-case instance names said goodbye to (TTL 0). */
  goodbyes: string[];
}

/** Records of one packet looked at; a 64 KB packet cannot hold many more real ones. */
const MAX_RECORDS_PER_PACKET = 2_000;
/** Addresses kept per room. */
const MAX_ADDRESSES = 8;
const MAX_DNS_NAME = 255;
const DEFAULT_DEBOUNCE_MS = 100;
const SWEEP_INTERVAL_MS = 500;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The rooms in one mDNS response (pure: the tests feed it hostile packets).
 * `source` is where the packet came from: the address used when the answer names none.
 */
export function heardAnnouncements(
  packet: { answers?: Answer[]; additionals?: Answer[] },
  source: string | null,
  now: number,
): HeardAnnouncements {
  const heard: HeardAnnouncements = { rooms: [], refreshed: [], goodbyes: [] };
  const records = [...arrayOf(packet.answers), ...arrayOf(packet.additionals)].slice(0, MAX_RECORDS_PER_PACKET);
  const byName = new Map<string, Answer[]>();
  for (const record of records) {
    if (typeof record?.name !== 'string' || record.name.length > MAX_DNS_NAME) continue;
    const name = record.name.toLowerCase();
    const list = byName.get(name);
    if (list) list.push(record);
    else byName.set(name, [record]);
  }
  for (const ptr of byName.get(SERVICE_NAME) ?? []) {
    if (ptr.type !== 'PTR' || typeof ptr.data !== 'string' || ptr.data.length > MAX_DNS_NAME) continue;
    const instance = ptr.data.toLowerCase();
    if (!instance.endsWith(`.${SERVICE_NAME}`)) continue;
    const own = byName.get(instance) ?? [];
    const srv = own.find((record) => record.type === 'SRV');
    if (ptr.ttl === 0 || srv?.ttl === 0) {
      heard.goodbyes.push(instance);
      continue;
    }
    const txt = own.find((record) => record.type === 'TXT');
    const room = srv && txt ? roomFrom(instance, srv, txt, byName, source, now) : null;
    if (room) heard.rooms.push(room);
    else if (!srv && !txt) heard.refreshed.push(instance);
  }
  return heard;
}

function roomFrom(
  instance: string,
  srv: Answer,
  txt: Answer,
  byName: Map<string, Answer[]>,
  source: string | null,
  now: number,
): NearbyRoom | null {
  if (srv.type !== 'SRV' || typeof srv.data !== 'object' || srv.data === null) return null;
  const { port, target } = srv.data;
  if (!Number.isInteger(port) || port < 1 || port > MAX_PORT || typeof target !== 'string') return null;
  const fields = txt.type === 'TXT' ? txtFields(txt.data) : null;
  if (!fields) return null;

  const version = fields.get(TXT_KEYS.version);
  if (version === undefined || !/^\d{1,4}$/.test(version)) return null;
  const roomName = checkName(fields.get(TXT_KEYS.room), WIRE_LIMITS.roomNameChars);
  const hostName = checkName(fields.get(TXT_KEYS.host), WIRE_LIMITS.nameChars);
  const code = fields.get(TXT_KEYS.code);
  if (roomName === null || hostName === null || (code !== '0' && code !== '1')) return null;
  const fpText = fields.get(TXT_KEYS.fingerprint);
  // Only the stored form (32 lowercase hex digits). One that does not parse drops the room: it must
  // never read as "not encrypted".
  const fingerprint = fpText === undefined ? null : /^[0-9a-f]{32}$/.test(fpText) ? parseFingerprint(fpText) : null;
  if (fpText !== undefined && fingerprint === null) return null;

  const hosts = new Set<string>();
  for (const record of byName.get(target.toLowerCase()) ?? []) {
    if ((record.type === 'A' || record.type === 'AAAA') && typeof record.data === 'string' && usable(record.data)) {
      hosts.add(record.data);
    }
  }
  if (hosts.size === 0 && source !== null && usable(source)) hosts.add(source);
  const sorted = [...hosts].sort((a, b) => Number(isIPv6(a)) - Number(isIPv6(b))).slice(0, MAX_ADDRESSES);
  if (sorted.length === 0) return null;
  const addresses = sorted.map((host) => (isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`));
  return {
    id: `${instance}@${addresses[0]}`,
    roomName,
    hostName,
    address: addresses[0]!,
    addresses,
    codeRequired: code === '1',
    protocolVersion: Number(version),
    fingerprint,
    encrypted: fingerprint !== null,
    lastSeen: now,
  };
}

/** The TXT strings as key → value (first of a key wins, RFC 6763 §6.4); null when malformed or too long. */
function txtFields(data: unknown): Map<string, string> | null {
  const strings = Array.isArray(data) ? data : [data];
  let total = 0;
  const fields = new Map<string, string>();
  for (const item of strings) {
    if (!(item instanceof Uint8Array) && typeof item !== 'string') return null;
    const bytes = typeof item === 'string' ? Buffer.from(item) : item;
    total += bytes.length;
    if (total > MAX_TXT_BYTES) return null;
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return null;
    }
    const eq = text.indexOf('=');
    if (eq <= 0) continue;
    const key = text.slice(0, eq).toLowerCase();
    if (!fields.has(key)) fields.set(key, text.slice(eq + 1));
  }
  return fields;
}

function checkName(raw: string | undefined, maxChars: number): string | null {
  if (raw === undefined || raw.length > maxChars * 4) return null;
  const checked = checkDisplayName(raw, maxChars);
  return checked.ok ? checked.name : null;
}

/** An IP literal another machine could dial: not unspecified, multicast, broadcast or link-local IPv6. */
function usable(host: string): boolean {
  if (isIPv4(host)) return host !== '0.0.0.0' && host !== '255.255.255.255' && !/^2(2[4-9]|3\d)\./.test(host);
  if (isIPv6(host)) return host !== '::' && !/^(fe[89ab]|ff)/i.test(host);
  return false;
}

function arrayOf(value: Answer[] | undefined): Answer[] {
  return Array.isArray(value) ? value : [];
}

export class RoomBrowser extends EventEmitter<RoomBrowserEvents> {
  readonly #options: RoomBrowserOptions;
  /** Keyed by id; Map order is arrival order. */
  readonly #rooms = new Map<string, NearbyRoom>();
  /** Which machine (packet source) told each room: one machine cannot take every place. */
  readonly #sources = new Map<string, string>();
  #mdns: makeMdns.MulticastDNS | null = null;
  #status: NearbyStatus = { state: 'off' };
  #timers: ReturnType<typeof setInterval>[] = [];
  #pending: ReturnType<typeof setTimeout> | null = null;

  constructor(options: RoomBrowserOptions = {}) {
    super();
    this.#options = options;
  }

  get rooms(): NearbyRoom[] {
    return [...this.#rooms.values()];
  }

  get status(): NearbyStatus {
    return this.#status;
  }

  /** Starts listening and asking; 'failed' (with the reason) when multicast cannot be opened. */
  start(): void {
    if (this.#mdns) return;
    this.#status = { state: 'searching', since: Date.now() };
    try {
      this.#mdns = makeMdns({
        ...(this.#options.interface ? { interface: this.#options.interface, bind: '0.0.0.0' } : {}),
        ...(this.#options.mdnsPort ? { port: this.#options.mdnsPort } : {}),
      });
    } catch (error) {
      this.#fail(error);
      return;
    }
    const mdns = this.#mdns;
    mdns.on('error', (error) => this.#fail(error));
    mdns.on('warning', () => {
      // A malformed packet from someone, an interface without multicast: nothing to do.
    });
    mdns.on('response', (packet, rinfo) => {
      try {
        const source = rinfo?.address ?? '';
        this.#hear(heardAnnouncements(packet, source || null, Date.now()), source);
      } catch {
        // heardAnnouncements checks every field; a packet shape it did not expect is dropped.
      }
    });
    mdns.on('ready', () => this.#query());
    const every = this.#options.queryIntervalMs ?? DISCOVERY_TIMING.queryIntervalMs;
    this.#timers.push(setInterval(() => this.#query(), every));
    this.#timers.push(setInterval(() => this.#sweep(), Math.min(SWEEP_INTERVAL_MS, every)));
    this.#changed();
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    if (this.#pending) clearTimeout(this.#pending);
    this.#pending = null;
    const mdns = this.#mdns;
    this.#mdns = null;
    this.#rooms.clear();
    this.#sources.clear();
    this.#status = { state: 'off' };
    if (mdns) await new Promise<void>((resolve) => mdns.destroy(() => resolve()));
  }

  #query(): void {
    this.#mdns?.query({ questions: [{ name: SERVICE_NAME, type: 'PTR' }] }, (error: Error | null) => {
      if (!this.#mdns) return;
      if (error) this.#fail(error);
      else if (this.#status.state === 'failed') {
        this.#status = { state: 'searching', since: Date.now() };
        this.#changed();
      }
    });
  }

  #hear(heard: HeardAnnouncements, source: string): void {
    let changed = false;
    for (const instance of heard.goodbyes) {
      for (const [id, room] of this.#rooms) {
        if (room.id.startsWith(`${instance}@`)) changed = this.#forget(id) || changed;
      }
    }
    const now = Date.now();
    for (const instance of heard.refreshed) {
      for (const room of this.#rooms.values()) if (room.id.startsWith(`${instance}@`)) room.lastSeen = now;
    }
    for (const room of heard.rooms) {
      const known = this.#rooms.get(room.id);
      if (known) {
        if (!sameRoom(known, room)) changed = true;
        this.#rooms.set(room.id, room);
      } else if (this.#rooms.size < MAX_NEARBY_ROOMS || this.#makeRoomFor(source)) {
        this.#rooms.set(room.id, room);
        this.#sources.set(room.id, source);
        changed = true;
      }
    }
    if (changed) this.#changed();
  }

  /**
   * When the list is full, a room from a machine that has fewer rooms listed than the one with
   * the most takes the place of that one's newest: a machine flooding fake rooms keeps at most an
   * even share, and a real room hosted during a flood is still listed.
   */
  #makeRoomFor(source: string): boolean {
    const counts = new Map<string, number>();
    for (const from of this.#sources.values()) counts.set(from, (counts.get(from) ?? 0) + 1);
    let top = '';
    let most = 0;
    for (const [from, count] of counts) if (count > most) [top, most] = [from, count];
    if ((counts.get(source) ?? 0) + 1 >= most) return false;
    const newest = [...this.#sources].findLast(([, from]) => from === top)?.[0];
    if (newest === undefined) return false;
    this.#forget(newest);
    return true;
  }

  #forget(id: string): boolean {
    this.#sources.delete(id);
    return this.#rooms.delete(id);
  }

  #sweep(): void {
    const oldest = Date.now() - (this.#options.silenceMs ?? DISCOVERY_TIMING.silenceMs);
    let changed = false;
    for (const [id, room] of this.#rooms) {
      if (room.lastSeen < oldest) changed = this.#forget(id) || changed;
    }
    if (changed) this.#changed();
  }

  #fail(error: unknown): void {
    const detail = error instanceof Error ? error.message : String(error);
    const reason = `Cannot look for rooms on this network: multicast could not be used (${detail}).`;
    if (this.#status.state === 'failed' && this.#status.reason === reason) return;
    this.#status = { state: 'failed', reason };
    this.#changed();
  }

  /** Tells the list once, a moment after the first of a burst of changes. */
  #changed(): void {
    if (this.#pending) return;
    this.#pending = setTimeout(() => {
      this.#pending = null;
      this.emit('change', this.rooms, this.#status);
    }, this.#options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  }
}

function sameRoom(a: NearbyRoom, b: NearbyRoom): boolean {
  return (
    a.roomName === b.roomName &&
    a.hostName === b.hostName &&
    a.codeRequired === b.codeRequired &&
    a.fingerprint === b.fingerprint &&
    a.protocolVersion === b.protocolVersion &&
    a.addresses.join() === b.addresses.join()
  );
}
