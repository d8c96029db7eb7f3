/**
 * Terminal client: sends each line of stdin to the room, prints what arrives.
 *   npm run join -- "https://192.168.1.20:4747/#fp=3f9a…" --name bot --code 1234   (an invite: pinned)
 *   npm run join -- 192.168.1.20:4747 --name bot --code 1234                       (trusted on first use)
 * Messages go to stdout as "name: text" (direct ones as "name → you: text");
 * connection news goes to stderr, so pipes see only the conversation.
 * "/dm NAME text" sends a direct message; "/file PATH [caption]" uploads a file
 * (progress on one line of stderr) and sends it. When stdin ends, it waits until
 * every line (and file) is acknowledged, then leaves.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parseRoomAddress } from '../shared/address.ts';
import { type ConnectionSecurity, type ConnectionState, ROOM } from '../shared/chat-api.ts';
import { type Fingerprint, formatFingerprint, parseFingerprint } from '../shared/fingerprint.ts';
import { FileOutbox } from '../shared/file-outbox.ts';
import { originOfRoom } from '../shared/files.ts';
import type { FileRef, Member, WelcomeFrame } from '../shared/protocol.ts';
import { type HostPin, RoomClient } from '../shared/room-client.ts';
import type { Transfer } from '../shared/chat-api.ts';
import { type NodeFile, nodeFilePlatform } from '../node/file-http.ts';
import { wsSocketFactory } from '../node/ws-socket.ts';
import { printable } from './terminal-text.ts';

const HELP = `Usage: npm run join -- INVITE|ADDRESS [options]
  INVITE            what the host hands out: "https://192.168.1.20:4747/#fp=3f9a…" (quote it)
  ADDRESS           192.168.1.20:4747 (encrypted), or ws://192.168.1.20:4747 for a host run with --insecure
  --name NAME       your name in the room (default "terminal")
  --code CODE       the room's join code
  --fingerprint FP  the host's fingerprint, as the host prints it ("3F9A 21C4 …"), if you have no invite
  -q, --quiet       only the conversation: no connection news on stderr

In the room: "/dm NAME text" sends a direct message, "/file PATH [caption]"
sends a file (quote a PATH with spaces: /file "my plans.pdf" the plans).

With an invite (or --fingerprint) the host must show that fingerprint, or
nothing is sent to it. With a bare address the first host that answers is
trusted and its fingerprint printed: compare it with the one the host shows.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string', default: 'terminal' },
    code: { type: 'string' },
    fingerprint: { type: 'string' },
    quiet: { type: 'boolean', short: 'q', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const address = parseRoomAddress(positionals[0] ?? '');
if (!address.ok) {
  console.error(`${address.problem}\n\n${HELP}`);
  process.exit(2);
}
let given: Fingerprint | null = address.fingerprint;
if (values.fingerprint !== undefined) {
  given = parseFingerprint(values.fingerprint);
  if (!given) {
    console.error('--fingerprint must be the 32 hex digits the host prints ("3F9A 21C4 …").');
    process.exit(2);
  }
}
const pin: HostPin | undefined = given ? { fingerprint: given, trust: 'invite' } : undefined;

const client = new RoomClient({
  url: address.url,
  name: values.name,
  code: values.code,
  socketFactory: wsSocketFactory,
  ...(pin ? { pin } : {}),
});
const members = new Map<string, Member>();
const nameOf = (id: string): string => printable(members.get(id)?.name ?? id);
const note = (text: string): void => {
  if (!values.quiet) console.error(text);
};

/** How the host was recognised, in words: always said, even with --quiet, since it is the person's to check. */
function securityWords(security: ConnectionSecurity | undefined): string {
  if (!security?.encrypted) return 'NOT encrypted: anyone on the network can read this room';
  const fingerprint = formatFingerprint(security.fingerprint);
  if (security.trust === 'first-use') {
    return `encrypted; trusted on first use, fingerprint ${fingerprint}: compare it with the one the host shows`;
  }
  return `encrypted; the host's fingerprint ${fingerprint} matched`;
}

/** The warning for a host that is not the one expected, both fingerprints written out. */
function hostChangedWords(state: ConnectionState): string {
  if (state.kind !== 'offline' || !state.fingerprints) return '';
  return (
    `\n  expected fingerprint: ${formatFingerprint(state.fingerprints.expected)}` +
    `\n  the host showed:      ${formatFingerprint(state.fingerprints.presented)}`
  );
}

let welcomed = false;
client.on('state', (state) => {
  if (state.kind === 'connected' && state.rttMs === null) {
    console.error(`* connected to ${state.address} (${securityWords(state.security)})`);
  }
  if (state.kind === 'reconnecting') note(`* reconnecting (attempt ${state.attempt}): ${state.reasonText}`);
  if (state.kind === 'offline') note(`* offline: ${state.reasonText}`);
  // After joining, a final refusal (the host changed, or refuses us) ends the session: nothing retries it.
  if (welcomed && state.kind === 'offline' && state.nextRetryAt === null) {
    console.error(`Disconnected: ${state.reasonText}${hostChangedWords(state)}`);
    process.exit(1);
  }
});
client.on('welcome', (welcome) => {
  welcomed = true;
  members.clear();
  for (const member of welcome.members) members.set(member.id, member);
  note(`* joined "${printable(welcome.room.name)}" as ${printable(welcome.you.name)}; ${welcome.members.length} here`);
});
client.on('presence', (event, member) => {
  if (event === 'left') members.delete(member.id);
  else members.set(member.id, member);
  if (event === 'joined' || event === 'left') note(`* ${printable(member.name)} ${event}`);
});
client.on('message', (message) => {
  const me = client.me?.id;
  const target = message.to === null ? '' : message.to === me ? ' → you' : ` → ${nameOf(message.to)}`;
  console.log(`${nameOf(message.from)}${target}: ${printable(message.text)}`);
  for (const file of message.files ?? []) console.log(`  file: ${fileWords(file)}`);
});
client.on('status', (update) => {
  if (update.status === 'failed') note(`* not sent: ${update.error ?? ''}`);
  maybeFinish();
});
client.on('error', (error) => note(`* ${error.message}`));

// ── files ────────────────────────────────────────────────────────────────────

/** What the latest welcome said about files (null: this room takes none). */
let roomFiles: NonNullable<WelcomeFrame['files']> | null = null;
client.on('welcome', (welcome) => {
  roomFiles = welcome.files ?? null;
});

/** "plans.png (179 KiB)", the name made safe for the terminal. */
function fileWords(file: Pick<FileRef, 'name' | 'size'>): string {
  return `${printable(file.name)} (${byteWords(file.size)})`;
}

function byteWords(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** A transfer on one line of stderr: rewritten in place on a terminal; in a pipe, a line per tenth and per change of state. */
function showTransfer(transfer: Transfer): void {
  if (values.quiet) return;
  const percent = transfer.size > 0 ? Math.floor((transfer.doneBytes / transfer.size) * 100) : 100;
  const speed = transfer.bytesPerSecond === null ? '' : `, ${byteWords(Math.round(transfer.bytesPerSecond))}/s`;
  const left = transfer.secondsLeft === null ? '' : `, ${transfer.secondsLeft} s left`;
  const words: Record<Transfer['state'], string> = {
    preparing: 'preparing',
    active: `${percent}%${speed}${left}`,
    waiting: `waiting for the host (${transfer.error?.message ?? ''})`,
    done: 'uploaded',
    failed: `failed: ${transfer.error?.message ?? ''}`,
    cancelled: 'cancelled',
  };
  const line = `* ${printable(transfer.name)}: ${words[transfer.state]}`;
  const final = transfer.state === 'done' || transfer.state === 'failed' || transfer.state === 'cancelled';
  if (process.stderr.isTTY) return void process.stderr.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
  // In a pipe or a log: every change of state, and progress at each tenth.
  const tenth = transfer.state === 'active' ? Math.floor(percent / 10) : -1;
  if (transfer.state === 'active' && tenth === printedTenths.get(transfer.id)) return;
  printedTenths.set(transfer.id, tenth);
  process.stderr.write(`${line}\n`);
}
/** The last tenth of each transfer printed to a pipe (-1 after a change of state). */
const printedTenths = new Map<string, number>();

const uploads = new FileOutbox<NodeFile>({
  platform: nodeFilePlatform(),
  access: () =>
    roomFiles && {
      origin: originOfRoom(client.url),
      token: roomFiles.token,
      pin: client.pin?.fingerprint ?? null,
      maxFileBytes: roomFiles.maxFileBytes,
      maxUploadsInFlight: roomFiles.maxUploadsInFlight,
    },
  emit: showTransfer,
  send: (clientId, fileIds) => client.sendWithFiles(clientId, fileIds),
  fail: (clientId, error) => client.failWaiting(clientId, error),
  withdraw: (clientId) => {
    client.withdraw(clientId);
    maybeFinish();
  },
  resume: (clientId) => client.retry(clientId),
});

/** `/file PATH [caption]`: PATH may be quoted. */
async function sendFile(argument: string): Promise<void> {
  const match = /^(?:"([^"]+)"|'([^']+)'|(\S+))\s*(.*)$/.exec(argument.trim());
  if (!match) return note('* /file needs a PATH');
  const path = match[1] ?? match[2] ?? match[3]!;
  const caption = match[4] ?? '';
  if (!roomFiles) return note('* this room does not take files');
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) return note(`* cannot read ${printable(path)}`);
  const transfers = uploads.plan(1);
  const message = client.send(caption, null, ROOM, transfers);
  if (message.status !== 'pending') return note(`* not sent: ${message.error ?? ''}`);
  uploads.start(message.clientId, ROOM, transfers, [
    { file: { path }, name: basename(path), size: info.size, type: '' },
  ]);
}

let inputEnded = false;
function maybeFinish(): void {
  if (inputEnded && client.outbox.every((message) => message.status !== 'pending')) {
    client.close();
    process.exit(0);
  }
}

try {
  await client.connect();
} catch (error) {
  console.error(`Could not join: ${(error as { message: string }).message}${hostChangedWords(client.state)}`);
  process.exit(1);
}

const lines = createInterface({ input: process.stdin });
/** Lines are handled in order: a /file is in the outbox before the next line is read. */
let handling: Promise<void> = Promise.resolve();
lines.on('line', (line) => {
  handling = handling.then(() => handleLine(line));
});
async function handleLine(line: string): Promise<void> {
  const file = /^\/file\s+(.+)$/.exec(line);
  if (file) return sendFile(file[1]!);
  const direct = /^\/dm\s+(\S+)\s+(.+)$/.exec(line);
  if (direct) {
    const target = [...members.values()].find((member) => member.name === direct[1]);
    if (!target) return note(`* nobody called ${direct[1]} is here`);
    client.send(direct[2]!, target.id, target.id);
    return;
  }
  if (line.trim().length > 0) client.send(line, null, ROOM);
}
lines.on('close', () => {
  void handling.then(() => {
    inputEnded = true;
    maybeFinish();
  });
});
process.on('SIGINT', () => {
  client.close();
  process.exit(0);
});
