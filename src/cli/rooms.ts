/**
 * Lists the rooms announced on the local network, for people and scripts:
 *   npm run rooms -- [--seconds 3] [--json]
 * One room per line, tab-separated: address, room name, host name, "code" or
 * "open", the fingerprint (32 hex digits) or "insecure". Names never hold a tab
 * or a line break (the browser refuses or collapses them). With --json, one
 * NearbyRoom (src/shared/discovery.ts) per line. Nothing found: nothing on
 * stdout, a note on stderr, exit 0 (exit 1 when multicast could not be used at all).
 */
import { parseArgs } from 'node:util';
import type { NearbyRoom } from '../shared/discovery.ts';
import { RoomBrowser } from '../node/room-browser.ts';

const HELP = `Usage: npm run rooms -- [options]
  --seconds N        how long to listen (default 3)
  --json             one JSON object per room and line instead of tab-separated text
  --interface ADDR   the IPv4 address of the one interface to look on (default: every interface)

Prints one room per line: address, room name, host name, code|open, fingerprint|insecure,
separated by tabs. Join one with: npm run join -- "https://ADDRESS/#fp=FINGERPRINT" --name NAME`;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    interface: { type: 'string' },
    // For tests on loopback: a port of their own instead of multicast DNS's 5353.
    'mdns-port': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
  console.error(`--seconds must be a number of seconds from 0 to 3600, not "${values.seconds}".`);
  process.exit(2);
}

const browser = new RoomBrowser({
  ...(values.interface ? { interface: values.interface } : {}),
  ...(values['mdns-port'] ? { mdnsPort: Number(values['mdns-port']) } : {}),
  debounceMs: 0,
});
browser.start();
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const rooms = browser.rooms.sort(byName);
const status = browser.status;
await browser.stop();

for (const room of rooms) console.log(values.json ? JSON.stringify(room) : line(room));
if (rooms.length === 0 && status.state === 'failed') {
  console.error(status.reason);
  process.exit(1);
}
if (rooms.length === 0) {
  console.error(
    `No rooms found in ${seconds} s. Discovery needs multicast: another subnet, a VPN or a firewall ` +
      'can hide rooms; join by address instead.',
  );
}

function line(room: NearbyRoom): string {
  return [
    room.address,
    room.roomName,
    room.hostName,
    room.codeRequired ? 'code' : 'open',
    room.fingerprint ?? 'insecure',
  ].join('\t');
}

function byName(a: NearbyRoom, b: NearbyRoom): number {
  return a.roomName.localeCompare(b.roomName) || a.hostName.localeCompare(b.hostName) || a.id.localeCompare(b.id);
}
