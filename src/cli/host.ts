/**
 * Headless host: a Beacon room on plain Node, for an always-on machine.
 *   npm run host -- --port 4747 --code 1234 --data ./room --bind 127.0.0.1 --name "Team room"
 * Encrypted by default, with the room's own key in --data; it prints the
 * fingerprint and the invite that carries it. --insecure opts out.
 */
import { isIPv4 } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RoomAnnouncer } from '../host/room-announcer.ts';
import { RoomServer } from '../host/room-server.ts';
import { checkDisplayName, withSuffix } from '../shared/display-name.ts';
import { BeaconError } from '../shared/errors.ts';
import { formatFingerprint } from '../shared/fingerprint.ts';
import { randomJoinCode } from '../shared/ids.ts';
import { DEFAULT_FILE_LIMITS } from '../shared/files.ts';
import { DEFAULT_PORT, MAX_PORT, WIRE_LIMITS } from '../shared/protocol.ts';

const HELP = `Usage: npm run host -- [options]
  --port N       port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --bind ADDR    address to listen on (default: every interface)
  --code CODE    join code (default: a random eight-digit code, printed at start)
  --show-code    print a code given with --code too (by default it is not repeated: terminal output ends up in logs)
  --open         no join code: anyone on the network may join
  --data DIR     folder for the room's history and its key (default ./beacon-room)
  --name NAME    room name (default: the name the --data folder was last hosted under, else "Beacon room")
  --web DIR      built web client to serve (default ./out/renderer)
  --max-file-mb N     largest file a member may send, in MiB (default ${DEFAULT_FILE_LIMITS.maxFileBytes / 1024 ** 2})
  --files-quota-gb N  room for all the room's files together, in GiB (default ${DEFAULT_FILE_LIMITS.roomQuotaBytes / 1024 ** 3})
  --channels-by WHO   who may create channels: everyone (default) or host (only someone at this
                      computer, who may also rename and archive any channel)
  --keep-edit-history keep what a message said before each edit, in the room's database only
                      (never sent to anyone; off by default)
  --insecure     no encryption (ws:// and http://): anyone on the network can read the room,
                 the join code and members' tokens. Only for a network whose users you all trust.

The room is encrypted (wss:// and https://) with its own key and certificate,
made on the first start and kept in --data (tls-key.pem, tls-cert.pem).
Members check the host by its fingerprint: share the invite it prints (the
address with the fingerprint), and the code separately. If the key is ever
lost or made anew, the fingerprint changes and members who joined before are
warned that this is not the host they knew.`;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: String(DEFAULT_PORT) },
    bind: { type: 'string' },
    code: { type: 'string' },
    'show-code': { type: 'boolean', default: false },
    open: { type: 'boolean', default: false },
    data: { type: 'string', default: './beacon-room' },
    name: { type: 'string' },
    web: { type: 'string', default: './out/renderer' },
    insecure: { type: 'boolean', default: false },
    'max-file-mb': { type: 'string' },
    'files-quota-gb': { type: 'string' },
    'channels-by': { type: 'string', default: 'everyone' },
    'keep-edit-history': { type: 'boolean', default: false },
    'host-name': { type: 'string' },
    'no-announce': { type: 'boolean', default: false },
    // For tests on loopback: a port of their own instead of multicast DNS's 5353.
    'mdns-port': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) {
  console.error(`--port must be a number from 0 to ${MAX_PORT}, not "${values.port}".`);
  process.exit(2);
}
/** A positive size flag in `unit` bytes, or undefined when not given; exits with a sentence when wrong. */
function sizeFlag(name: string, value: string | undefined, unit: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number, not "${value}".`);
    process.exit(2);
  }
  return Math.floor(n * unit);
}
const maxFileBytes = sizeFlag('max-file-mb', values['max-file-mb'], 1024 ** 2);
const roomFilesQuotaBytes = sizeFlag('files-quota-gb', values['files-quota-gb'], 1024 ** 3);
const channelCreators = values['channels-by'];
if (channelCreators !== 'everyone' && channelCreators !== 'host') {
  console.error(`--channels-by must be "everyone" or "host", not "${channelCreators}".`);
  process.exit(2);
}
const hostName = checkDisplayName(values['host-name'] ?? withSuffix(hostname(), '', WIRE_LIMITS.nameChars));
if (!hostName.ok) {
  console.error(`--host-name: ${hostName.reason}`);
  process.exit(2);
}

const time = (): string => new Date().toLocaleTimeString();
let server: RoomServer;
try {
  server = await RoomServer.start({
    port,
    bind: values.bind,
    roomName: values.name,
    code: values.open ? null : (values.code ?? randomJoinCode()),
    dataDir: resolve(values.data),
    webRoot: resolve(values.web),
    insecure: values.insecure,
    channelCreators,
    keepEditHistory: values['keep-edit-history'],
    limits: {
      ...(maxFileBytes === undefined ? {} : { maxFileBytes }),
      ...(roomFilesQuotaBytes === undefined ? {} : { roomFilesQuotaBytes }),
    },
  });
} catch (error) {
  const message = error instanceof BeaconError ? `${error.message} [${error.code}]` : String(error);
  console.error(`Could not start the room: ${message}`);
  process.exit(1);
}

const info = server.info();
if (info.fingerprint === null) {
  console.warn(
    'Warning: --insecure: this room is NOT encrypted. Anyone on the network can read every message, ' +
      'the join code and members’ tokens (and so speak as them), and can pretend to be this host.',
  );
}
console.log(`Beacon room "${info.roomName}" is open${info.fingerprint ? ', encrypted' : ', NOT encrypted'}. Join at:`);
for (const address of info.addresses) console.log(address);
if (info.fingerprint !== null) console.log(`Fingerprint: ${formatFingerprint(info.fingerprint)}`);
if (info.invite !== null) console.log(`Invite: ${info.invite}`);
// A code the operator chose is known to them already; one made up here must be shown once.
const codeLine = !info.code
  ? 'No join code: anyone on the network may join.'
  : values.code !== undefined && !values['show-code']
    ? 'Join code: the one given with --code (not printed: --show-code prints it)'
    : `Join code: ${info.code}`;
console.log(codeLine);
console.log(`In a browser: ${info.webAddresses[0]}`);
if (info.invite !== null) {
  console.log(
    'Send members the invite (it carries the fingerprint, so their app checks it is really this host), ' +
      'and the join code separately.\n' +
      `From a terminal: npm run join -- "${info.invite}" --name NAME${info.code ? ' --code CODE' : ''}\n` +
      'A browser warns once about the room’s own certificate: compare the SHA-256 fingerprint it shows ' +
      'with the one above (its first 32 digits) before going on.',
  );
}
if (!server.hasFts5) console.warn('Warning: this SQLite has no FTS5; search will be unavailable.');
server.on('presence', (event, member) => {
  if (event === 'joined' || event === 'left') console.log(`${time()} ${member.name} ${event}`);
});
server.on('error', (error) => console.error(`${time()} ${error.message}`));

// Announced where it listens: every interface, or only the one --bind names (127.0.0.1: loopback only).
const bind = values.bind && !['0.0.0.0', '::'].includes(values.bind) ? values.bind : undefined;
// Not awaited: probing for a free name takes about a second, and Ctrl-C must work meanwhile.
const announcing: Promise<RoomAnnouncer | null> = values['no-announce']
  ? Promise.resolve(null)
  : RoomAnnouncer.start(
      {
        roomName: info.roomName,
        hostName: hostName.name,
        port: info.port,
        codeRequired: info.code !== null,
        fingerprint: info.fingerprint,
      },
      {
        ...(bind ? { addresses: [bind], ...(isIPv4(bind) ? { interface: bind } : {}) } : {}),
        ...(values['mdns-port'] ? { mdnsPort: Number(values['mdns-port']) } : {}),
      },
    )
      .then((announcer) => {
        announcer.on('warning', (message) => console.warn(`${time()} ${message}`));
        console.log(
          `Announced on the local network as "${announcer.instanceName}" (host ${hostName.name}); ` +
            '--no-announce to stop that.',
        );
        return announcer;
      })
      .catch((error: unknown) => {
        console.warn(`${time()} The room could not be announced on the local network: ${String(error)}`);
        return null;
      });
if (values['no-announce']) console.log('Not announced on the local network (--no-announce): share the address.');

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  console.log('Stopping the room…');
  // The goodbye first, so apps nearby drop the room at once.
  void announcing
    .then((announcer) => announcer?.stop())
    .then(() => server.stop())
    .then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
