/**
 * The terminal client (src/cli/join.ts) in a v1.5 room, as a person at a terminal uses it: a real
 * host on loopback, the client as a child process reading stdin, a member beside it.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/shared/protocol.ts';
import { exited, killChildren } from '../helpers/processes.ts';
import { cleanup, joined, next, startRoom } from '../helpers/room.ts';

afterEach(async () => {
  killChildren();
  await cleanup();
});

/** The terminal client as a child: what it prints, a line at a time, and its stdin. */
function terminal(port: number, name: string) {
  const child = spawn(process.execPath, [
    'src/cli/join.ts',
    `ws://127.0.0.1:${port}`,
    '--name',
    name,
    '--code',
    '1234',
  ]);
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => stdout.push(line));
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const type = (line: string): void => void child.stdin.write(`${line}\n`);
  const printed = async (pattern: RegExp | string, where = stdout): Promise<string> => {
    const matches = (line: string) => (typeof pattern === 'string' ? line === pattern : pattern.test(line));
    await expect
      .poll(() => where.some(matches), { timeout: 10_000 })
      .toBe(true)
      .catch((error: unknown) => {
        throw new Error(`${String(pattern)} not in:\n${where.join('\n')}\n${String(error)}`);
      });
    return where.find(matches)!;
  };
  return { child, stdout, stderr, type, printed, said: (pattern: RegExp | string) => printed(pattern, stderr) };
}

// A child process starts Node and strips its TypeScript first: seconds on a loaded machine.
describe('the terminal client in a room with channels', { timeout: 90_000 }, () => {
  it('shows channels, replies, edits, reactions and deletions, and its /channels, /join, /search, /edit and /delete work', async () => {
    const server = await startRoom();
    const ann = await joined(server, 'Ann');
    const made = await ann.channel({ op: 'create', name: 'release', topic: 'Friday' });
    const release = made.ok ? made.value.channel!.id : '';
    const bot = terminal(server.port, 'bot');
    await bot.said(/joined "Test room" as bot/);

    ann.send('the build is green', null, release, undefined, { channel: release });
    await bot.printed('#release Ann: the build is green');

    bot.type('/channels');
    await bot.printed('* #general');
    await bot.printed('  #release — Friday');
    bot.type('/join #release');
    await bot.said('* your lines now go to #release');
    const arrived = next(ann, 'message', (m) => m.text === 'ship it');
    bot.type('ship it');
    const [shipped] = (await arrived) as [ChatMessage];
    expect(shipped.channel).toBe(release);

    bot.type('/edit ship it now');
    await bot.printed('#release bot (edited): ship it now');
    expect((await ann.react(shipped.seq, '👍', true)).ok).toBe(true);
    await bot.printed('#release Ann reacted 👍 on bot: ship it now [👍 1]');
    ann.send('agreed', null, release, undefined, { channel: release, replyTo: shipped.seq });
    await bot.printed('#release Ann: agreed');
    await bot.printed('  ↪ in reply to bot: ship it now');

    bot.type('/search ship');
    // In a pipe the words found are marked *so*; on a terminal, in bold.
    await bot.printed(/^\d{4}-\d\d-\d\d \d\d:\d\d #release bot: \*ship\* it now$/);

    const deleted = next(ann, 'update', (u) => u.kind === 'delete' && u.target === shipped.seq);
    bot.type('/delete');
    await bot.printed('#release bot: message deleted');
    await deleted;

    bot.child.stdin.end();
    expect(await exited(bot.child)).toBe(0);
    // Nothing the room wrote was taken for a command, and nothing failed.
    expect(bot.stderr.filter((line) => /failed|not sent/.test(line))).toEqual([]);
  });

  it('says why when a command cannot be done: an unknown channel, nothing to edit, a refusal from the host', async () => {
    const server = await startRoom();
    await joined(server, 'Ann');
    const bot = terminal(server.port, 'bot');
    await bot.said(/joined "Test room" as bot/);
    bot.type('/join #nowhere');
    await bot.said('* no channel called #nowhere here (/channels lists them)');
    bot.type('/edit better words');
    await bot.said('* you have no message here to edit');
    bot.type('/create general');
    await bot.said(/^\* creating the channel failed: A channel with that name/);
    bot.child.stdin.end();
    expect(await exited(bot.child)).toBe(0);
  });
});
