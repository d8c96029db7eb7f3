/**
 * Announces a hosted room on the local network: DNS-SD over multicast DNS,
 * `_beacon._tcp.local`, with the TXT keys of src/shared/discovery.ts. It
 * probes for its instance name first and renames itself ("Team room [3f9a] (2)")
 * when another host holds it, answers every browser's query, and says goodbye
 * (the same records with TTL 0) on stop so browsers drop the room at once.
 *
 * Built on multicast-dns (pure JS, the engine under bonjour-service) rather than
 * a full responder library: @homebridge/ciao probes and renames properly but
 * only advertises (we browse too) and fixes its TTLs at the RFC's 75 minutes;
 * bonjour-service 1.4 fixes its TTLs too (PTR 8 h, TXT 75 min: another DNS-SD
 * browser would list a killed host for hours), gives up with a console message
 * on a name conflict instead of renaming, and its browser keeps every service
 * ever heard. What we need of DNS-SD is small: five record types, a probe, a
 * goodbye, a short TTL, written here in one place.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import makeMdns from 'multicast-dns';
import type { Answer, Question, RecordType } from 'dns-packet';
import { checkDisplayName, withSuffix } from '../shared/display-name.ts';
import { DISCOVERY_TIMING, SERVICE_NAME, TXT_KEYS } from '../shared/discovery.ts';
import type { Fingerprint } from '../shared/fingerprint.ts';
import { PROTOCOL_VERSION, WIRE_LIMITS } from '../shared/protocol.ts';

export interface RoomAnnouncement {
  roomName: string;
  /** The hosting person's display name (the headless host: the machine's name). */
  hostName: string;
  port: number;
  codeRequired: boolean;
  fingerprint: Fingerprint | null;
}

export interface RoomAnnouncerOptions {
  /**
   * The one IPv4 address of the interface to announce on (multicast is sent and
   * joined there only), e.g. '127.0.0.1' in tests. Default: every interface.
   */
  interface?: string;
  /** The addresses to announce (A/AAAA). Default: `interface`, else every non-internal address. */
  addresses?: string[];
  /** UDP port of multicast DNS (5353); tests pick their own so parallel runs never meet. */
  mdnsPort?: number;
  /** TTL of every record, seconds (DISCOVERY_TIMING.recordTtlSeconds). */
  ttlSeconds?: number;
}

export interface RoomAnnouncerEvents {
  /** Something the operator may want to know (multicast could not be opened, a rename); never fatal. */
  warning: [message: string];
}

/** dns-packet's name for QTYPE 255, missing from its types. */
const ANY = 'ANY' as RecordType;
const SERVICES_ENUMERATION = '_services._dns-sd._udp.local';
/** RFC 6762 §8.1: three probes 250 ms apart; an answer to any of them means the name is taken. */
const PROBES = 3;
const PROBE_INTERVAL_MS = 250;
/** Unsolicited announcements after probing (RFC 6762 §8.3: at least two, one second apart). */
const ANNOUNCE_DELAYS_MS = [0, 1_000, 3_000];
/** A DNS label is at most 63 bytes. */
const MAX_LABEL_BYTES = 63;
/** Renames tried before giving up ("(2)" to "(20)"). */
const MAX_RENAMES = 20;
/** Answers to queries for one name are sent at most this often: a flood of queries is not echoed. */
const MIN_ANSWER_INTERVAL_MS = 200;

export class RoomAnnouncer extends EventEmitter<RoomAnnouncerEvents> {
  readonly #announcement: RoomAnnouncement;
  readonly #options: RoomAnnouncerOptions;
  readonly #mdns: makeMdns.MulticastDNS;
  readonly #suffix: string;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #lastAnswer = new Map<string, number>();
  #instance = '';
  #live = false;
  #stopping: Promise<void> | null = null;

  private constructor(announcement: RoomAnnouncement, options: RoomAnnouncerOptions) {
    super();
    this.#announcement = announcement;
    this.#options = options;
    // Stable for a room with a key (its fingerprint), so other browsers' caches see one name across restarts.
    this.#suffix = (announcement.fingerprint ?? createHash('sha256').update(randomBytes(8)).digest('hex')).slice(0, 4);
    this.#mdns = makeMdns({
      ...(options.interface ? { interface: options.interface, bind: '0.0.0.0' } : {}),
      ...(options.mdnsPort ? { port: options.mdnsPort } : {}),
    });
    this.#mdns.on('error', (error) =>
      this.emit('warning', `Cannot announce the room on the network: ${error.message}`),
    );
    this.#mdns.on('warning', () => {
      // Malformed packets from others and interfaces without multicast: nothing to tell.
    });
    this.#mdns.on('query', (query) => this.#answer(query.questions ?? []));
  }

  /** Probes for a free instance name, then announces. Resolves once the first announcement is sent. */
  static async start(announcement: RoomAnnouncement, options: RoomAnnouncerOptions = {}): Promise<RoomAnnouncer> {
    const announcer = new RoomAnnouncer(announcement, options);
    await announcer.#claimName();
    return announcer;
  }

  /** The DNS-SD instance name in use (after any rename). */
  get instanceName(): string {
    return this.#instance;
  }

  /** Says goodbye (every record with TTL 0) and closes the socket. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#live) {
      this.#live = false;
      await new Promise<void>((resolve) => this.#mdns.respond({ answers: this.#records(0) }, () => resolve()));
    }
    await new Promise<void>((resolve) => this.#mdns.destroy(() => resolve()));
  }

  async #claimName(): Promise<void> {
    const base = instanceBase(this.#announcement.roomName, this.#suffix);
    for (let attempt = 1; attempt <= MAX_RENAMES; attempt++) {
      const name = attempt === 1 ? base : withBytes(base, ` (${attempt})`);
      if (this.#stopping) return;
      if (!(await this.#taken(name))) {
        if (attempt > 1) this.emit('warning', `Another host announces "${base}"; this room is announced as "${name}".`);
        this.#instance = name;
        this.#live = true;
        for (const delay of ANNOUNCE_DELAYS_MS) {
          this.#later(delay, () => this.#mdns.respond({ answers: this.#records() }));
        }
        return;
      }
    }
    this.emit('warning', `Could not find a free name to announce "${base}" under; the room is not announced.`);
  }

  /** True when another responder answers for `${name}._beacon._tcp.local` while we probe. */
  #taken(name: string): Promise<boolean> {
    const fqdn = `${name}.${SERVICE_NAME}`.toLowerCase();
    return new Promise((resolve) => {
      let probes = 0;
      let done = false;
      const onResponse = (packet: makeMdns.ResponsePacket): void => {
        const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])];
        if (records.some((record) => record.name.toLowerCase() === fqdn && 'ttl' in record && record.ttl !== 0))
          finish(true);
      };
      const finish = (taken: boolean): void => {
        if (done) return;
        done = true;
        this.#mdns.removeListener('response', onResponse);
        resolve(taken);
      };
      const probe = (): void => {
        if (done) return;
        if (this.#stopping) return finish(false);
        if (probes++ === PROBES) return finish(false);
        this.#mdns.query({ questions: [{ name: fqdn, type: ANY }] });
        this.#later(PROBE_INTERVAL_MS, probe);
      };
      this.#mdns.on('response', onResponse);
      probe();
    });
  }

  #answer(questions: Question[]): void {
    if (!this.#live) return;
    const records = this.#records();
    const fqdn = `${this.#instance}.${SERVICE_NAME}`.toLowerCase();
    for (const question of questions.slice(0, 10)) {
      const name = question.name.toLowerCase();
      const any = question.type === ANY;
      let answers: Answer[] = [];
      if (name === SERVICE_NAME && (any || question.type === 'PTR')) answers = records.slice(0, 1);
      else if (name === fqdn && (any || question.type === 'SRV' || question.type === 'TXT')) {
        answers = records.filter((r) => r.name.toLowerCase() === fqdn);
      } else if (name === SERVICES_ENUMERATION && (any || question.type === 'PTR')) answers = records.slice(-1);
      if (answers.length === 0) continue;
      const now = Date.now();
      if (now - (this.#lastAnswer.get(name) ?? 0) < MIN_ANSWER_INTERVAL_MS) continue;
      this.#lastAnswer.set(name, now);
      // The whole set rides along, so one answer is enough for a browser to list the room.
      this.#mdns.respond({ answers, additionals: records.filter((r) => !answers.includes(r)) });
    }
  }

  /** PTR, SRV, TXT, A/AAAA, the service-type enumeration PTR last; `ttl` 0 for the goodbye. */
  #records(ttl: number = this.#options.ttlSeconds ?? DISCOVERY_TIMING.recordTtlSeconds): Answer[] {
    const { port, roomName, hostName, codeRequired, fingerprint } = this.#announcement;
    const fqdn = `${this.#instance}.${SERVICE_NAME}`;
    const target = `beacon-${this.#suffix}.local`;
    const txt = [
      `${TXT_KEYS.version}=${PROTOCOL_VERSION}`,
      `${TXT_KEYS.room}=${announcedName(roomName, WIRE_LIMITS.roomNameChars, 'Beacon room')}`,
      `${TXT_KEYS.host}=${announcedName(hostName, WIRE_LIMITS.nameChars, 'Host')}`,
      `${TXT_KEYS.code}=${codeRequired ? '1' : '0'}`,
      ...(fingerprint ? [`${TXT_KEYS.fingerprint}=${fingerprint}`] : []),
    ];
    const addresses = this.#addresses().map((address): Answer => ({
      name: target,
      type: isIPv4(address) ? 'A' : 'AAAA',
      ttl,
      flush: true,
      data: address,
    }));
    return [
      { name: SERVICE_NAME, type: 'PTR', ttl, data: fqdn },
      { name: fqdn, type: 'SRV', ttl, flush: true, data: { port, target, priority: 0, weight: 0 } },
      { name: fqdn, type: 'TXT', ttl, flush: true, data: txt },
      ...addresses,
      { name: SERVICES_ENUMERATION, type: 'PTR', ttl, data: SERVICE_NAME },
    ];
  }

  #addresses(): string[] {
    if (this.#options.addresses) return this.#options.addresses;
    if (this.#options.interface) return [this.#options.interface];
    const found: string[] = [];
    for (const list of Object.values(networkInterfaces())) {
      for (const info of list ?? []) {
        if (info.internal) continue;
        // A link-local IPv6 address needs its zone to be dialled: useless to another machine.
        if (isIPv6(info.address) && /^fe[89ab]/i.test(info.address)) continue;
        found.push(info.address);
      }
    }
    return found.slice(0, 8);
  }

  #later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }
}

/** The instance label: the room's name and a short suffix, dots made dashes, within a DNS label. */
function instanceBase(roomName: string, suffix: string): string {
  const clean = announcedName(roomName, WIRE_LIMITS.roomNameChars, 'Beacon room').replace(/[.\\]/g, '-');
  return withBytes(clean, ` [${suffix}]`);
}

/** `name + tail` cut (between graphemes) so it fits one DNS label of UTF-8. */
function withBytes(name: string, tail: string): string {
  let chars = name.length + tail.length;
  let whole = withSuffix(name, tail, chars);
  while (Buffer.byteLength(whole) > MAX_LABEL_BYTES && chars > tail.length) whole = withSuffix(name, tail, --chars);
  return whole;
}

/** A name as browsers will accept it (display-name rules): invisible and control characters taken out. */
function announcedName(raw: string, maxChars: number, fallback: string): string {
  const checked = checkDisplayName(raw, maxChars);
  if (checked.ok) return checked.name;
  const cleaned = raw.replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\u2028\u2029]/gu, '').slice(0, maxChars);
  const again = checkDisplayName(cleaned, maxChars);
  return again.ok ? again.name : fallback;
}
