import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/shared/protocol.ts';
import { exited, freePort, killChildren, spawnNode } from '../helpers/processes.ts';
import { cleanup, joined, next, startRoom, tempDir } from '../helpers/room.ts';

afterEach(async () => {
  killChildren();
  await cleanup();
});

describe('the headless host', () => {
  it('prints where to join, logs joins and leaves, and stops cleanly on Ctrl-C', async () => {
    const port = await freePort();
    const data = tempDir();
    const host = await spawnNode(
      'src/cli/host.ts',
      ['--port', String(port), '--bind', '127.0.0.1', '--data', data, '--code', '1234', '--name', 'Team room'],
      /^Join code/,
    );
    expect(host.lines.slice(0, 3)).toEqual([
      'Beacon room "Team room" is open. Join at:',
      `ws://127.0.0.1:${port}`,
      'Join code: 1234',
    ]);
    const ann = await joined(port, 'Ann');
    await expect.poll(() => host.lines.some((line) => / Ann joined$/.test(line))).toBe(true);
    const told = next(ann, 'state', (s) => s.kind === 'reconnecting' || s.kind === 'offline');
    host.child.kill('SIGINT');
    expect(await exited(host.child)).toBe(0);
    expect((await told)[0]).toMatchObject({ reason: 'BEACON_ERR_HOST_STOPPED' });
  });

  it('says clearly when its port is taken', async () => {
    const server = await startRoom();
    const child = spawn(process.execPath, [
      'src/cli/host.ts',
      '--port',
      String(server.port),
      '--bind',
      '127.0.0.1',
      '--data',
      tempDir(),
    ]);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    expect(await exited(child as never)).toBe(1);
    expect(stderr).toContain(
      `That port is already in use by another program. (port ${server.port}) [BEACON_ERR_PORT_IN_USE]`,
    );
  });
});

describe('the terminal client', () => {
  it('sends each piped line, prints what arrives, and exits once everything is acknowledged', async () => {
    const server = await startRoom();
    const reader = await joined(server, 'Reader');
    const received: ChatMessage[] = [];
    reader.on('message', (message) => received.push(message));
    const child = spawn(process.execPath, [
      'src/cli/join.ts',
      `127.0.0.1:${server.port}`,
      '--name',
      'bot',
      '--code',
      '1234',
    ]);
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const printed = new Promise<void>((resolve) =>
      child.stdout.on('data', () => stdout.includes('Reader: hi bot') && resolve()),
    );
    await expect.poll(() => server.members().length).toBe(2);
    reader.send('hi bot', null, 'room');
    await printed;
    child.stdin.end('line one\nline two\n');
    expect(await exited(child as never)).toBe(0);
    await expect.poll(() => received.map((m) => m.text)).toEqual(['line one', 'line two']);
  });

  it('explains a wrong code and exits non-zero', async () => {
    const server = await startRoom();
    const child = spawn(process.execPath, ['src/cli/join.ts', `127.0.0.1:${server.port}`, '--code', '0000']);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    expect(await exited(child as never)).toBe(1);
    expect(stderr).toContain('Could not join: The join code is wrong.');
  });
});
