/**
 * The wire side of issue 10's end states: names that stay with history
 * (welcome.names, history.names), what /room.json tells a stranger, a
 * lockout that says how long, and a client that reports a stopped host as
 * stopped.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, joined, next, RawPeer, startRoom, tempDir } from '../helpers/room.ts';
import { RoomServer } from '../../src/host/room-server.ts';

afterEach(cleanup);

function get(
  port: number,
  path: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('names that stay with history', () => {
  it('a later joiner learns the name of an author who has left, and only of the people on the page', async () => {
    const server = await startRoom();
    const bob = new RawPeer(server);
    const bobWelcome = await bob.hello('Bob');
    bob.send({ type: 'send', clientId: 'c1', text: 'Bob was here' });
    await bob.frame('ack');
    bob.send({ type: 'leave' });
    await bob.closed;
    const quiet = new RawPeer(server);
    await quiet.hello('Quiet');

    const cat = new RawPeer(server);
    const welcome = await cat.hello('Cat');
    expect(welcome.history.map((m) => m.text)).toEqual(['Bob was here']);
    expect(welcome.names).toEqual({ [bobWelcome.you.id]: 'Bob' });

    cat.send({ type: 'history', conversation: 'room', before: 1_000 });
    const page = await cat.frame('history');
    expect(page.names).toEqual({ [bobWelcome.you.id]: 'Bob' });
  });

  it("a name holding replacement patterns ($' $&) arrives as typed, and the welcome stays whole", async () => {
    const server = await startRoom();
    const odd = new RawPeer(server);
    await odd.hello("A$'B$&");
    const ann = new RawPeer(server);
    const welcome = await ann.hello('Ann');
    expect(welcome.members.map((m) => m.name).sort()).toEqual(["A$'B$&", 'Ann']);
  });
});

describe('GET /room.json', () => {
  it('tells the room name and whether a code is asked, and nothing else (no code, no members)', async () => {
    const server = await startRoom({ code: '98765432' });
    await joined(server, 'Ann', { code: '98765432' });
    const response = await get(server.port, '/room.json?x=1');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(JSON.parse(response.body)).toEqual({
      name: 'Test room',
      codeRequired: true,
      fingerprint: null,
      encrypted: false,
    });
    expect(response.body).not.toContain('98765432');
    expect(response.body).not.toContain('Ann');
    expect((await get(server.port, '/room.json', 'POST')).status).toBe(405);
  });

  it('an open room says no code is asked; a long name is cut', async () => {
    const server = await RoomServer.start({
      port: 0,
      bind: '127.0.0.1',
      roomName: 'x'.repeat(500),
      code: null,
      dataDir: tempDir(),
      insecure: true,
    });
    try {
      const info = JSON.parse((await get(server.port, '/room.json')).body) as { name: string; codeRequired: boolean };
      expect(info.codeRequired).toBe(false);
      expect(info.name.length).toBe(60);
    } finally {
      await server.stop();
    }
  });
});

describe('a lockout', () => {
  it('says how long it lasts in the refusal that starts it', async () => {
    const server = await startRoom({ limits: { wrongCodeDelayMs: 0, lockoutAfter: 2, lockoutMs: 30_000 } });
    const first = new RawPeer(server);
    await first.opened();
    first.send({ type: 'hello', v: 1, name: 'G', code: '0' });
    await first.closed;
    const second = new RawPeer(server);
    await second.opened();
    second.send({ type: 'hello', v: 1, name: 'G', code: '0' });
    const refusal = await second.frame('error');
    expect(refusal.code).toBe('BEACON_ERR_LOCKED_OUT');
    expect(refusal.retryAfterMs).toBeGreaterThan(29_000);
    expect(refusal.retryAfterMs).toBeLessThanOrEqual(30_000);
  });
});

describe('a client whose host was stopped', () => {
  it('keeps saying the host stopped the room, quietly, instead of counting network attempts', async () => {
    const dataDir = tempDir();
    const server = await startRoom({ dataDir });
    const ann = await joined(server, 'Ann');
    const states: string[] = [];
    ann.on('state', (state) =>
      states.push(state.kind === 'connected' ? 'connected' : `${state.kind}:${'reason' in state ? state.reason : ''}`),
    );
    await server.stop();
    await expect.poll(() => states.length, { timeout: 5_000 }).toBeGreaterThan(0);
    // The first wait is the slow one (2 s or more): meanwhile an attempt refused by nobody listening changes nothing.
    ann.retryNow();
    await new Promise((done) => setTimeout(done, 500));
    expect(new Set(states)).toEqual(new Set(['offline:BEACON_ERR_HOST_STOPPED']));
    const state = ann.state;
    expect(state.kind === 'offline' && state.nextRetryAt !== null).toBe(true);

    // It comes back by itself when the room does.
    const again = await startRoom({ dataDir, port: server.port });
    void again;
    ann.retryNow();
    await next(ann, 'welcome');
    ann.close();
  });

  it('after a wrong code stops, and tries a new code at once when given one', async () => {
    const dataDir = tempDir();
    const server = await startRoom({ dataDir, code: '1111' });
    const port = server.port;
    const ann = await joined(server, 'Ann', { code: '1111' });
    await server.stop();
    // A new host on the port: new history (the old token means nothing), a new code.
    const fresh = await startRoom({ port, code: '2222' });
    ann.retryNow();
    await expect
      .poll(() => (ann.state.kind === 'offline' ? ann.state.reason : ann.state.kind))
      .toBe('BEACON_ERR_WRONG_CODE');
    expect(ann.state.kind === 'offline' && ann.state.nextRetryAt).toBe(null);
    const welcome = next(ann, 'welcome');
    ann.retryWithCode('2222');
    await welcome;
    expect(fresh.members().map((m) => m.name)).toContain('Ann');
    ann.close();
  });
});
