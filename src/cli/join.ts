/**
 * Terminal client: sends each line of stdin to the room, prints what arrives.
 *   npm run join -- ws://127.0.0.1:4747 --name bot --code 1234
 * Messages go to stdout as "name: text" (direct ones as "name → you: text");
 * connection news goes to stderr, so pipes see only the conversation.
 * "/dm NAME text" sends a direct message. When stdin ends, it waits until every
 * line is acknowledged, then leaves.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { roomUrl } from '../shared/address.ts';
import { ROOM } from '../shared/chat-api.ts';
import type { Member } from '../shared/protocol.ts';
import { RoomClient } from '../shared/room-client.ts';
import { wsSocketFactory } from '../node/ws-socket.ts';
import { printable } from './terminal-text.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string', default: 'terminal' },
    code: { type: 'string' },
    quiet: { type: 'boolean', short: 'q', default: false },
  },
});

const url = roomUrl(positionals[0] ?? '');
if (!url) {
  console.error('Usage: npm run join -- ADDRESS [--name NAME] [--code CODE]   (ADDRESS like 192.168.1.20:4747)');
  process.exit(2);
}

const client = new RoomClient({ url, name: values.name, code: values.code, socketFactory: wsSocketFactory });
const members = new Map<string, Member>();
const nameOf = (id: string): string => printable(members.get(id)?.name ?? id);
const note = (text: string): void => {
  if (!values.quiet) console.error(text);
};

client.on('state', (state) => {
  if (state.kind === 'connected' && state.rttMs === null) note(`* connected to ${state.address}`);
  if (state.kind === 'reconnecting') note(`* reconnecting (attempt ${state.attempt}): ${state.reasonText}`);
  if (state.kind === 'offline') note(`* offline: ${state.reasonText}`);
});
client.on('welcome', (welcome) => {
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
});
client.on('status', (update) => {
  if (update.status === 'failed') note(`* not sent: ${update.error ?? ''}`);
  maybeFinish();
});
client.on('error', (error) => note(`* ${error.message}`));

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
  console.error(`Could not join: ${(error as { message: string }).message}`);
  process.exit(1);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const direct = /^\/dm\s+(\S+)\s+(.+)$/.exec(line);
  if (direct) {
    const target = [...members.values()].find((member) => member.name === direct[1]);
    if (!target) return note(`* nobody called ${direct[1]} is here`);
    client.send(direct[2]!, target.id, target.id);
    return;
  }
  if (line.trim().length > 0) client.send(line, null, ROOM);
});
lines.on('close', () => {
  inputEnded = true;
  maybeFinish();
});
process.on('SIGINT', () => {
  client.close();
  process.exit(0);
});
