/**
 * Files from the terminal client (src/cli/join.ts, a real child process): `/file PATH [caption]`
 * uploads with progress on stderr and sends; a message with files prints each file's name (safe
 * for the terminal) and size.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOM } from '../../src/shared/chat-api.ts';
import { exited, killChildren } from '../helpers/processes.ts';
import { cleanup, startRoom } from '../helpers/room.ts';
import { fileMember, randomFile } from './files-client-members.ts';

afterEach(async () => {
  killChildren();
  await cleanup();
});

function terminal(args: string[]) {
  const child = spawn(process.execPath, ['src/cli/join.ts', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

describe('the terminal client with files', () => {
  it('/file PATH caption uploads the file, shows its progress, sends it, and leaves once it is in the room', async () => {
    const server = await startRoom({ encrypted: true });
    const bob = await fileMember(server, 'Bob');
    const report = randomFile(5 * 1024 * 1024 + 3, 'report q3.pdf');
    const tom = terminal([server.info().invite!, '--name', 'Tom', '--code', '1234']);
    tom.child.stdin.end(`/file "${report.path}" the quarterly report\nand a line after it\n`);
    expect(await exited(tom.child as never)).toBe(0);

    const message = await bob.when((e) =>
      e.type === 'messages' ? e.messages.find((m) => (m.files?.length ?? 0) > 0) : undefined,
    );
    expect(message).toMatchObject({
      text: 'the quarterly report',
      files: [{ name: 'report q3.pdf', size: report.bytes.length }],
    });
    const done = await bob.ended(bob.download(message.files![0]!.id));
    expect(readFileSync(done.savedTo!).equals(report.bytes)).toBe(true);
    expect(tom.stderr()).toMatch(
      /\* report q3\.pdf: preparing\n(\* report q3\.pdf: \d+%.*\n)+\* report q3\.pdf: uploaded\n/,
    );
  });

  it('a message with files prints each file’s name, made safe for the terminal, and its size', async () => {
    const server = await startRoom({ encrypted: true });
    const ann = await fileMember(server, 'Ann');
    const reader = terminal([server.info().invite!, '--name', 'Reader', '--code', '1234']);
    await expect.poll(() => reader.stderr(), { timeout: 10_000 }).toContain('* joined');
    const photo = randomFile(2_500, 'photo.jpg');
    ann.feed.sendFiles(ROOM, 'look', [
      { file: { path: photo.path }, name: 'photo.jpg', size: photo.bytes.length, type: 'image/jpeg' },
      // A name that tries to colour the terminal; the host already replaces controls, the client shows what is left.
      { file: { bytes: new Uint8Array(Buffer.from('x')) }, name: '\u001b[31mred.txt', size: 1, type: 'text/plain' },
    ]);
    await expect.poll(() => reader.stdout(), { timeout: 20_000 }).toContain('red.txt');
    expect(reader.stdout()).toBe('Ann: look\n  file: photo.jpg (2.4 KiB)\n  file: _[31mred.txt (1 bytes)\n');
    reader.child.stdin.end();
    expect(await exited(reader.child as never)).toBe(0);
  });

  it('/file with a path that is not there says so and sends nothing', async () => {
    const server = await startRoom({ encrypted: true });
    const tom = terminal([server.info().invite!, '--name', 'Tom', '--code', '1234']);
    tom.child.stdin.end('/file /nowhere/at/all.txt\n');
    expect(await exited(tom.child as never)).toBe(0);
    expect(tom.stderr()).toContain('* cannot read /nowhere/at/all.txt');
  });
});
