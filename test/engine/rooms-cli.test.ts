/**
 * `npm run rooms` and the headless host's announcement, end to end, on
 * loopback only: every host binds 127.0.0.1 (so it announces on `lo` alone)
 * and every process uses an mDNS port of this test's own (--mdns-port), so
 * nothing reaches the real network or another test. The LAN tests
 * (test/lan/discovery.test.ts) run the same commands in network namespaces.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { RoomBrowser } from '../../src/node/room-browser.ts';
import { exited, freePort, killChildren, spawnNode } from '../helpers/processes.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

afterEach(async () => {
  killChildren();
  await cleanup();
});

const mdnsPort = (): number => 40_000 + Math.floor(Math.random() * 20_000);

async function host(mdns: number, extra: string[], ready = /^Announced on the local network/) {
  const port = await freePort();
  const data = tempDir();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--data',
    data,
    '--web',
    data,
    '--mdns-port',
    String(mdns),
  ];
  const child = await spawnNode('src/cli/host.ts', [...args, ...extra], ready);
  const fingerprint = child.lines.find((line) => line.startsWith('Invite: '))?.split('#fp=')[1] ?? null;
  return { ...child, port, fingerprint };
}

async function rooms(
  mdns: number,
  extra: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [
    'src/cli/rooms.ts',
    '--interface',
    '127.0.0.1',
    '--mdns-port',
    String(mdns),
    ...extra,
  ]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return { code: await exited(child as never), stdout, stderr };
}

describe('npm run rooms', { timeout: 60_000 }, () => {
  it('prints each room on one tab-separated line: address, room, host, code|open, fingerprint|insecure', async () => {
    const mdns = mdnsPort();
    const team = await host(mdns, ['--name', 'Team room', '--host-name', 'Ann', '--code', '1234']);
    const open = await host(mdns, ['--name', 'Lobby', '--host-name', 'Ben', '--open', '--insecure']);
    const found = await rooms(mdns, ['--seconds', '1.5']);
    expect(found.code).toBe(0);
    expect(found.stdout).toBe(
      `127.0.0.1:${open.port}\tLobby\tBen\topen\tinsecure\n` +
        `127.0.0.1:${team.port}\tTeam room\tAnn\tcode\t${team.fingerprint}\n`,
    );
    const json = await rooms(mdns, ['--seconds', '1', '--json']);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((room) => [room.roomName, room.address, room.fingerprint, room.encrypted])).toEqual([
      ['Lobby', `127.0.0.1:${open.port}`, null, false],
      ['Team room', `127.0.0.1:${team.port}`, team.fingerprint, true],
    ]);
  });

  it('finding nothing prints nothing, says so on stderr, and exits 0; --no-announce is not found', async () => {
    const mdns = mdnsPort();
    const quiet = await host(mdns, ['--no-announce'], /^Not announced on the local network \(--no-announce\)/);
    expect(quiet.lines).not.toContainEqual(expect.stringMatching(/^Announced/));
    const found = await rooms(mdns, ['--seconds', '1']);
    expect(found).toMatchObject({ code: 0, stdout: '' });
    expect(found.stderr).toMatch(/^No rooms found in 1 s\./);
  });

  it('a host stopped with Ctrl-C is gone at once (goodbye); one killed is gone within about 10 s', async () => {
    const mdns = mdnsPort();
    const polite = await host(mdns, ['--name', 'Polite']);
    const killed = await host(mdns, ['--name', 'Killed']);
    const browser = new RoomBrowser({ interface: '127.0.0.1', mdnsPort: mdns, debounceMs: 0 });
    browser.start();
    try {
      const names = (): string[] => browser.rooms.map((room) => room.roomName).sort();
      await expect.poll(names, { timeout: 3_000 }).toEqual(['Killed', 'Polite']);
      let stoppedAt = Date.now();
      polite.child.kill('SIGINT');
      await expect.poll(names, { timeout: 2_000, interval: 20 }).toEqual(['Killed']);
      const goodbyeMs = Date.now() - stoppedAt;
      stoppedAt = Date.now();
      killed.child.kill('SIGKILL');
      await expect.poll(names, { timeout: 14_000, interval: 100 }).toEqual([]);
      const silentMs = Date.now() - stoppedAt;
      console.log(`loopback: gone ${goodbyeMs} ms after Ctrl-C, ${silentMs} ms after kill -9`);
      expect(goodbyeMs).toBeLessThan(1_000);
      expect(silentMs).toBeGreaterThan(5_000);
      expect(silentMs).toBeLessThan(12_500);
    } finally {
      await browser.stop();
    }
  });
});
