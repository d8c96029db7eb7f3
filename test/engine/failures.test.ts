/**
 * Real failures with real processes: a member frozen with SIGSTOP, a host
 * killed with SIGKILL and restarted on the same data folder.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/host/store/history-store.ts';
import type { ChatMessage } from '../../src/shared/protocol.ts';
import { cleanup, joined, next, startRoom, tempDir } from '../helpers/room.ts';
import { exited, freePort, killChildren, spawnNode } from '../helpers/processes.ts';

afterEach(async () => {
  killChildren();
  await cleanup();
});

describe('a member that goes silent', () => {
  it('disappears from the others’ lists within 15 s with the default settings', async () => {
    const server = await startRoom();
    const watcher = await joined(server, 'Watcher');
    const { child, line } = await spawnNode(
      'test/fixtures/member.ts',
      [`ws://127.0.0.1:${server.port}/`, 'Sleepy', '1234'],
      /"id"/,
    );
    const { id } = JSON.parse(line) as { id: string };
    await expect.poll(() => server.members().some((m) => m.id === id)).toBe(true);
    const left = next(watcher, 'presence', (event, member) => event === 'left' && member.id === id, 20_000);
    const frozenAt = Date.now();
    child.kill('SIGSTOP');
    await left;
    const detectedMs = Date.now() - frozenAt;
    console.log(`dead member detected and shown as left after ${detectedMs} ms`);
    expect(detectedMs).toBeLessThanOrEqual(15_000);
    expect(server.members().map((m) => m.name)).toEqual(['Watcher']);
  }, 30_000);
});

describe('a host killed with SIGKILL and restarted on the same data', () => {
  it('loses no acknowledged message; clients come back by themselves; a message typed meanwhile arrives once', async () => {
    const port = await freePort();
    const data = tempDir();
    const hostArgs = ['--port', String(port), '--bind', '127.0.0.1', '--data', data, '--code', '1234', '--web', data];
    // Encrypted, as the headless host runs by default: the clients trust it on first use and hold it
    // to that fingerprint when it comes back, with the same key from the same --data.
    let host = await spawnNode('src/cli/host.ts', hostArgs, /^Join code/);
    const fast = {
      url: `wss://127.0.0.1:${port}/`,
      backoff: { initialMs: 100, maxMs: 500, factor: 2 },
      pingIntervalMs: 1_000,
    };
    const ann = await joined(port, 'Ann', fast);
    const bob = await joined(port, 'Bob', fast);
    const received: ChatMessage[] = [];
    bob.on('message', (message) => received.push(message));
    // What Bob missed while the host was down arrives in the resume welcome (or an 'after' page).
    bob.on('welcome', (welcome) => received.push(...welcome.history));
    bob.on('history', (page) => page.direction === 'after' && received.push(...page.messages));
    const acked = new Map<string, number>();
    ann.on('status', (update) => {
      if (update.status === 'sent') acked.set(update.clientId, update.seq!);
    });

    // A stream of messages, with the host killed in the middle of it.
    const sent: string[] = [];
    for (let i = 0; i < 100; i++) {
      sent.push(ann.send(`stream ${i}`, null, 'room').clientId);
      if (i === 60) host.child.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await exited(host.child);
    await expect.poll(() => ann.state.kind).not.toBe('connected');
    const whileDown = ann.send('typed while the host was down', null, 'room');
    expect(whileDown.status).toBe('pending');
    const ackedBeforeKill = acked.size;

    const restartedAt = Date.now();
    host = await spawnNode('src/cli/host.ts', hostArgs, /^Join code/);
    await Promise.all([
      next(ann, 'state', (s) => s.kind === 'connected', 15_000),
      next(bob, 'state', (s) => s.kind === 'connected', 15_000),
    ]);
    const backMs = Date.now() - restartedAt;
    console.log(
      `clients back ${backMs} ms after the host restarted; ${ackedBeforeKill} messages acknowledged before the kill`,
    );
    await expect.poll(() => acked.size, { timeout: 15_000 }).toBe(sent.length + 1);

    // Everything Ann sent reached Bob exactly once, whether before or after the kill.
    await expect.poll(() => received.length, { timeout: 15_000 }).toBe(sent.length + 1);
    const texts = received.map((m) => m.text);
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts.filter((t) => t === 'typed while the host was down')).toHaveLength(1);

    host.child.kill('SIGTERM');
    await exited(host.child);
    const store = HistoryStore.open(data);
    try {
      const stored = store.page(ann.me!.id, 'room', {}, 1_000).messages;
      expect(stored).toHaveLength(sent.length + 1);
      for (const seq of acked.values()) expect(stored.some((m) => m.seq === seq)).toBe(true);
    } finally {
      store.close();
    }
  }, 60_000);
});
