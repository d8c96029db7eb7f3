/**
 * Headless host: a Beacon room on plain Node, for an always-on machine.
 *   npm run host -- --port 4747 --code 1234 --data ./room --bind 127.0.0.1 --name "Team room"
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RoomServer } from '../host/room-server.ts';
import { BeaconError } from '../shared/errors.ts';
import { randomJoinCode } from '../shared/ids.ts';
import { DEFAULT_PORT, MAX_PORT } from '../shared/protocol.ts';

const HELP = `Usage: npm run host -- [options]
  --port N       port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --bind ADDR    address to listen on (default: every interface)
  --code CODE    join code (default: a random eight-digit code)
  --open         no join code: anyone on the network may join
  --data DIR     folder for the room's history (default ./beacon-room)
  --name NAME    room name (default: the name the --data folder was last hosted under, else "Beacon room")
  --web DIR      built web client to serve (default ./out/renderer)`;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: String(DEFAULT_PORT) },
    bind: { type: 'string' },
    code: { type: 'string' },
    open: { type: 'boolean', default: false },
    data: { type: 'string', default: './beacon-room' },
    name: { type: 'string' },
    web: { type: 'string', default: './out/renderer' },
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
  });
} catch (error) {
  const message = error instanceof BeaconError ? `${error.message} [${error.code}]` : String(error);
  console.error(`Could not start the room: ${message}`);
  process.exit(1);
}

const info = server.info();
console.log(`Beacon room "${info.roomName}" is open. Join at:`);
for (const address of info.addresses) console.log(address);
console.log(info.code ? `Join code: ${info.code}` : 'No join code: anyone on the network may join.');
console.log(`In a browser: ${info.webAddresses[0]}`);
if (!server.hasFts5) console.warn('Warning: this SQLite has no FTS5; search will be unavailable.');
server.on('presence', (event, member) => {
  if (event === 'joined' || event === 'left') console.log(`${time()} ${member.name} ${event}`);
});
server.on('error', (error) => console.error(`${time()} ${error.message}`));

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  console.log('Stopping the room…');
  void server.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
