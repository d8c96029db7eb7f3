import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity } from '../../src/host/tls-identity.ts';
import { formatFingerprint } from '../../src/shared/fingerprint.ts';
import type { ChatMessage } from '../../src/shared/protocol.ts';
import { exited, freePort, killChildren, spawnNode } from '../helpers/processes.ts';
import { cleanup, joined, next, startRoom, tempDir } from '../helpers/room.ts';

afterEach(async () => {
  killChildren();
  await cleanup();
});

/** Runs a command to its end: its exit code and everything it printed. */
async function run(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(stdin);
  const code = await exited(child as never);
  return { code, stdout, stderr };
}

describe('the headless host', () => {
  it('prints where to join, its fingerprint and the invite; logs joins and leaves; stops cleanly on Ctrl-C', async () => {
    const port = await freePort();
    const data = tempDir();
    const host = await spawnNode(
      'src/cli/host.ts',
      ['--port', String(port), '--bind', '127.0.0.1', '--data', data, '--code', '1234', '--name', 'Team room'],
      /^Join code/,
    );
    const { fingerprint } = await loadOrCreateIdentity(data);
    expect(host.lines.slice(0, 5)).toEqual([
      'Beacon room "Team room" is open, encrypted. Join at:',
      `wss://127.0.0.1:${port}`,
      `Fingerprint: ${formatFingerprint(fingerprint)}`,
      `Invite: https://127.0.0.1:${port}/#fp=${fingerprint}`,
      'Join code: the one given with --code (not printed: --show-code prints it)',
    ]);
    // The code the operator chose is not repeated into terminal logs, nor put in the invite.
    expect(host.lines.join('\n')).not.toContain('1234');
    // The invite has no code in it: that is shared separately.
    expect(host.lines[3]).not.toContain('1234');
    const ann = await joined(port, 'Ann', {
      url: `wss://127.0.0.1:${port}/`,
      pin: { fingerprint, trust: 'invite' },
    });
    await expect.poll(() => host.lines.some((line) => / Ann joined$/.test(line))).toBe(true);
    const told = next(ann, 'state', (s) => s.kind === 'reconnecting' || s.kind === 'offline');
    host.child.kill('SIGINT');
    expect(await exited(host.child)).toBe(0);
    expect((await told)[0]).toMatchObject({ reason: 'BEACON_ERR_HOST_STOPPED' });
  });

  it('with --insecure warns that nothing is encrypted and hands out ws://', async () => {
    const port = await freePort();
    const host = await spawnNode(
      'src/cli/host.ts',
      ['--port', String(port), '--bind', '127.0.0.1', '--data', tempDir(), '--code', '1234', '--insecure'],
      /^Join code/,
    );
    expect(host.lines.slice(0, 3)).toEqual([
      'Beacon room "Beacon room" is open, NOT encrypted. Join at:',
      `ws://127.0.0.1:${port}`,
      'Join code: the one given with --code (not printed: --show-code prints it)',
    ]);
    expect(host.stderr()).toMatch(/^Warning: --insecure: this room is NOT encrypted\. Anyone on the network/);
  });

  it('shows a join code it made up (nobody else knows it), and one given with --code only with --show-code', async () => {
    for (const [extra, shown] of [
      [[], /^Join code: \d{8}$/],
      [['--code', '5555', '--show-code'], /^Join code: 5555$/],
    ] as const) {
      const host = await spawnNode(
        'src/cli/host.ts',
        ['--port', String(await freePort()), '--bind', '127.0.0.1', '--data', tempDir(), '--no-announce', ...extra],
        /^Join code/,
      );
      expect(host.lines.find((line) => line.startsWith('Join code'))).toMatch(shown);
      host.child.kill('SIGINT');
      await exited(host.child);
    }
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
    const server = await startRoom({ encrypted: true });
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
    await expect.poll(() => server.members().length, { timeout: 10_000 }).toBe(2);
    reader.send('hi bot', null, 'room');
    await printed;
    child.stdin.end('line one\nline two\n');
    expect(await exited(child as never)).toBe(0);
    await expect.poll(() => received.map((m) => m.text)).toEqual(['line one', 'line two']);
  });

  it('with the invite: says the host’s fingerprint matched', async () => {
    const server = await startRoom({ encrypted: true });
    const result = await run(['src/cli/join.ts', server.info().invite!, '--name', 'bot', '--code', '1234']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `(encrypted; the host's fingerprint ${formatFingerprint(server.fingerprint!)} matched)`,
    );
  });

  it('by a bare address: prints the fingerprint it trusted, to compare with the host’s', async () => {
    const server = await startRoom({ encrypted: true });
    const result = await run(['src/cli/join.ts', `127.0.0.1:${server.port}`, '--code', '1234']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `encrypted; trusted on first use, fingerprint ${formatFingerprint(server.fingerprint!)}: compare it with the one the host shows`,
    );
  });

  it('refuses a host whose fingerprint is not the invite’s, says so in words with both fingerprints, and exits non-zero', async () => {
    const server = await startRoom({ encrypted: true });
    const other = (await loadOrCreateIdentity(':memory:')).fingerprint;
    const invite = `https://127.0.0.1:${server.port}/#fp=${other}`;
    const result = await run(['src/cli/join.ts', invite, '--name', 'bot', '--code', '1234'], 'hello\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Could not join: This is not the host you were invited to');
    expect(result.stderr).toContain(`expected fingerprint: ${formatFingerprint(other)}`);
    expect(result.stderr).toContain(`the host showed:      ${formatFingerprint(server.fingerprint!)}`);
    expect(server.members()).toEqual([]);
  });

  it('a host that comes back with another key ends the session with the warning and both fingerprints, non-zero', async () => {
    const first = await startRoom({ encrypted: true });
    const child = spawn(process.execPath, ['src/cli/join.ts', `127.0.0.1:${first.port}`, '--code', '1234']);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    await expect.poll(() => first.members().length, { timeout: 10_000 }).toBe(1);
    const trusted = first.fingerprint!;
    await first.stop();
    const other = await startRoom({ encrypted: true, port: first.port });
    expect(await exited(child as never)).toBe(1);
    expect(stderr).toContain('Disconnected: This is not the host you were invited to');
    expect(stderr).toContain(`expected fingerprint: ${formatFingerprint(trusted)}`);
    expect(stderr).toContain(`the host showed:      ${formatFingerprint(other.fingerprint!)}`);
    expect(other.members()).toEqual([]);
  });

  it('explains a wrong code and exits non-zero', async () => {
    const server = await startRoom({ encrypted: true });
    const child = spawn(process.execPath, ['src/cli/join.ts', `127.0.0.1:${server.port}`, '--code', '0000']);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    expect(await exited(child as never)).toBe(1);
    expect(stderr).toContain('Could not join: The join code is wrong.');
  });
});
