/**
 * Terminal client: sends each line of stdin to the room, prints what arrives.
 *   npm run join -- "https://192.168.1.20:4747/#fp=3f9a…" --name bot --code 1234   (an invite: pinned)
 *   npm run join -- 192.168.1.20:4747 --name bot --code 1234                       (trusted on first use)
 * Messages go to stdout as "name: text" (direct ones as "name → you: text", those
 * of a channel as "#channel name: text"), with edits, deletions and reactions as
 * lines of their own; connection news goes to stderr, so pipes see only the
 * conversation (and the answers to commands: /channels, /search, /who).
 * "/dm NAME text" sends a direct message; "/file PATH [caption]" uploads a file
 * (progress on one line of stderr) and sends it; "/join #channel" chooses the
 * channel lines go to. When stdin ends, it waits until every line (and file,
 * edit, deletion) is answered, then leaves.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parseRoomAddress } from '../shared/address.ts';
import type { ConnectionSecurity, ConnectionState } from '../shared/chat-api.ts';
import { type Fingerprint, formatFingerprint, parseFingerprint } from '../shared/fingerprint.ts';
import { FileOutbox } from '../shared/file-outbox.ts';
import { originOfRoom } from '../shared/files.ts';
import {
  type Channel,
  type ChatMessage,
  DEFAULT_CHANNEL,
  type FileRef,
  type Member,
  type Update,
  type WelcomeFrame,
} from '../shared/protocol.ts';
import { applyToMessage } from '../shared/message-updates.ts';
import type { Result } from '../shared/chat-api.ts';
import { type HostPin, RoomClient } from '../shared/room-client.ts';
import type { Transfer } from '../shared/chat-api.ts';
import { type NodeFile, nodeFilePlatform } from '../node/file-http.ts';
import { wsSocketFactory } from '../node/ws-socket.ts';
import { printable } from './terminal-text.ts';
import { channelList, messageLines, type RoomWords, searchHitLine, updateLine, whoLines } from './room-lines.ts';

const HELP = `Usage: npm run join -- INVITE|ADDRESS [options]
  INVITE            what the host hands out: "https://192.168.1.20:4747/#fp=3f9a…" (quote it)
  ADDRESS           192.168.1.20:4747 (encrypted), or ws://192.168.1.20:4747 for a host run with --insecure
  --name NAME       your name in the room (default "terminal")
  --code CODE       the room's join code
  --fingerprint FP  the host's fingerprint, as the host prints it ("3F9A 21C4 …"), if you have no invite
  -q, --quiet       only the conversation: no connection news on stderr

In the room: "/dm NAME text" sends a direct message, "/file PATH [caption]"
sends a file (quote a PATH with spaces: /file "my plans.pdf" the plans).
Channels: "/channels" lists them, "/join #name" sends your lines there from
now on ("/join #general" back to the room's default channel), "/create NAME"
makes one. "/search WORDS" prints what matches, newest first. "/edit TEXT"
replaces the text of your last message, "/delete" deletes it. "/who" says
who is here (in a large room the first of them), "/who NAME" finds someone.

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
/** Names the host gave for people who may have left (welcome, pages, search answers). */
const knownNames = new Map<string, string>();
/** The room's channels (v1.5), by id, in the host's order. */
const channels = new Map<string, Channel>();
/** The channel this terminal's lines go to. */
let currentChannel: string = DEFAULT_CHANNEL;
/** Messages shown (the latest SEEN_MESSAGES), so an update can say which message it changed. */
const seen = new Map<number, ChatMessage>();
const SEEN_MESSAGES = 5_000;
/** This member's latest message, for /edit and /delete. */
let lastOwnSeq: number | null = null;
/** Requests (edits, deletions, channel changes, searches) not answered yet: the session waits for them. */
let requestsInFlight = 0;
const words: RoomWords = {
  nameOf: (id) => members.get(id)?.name ?? knownNames.get(id) ?? id,
  channel: (id) => channels.get(id),
  get me() {
    return client.me?.id ?? null;
  },
};
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
client.on('welcome', (welcome, continues) => {
  welcomed = true;
  members.clear();
  for (const member of welcome.members) members.set(member.id, member);
  learnNames(welcome.names);
  channels.clear();
  for (const channel of welcome.channels ?? []) channels.set(channel.id, channel);
  if (!channels.get(currentChannel) || channels.get(currentChannel)?.archived) currentChannel = DEFAULT_CHANNEL;
  const here = welcome.memberCount?.total ?? welcome.members.length;
  note(`* joined "${printable(welcome.room.name)}" as ${printable(welcome.you.name)}; ${here} here`);
  // Back after a drop: what was missed is shown, then what happened to messages meanwhile.
  if (continues) {
    for (const message of welcome.history) showMessage(message);
    for (const update of welcome.updates ?? []) showUpdate(update);
  } else {
    for (const message of welcome.history) remember(message);
  }
});
client.on('history', (page) => {
  learnNames(page.names);
  if (page.direction !== 'after') return;
  for (const message of page.messages) showMessage(message);
  for (const update of page.updates) showUpdate(update);
});
client.on('update', showUpdate);
client.on('presence', (event, member) => {
  if (event === 'left') members.delete(member.id);
  else members.set(member.id, member);
  if (event === 'joined' || event === 'left') note(`* ${printable(member.name)} ${event}`);
});
client.on('message', showMessage);
client.on('status', (update) => {
  if (update.status === 'failed') note(`* not sent: ${update.error ?? ''}`);
  if (update.status === 'sent' && update.seq !== undefined) ownMessageStored(update.clientId, update.seq);
  maybeFinish();
});

function learnNames(names: Record<string, string> | undefined): void {
  for (const [id, name] of Object.entries(names ?? {})) knownNames.set(id, name);
}

function remember(message: ChatMessage): void {
  seen.delete(message.seq);
  seen.set(message.seq, message);
  if (seen.size > SEEN_MESSAGES) seen.delete(seen.keys().next().value!);
  if (message.from === client.me?.id && !message.deleted) lastOwnSeq = Math.max(lastOwnSeq ?? 0, message.seq);
}

function showMessage(message: ChatMessage): void {
  // A resume may bring again a message already shown (it arrived live just before the drop).
  if (seen.has(message.seq)) return;
  remember(message);
  for (const line of messageLines(message, words, fileWords)) console.log(line);
}

function showUpdate(update: Update): void {
  if (update.kind === 'channel') {
    const before = channels.get(update.channel.id);
    channels.set(update.channel.id, update.channel);
    if (update.channel.id === currentChannel && update.channel.archived) currentChannel = DEFAULT_CHANNEL;
    const line = updateLine(update, words, null, before);
    if (line) note(line);
    return;
  }
  const before = seen.get(update.target);
  const after = before && applyToMessage(before, update);
  // Applying it again changes nothing: nothing to say (a resume repeats what a page already shows).
  if (!before || !after || after === before || JSON.stringify(after) === JSON.stringify(before)) return;
  seen.set(update.target, after);
  if (update.kind === 'delete' && update.target === lastOwnSeq) lastOwnSeq = null;
  const line = updateLine(update, words, { before, after });
  if (line) console.log(line);
}

/** Own messages the terminal sent, by clientId, until the host stores them (for /edit and /delete). */
const ownPending = new Map<string, { text: string; to: string | null; channel: string }>();
function ownMessageStored(clientId: string, seq: number): void {
  const own = ownPending.get(clientId);
  ownPending.delete(clientId);
  const me = client.me?.id;
  if (!own || !me) return;
  const inChannel = own.to === null && own.channel !== DEFAULT_CHANNEL ? { channel: own.channel } : {};
  remember({ seq, from: me, to: own.to, text: own.text, ts: Date.now(), clientId, ...inChannel });
}

/** Sends a line to a conversation: the current channel, or one member. */
function sendLine(text: string, to: string | null, transfers?: string[]): ReturnType<RoomClient['send']> {
  const channel = to === null ? currentChannel : DEFAULT_CHANNEL;
  const conversation = to ?? currentChannel;
  const message = client.send(text, to, conversation, transfers, { channel });
  if (message.status === 'pending') ownPending.set(message.clientId, { text, to, channel });
  return message;
}

/** Runs a request the session waits for, and says why when the host refused it. */
async function request<T>(what: string, asked: Promise<Result<T>>): Promise<T | null> {
  requestsInFlight++;
  try {
    const answer = await asked;
    if (answer.ok) return answer.value;
    note(`* ${what} failed: ${answer.error.message}`);
    return null;
  } finally {
    requestsInFlight--;
    maybeFinish();
  }
}
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
  const message = sendLine(caption, null, transfers);
  if (message.status !== 'pending') return note(`* not sent: ${message.error ?? ''}`);
  uploads.start(message.clientId, currentChannel, transfers, [
    { file: { path }, name: basename(path), size: info.size, type: '' },
  ]);
}

let inputEnded = false;
function maybeFinish(): void {
  if (inputEnded && requestsInFlight === 0 && client.outbox.every((message) => message.status !== 'pending')) {
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
    const target = await findMember(direct[1]!);
    if (!target) return note(`* nobody called ${printable(direct[1]!)} is here`);
    sendLine(direct[2]!, target.id);
    return;
  }
  const command = /^\/(channels|join|create|search|edit|delete|who)(?:\s+(.*))?$/.exec(line);
  if (command) return runCommand(command[1]!, (command[2] ?? '').trim());
  if (line.trim().length > 0) sendLine(line, null);
}

/**
 * The member called exactly `name`: among those this terminal knows, else (in a large room, v1.6,
 * where it knows only some) as the host finds them.
 */
async function findMember(name: string): Promise<Member | undefined> {
  const known = [...members.values()].find((member) => member.name === name);
  if (known || !client.membersPartial) return known;
  const found = await request('looking for them', client.members({ query: name, limit: 200 }));
  return found?.members.find((member) => member.name === name);
}

/** The room's counts: as the host last said (v1.6), else counted from the whole list an older host sent. */
function roomCounts(): { total: number; online: number } {
  const counted = client.memberCount;
  if (counted) return counted;
  const all = [...members.values()];
  return { total: all.length, online: all.filter((member) => member.status !== 'reconnecting').length };
}

/** Names /who prints at most: a screenful; /who NAME finds the rest. */
const WHO_PAGE = 20;

/** Terminal output is marked in bold; a pipe gets *word*. */
const mark = (text: string): string => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[22m` : `*${text}*`);

async function runCommand(name: string, argument: string): Promise<void> {
  switch (name) {
    case 'channels':
      if (channels.size === 0) return note('* this room has no channels (its host runs an older Beacon)');
      for (const line of channelList([...channels.values()], currentChannel)) console.log(line);
      return;
    case 'join': {
      const wanted = argument.replace(/^#/, '').toLowerCase();
      const found = [...channels.values()].find((channel) => channel.name.toLowerCase() === wanted);
      if (!found) return note(`* no channel called #${printable(wanted)} here (/channels lists them)`);
      if (found.archived) return note(`* #${printable(found.name)} is archived: it takes no new messages`);
      currentChannel = found.id;
      return note(`* your lines now go to #${printable(found.name)}`);
    }
    case 'create': {
      const made = await request('creating the channel', client.channel({ op: 'create', name: argument }));
      if (made?.channel) note(`* created #${printable(made.channel.name)} (/join #${printable(made.channel.name)})`);
      return;
    }
    case 'search': {
      if (!argument) return note('* /search needs words to look for');
      const found = await request('the search', client.search({ query: argument }));
      if (!found) return;
      learnNames(found.names);
      if (found.hits.length === 0) console.log(`no messages match "${printable(argument)}"`);
      for (const hit of found.hits) console.log(searchHitLine(hit, words, mark));
      return;
    }
    case 'edit': {
      if (lastOwnSeq === null) return note('* you have no message here to edit');
      if (!argument) return note('* /edit needs the new text');
      await request('the edit', client.edit(lastOwnSeq, argument));
      return;
    }
    case 'delete': {
      if (lastOwnSeq === null) return note('* you have no message here to delete');
      await request('deleting', client.deleteMessage(lastOwnSeq));
      return;
    }
    case 'who': {
      // The first page, or those called NAME: from the host in a large room, from the whole list otherwise.
      const asked = argument ? { query: argument, limit: WHO_PAGE } : { limit: WHO_PAGE };
      const page = await request('listing who is here', client.members(asked));
      if (!page) return;
      for (const line of whoLines(page, roomCounts(), argument, client.me?.id ?? null)) console.log(line);
      return;
    }
  }
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
