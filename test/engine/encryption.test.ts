/**
 * Encryption and host authentication on loopback, as a member notices them:
 * the host keeps one fingerprint across restarts, an invite's fingerprint is
 * checked before anything is sent, a bare address is trusted on first use and
 * then held to it, and a machine that is not the host learns nothing.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { RoomServer } from '../../src/host/room-server.ts';
import { CERT_FILE, KEY_FILE, loadOrCreateIdentity } from '../../src/host/tls-identity.ts';
import { certificateFingerprint } from '../../src/node/certificate-fingerprint.ts';
import { wsSocketFactory } from '../../src/node/ws-socket.ts';
import { parseRoomAddress } from '../../src/shared/address.ts';
import type { ConnectionState } from '../../src/shared/chat-api.ts';
import { errorMessage } from '../../src/shared/errors.ts';
import type { Fingerprint } from '../../src/shared/fingerprint.ts';
import { RoomClient, type RoomClientOptions } from '../../src/shared/room-client.ts';
import { cleanup, next, RawPeer, tempDir } from '../helpers/room.ts';

afterEach(cleanup);

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function host(
  options: { dataDir?: string; port?: number; insecure?: boolean; handshakeTimeoutMs?: number } = {},
) {
  const dataDir = options.dataDir ?? tempDir();
  const server = await RoomServer.start({
    port: options.port ?? 0,
    bind: '127.0.0.1',
    roomName: 'Private room',
    code: '1234',
    dataDir,
    ...(options.insecure ? { insecure: true } : {}),
    limits: options.handshakeTimeoutMs ? { handshakeTimeoutMs: options.handshakeTimeoutMs } : {},
  });
  cleanups.push(() => server.stop());
  return { server, dataDir };
}

/** A member's client for `address` as a person would type or paste it (an invite pins its fingerprint). */
function member(address: string, name: string, options: Partial<RoomClientOptions> = {}): RoomClient {
  const parsed = parseRoomAddress(address);
  if (!parsed.ok) throw new Error(parsed.problem);
  const client = new RoomClient({
    url: parsed.url,
    name,
    code: '1234',
    socketFactory: wsSocketFactory,
    ...(parsed.fingerprint ? { pin: { fingerprint: parsed.fingerprint, trust: 'invite' } } : {}),
    backoff: { initialMs: 20, maxMs: 50, factor: 1 },
    ...options,
  });
  cleanups.push(() => client.close());
  return client;
}

function refusal(client: RoomClient): Promise<{ code: string; message: string }> {
  return client.connect().then(
    () => {
      throw new Error('joined, but should have been refused');
    },
    (error: { code: string; message: string }) => error,
  );
}

function connectedSecurity(client: RoomClient) {
  const state = client.state as Extract<ConnectionState, { kind: 'connected' }>;
  expect(state.kind).toBe('connected');
  return state.security;
}

/** Who joined the room, as the host saw it: every welcome it gave. */
function joinsAt(server: RoomServer): string[] {
  const names: string[] = [];
  server.on('presence', (event, joinedMember) => {
    if (event === 'joined') names.push(joinedMember.name);
  });
  return names;
}

function plainGet(port: number, path: string, hostHeader: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: hostHeader } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A GET over TLS that does not check the certificate (as a browser past its warning). */
function secureGet(port: number, path: string, hostHeader: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      // HTTP/1.0: the answer comes whole, not chunked.
      socket.write(`GET ${path} HTTP/1.0\r\nHost: ${hostHeader}\r\n\r\n`);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
  });
}

/**
 * A machine in the middle on another port: it ends TLS with its own certificate (so it reads all a
 * client sends it in clear) and forwards everything to the real host over a TLS connection of its own.
 */
async function impostor(targetPort: number): Promise<{ port: number; fingerprint: Fingerprint; heard: () => string }> {
  const identity = await loadOrCreateIdentity(':memory:');
  const chunks: Buffer[] = [];
  const server: TlsServer = createTlsServer({ key: identity.key, cert: identity.cert }, (victim) => {
    const upstream = connectTls({ host: '127.0.0.1', port: targetPort, rejectUnauthorized: false });
    victim.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => victim.write(chunk));
    const drop = (): void => {
      victim.destroy();
      upstream.destroy();
    };
    for (const socket of [victim, upstream]) socket.on('close', drop).on('error', drop);
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return {
    port: (server.address() as { port: number }).port,
    fingerprint: identity.fingerprint,
    heard: () => Buffer.concat(chunks).toString('latin1'),
  };
}

/** The text messages a WebSocket client sent after its upgrade request, unmasked (all a listener inside TLS needs). */
function webSocketTexts(stream: string): string[] {
  const bytes = Buffer.from(stream.slice(stream.indexOf('\r\n\r\n') + 4), 'latin1');
  const texts: string[] = [];
  for (let at = 0; at + 6 <= bytes.length;) {
    let length = bytes[at + 1]! & 0x7f;
    let head = 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      head = 4;
    }
    const mask = bytes.subarray(at + head, at + head + 4);
    const payload = bytes.subarray(at + head + 4, at + head + 4 + length).map((byte, i) => byte ^ mask[i % 4]!);
    texts.push(Buffer.from(payload).toString('utf8'));
    at += head + 4 + length;
  }
  return texts;
}

describe('the host’s identity', () => {
  it('is made on the first start, kept private (0600 in a 0700 folder) and the same after a restart', async () => {
    const dataDir = join(tempDir(), 'room');
    const first = await host({ dataDir });
    const fingerprint = first.server.fingerprint;
    expect(fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(certificateFingerprint(readFileSync(join(dataDir, CERT_FILE), 'utf8'))).toBe(fingerprint);
    for (const file of [KEY_FILE, CERT_FILE]) expect(statSync(join(dataDir, file)).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    await first.server.stop();
    const again = await host({ dataDir });
    expect(again.server.fingerprint).toBe(fingerprint);
  });

  it('the host hands out wss:// and https:// addresses and an invite with its fingerprint', async () => {
    const { server } = await host();
    const info = server.info();
    expect(info.addresses).toEqual([`wss://127.0.0.1:${server.port}`]);
    expect(info.webAddresses).toEqual([`https://127.0.0.1:${server.port}/`]);
    expect(info.fingerprint).toBe(server.fingerprint);
    expect(info.invite).toBe(`https://127.0.0.1:${server.port}/#fp=${server.fingerprint}`);
  });

  it('a damaged key stops the host with the file to delete, and is left as it was', async () => {
    const dataDir = tempDir();
    const { server } = await host({ dataDir });
    await server.stop();
    writeFileSync(join(dataDir, KEY_FILE), 'not a key');
    const started = RoomServer.start({ port: 0, bind: '127.0.0.1', code: null, dataDir });
    await expect(started).rejects.toMatchObject({ code: 'BEACON_ERR_HOST_KEY' });
    await expect(started).rejects.toThrow(join(dataDir, KEY_FILE));
    await expect(started).rejects.toThrow(/delete tls-key\.pem and tls-cert\.pem/);
    expect(readFileSync(join(dataDir, KEY_FILE), 'utf8')).toBe('not a key');
  });

  it('an --insecure host has no fingerprint and hands out ws:// and http://', async () => {
    const { server, dataDir } = await host({ insecure: true });
    const info = server.info();
    expect(info).toMatchObject({ fingerprint: null, invite: null, addresses: [`ws://127.0.0.1:${server.port}`] });
    expect(() => statSync(join(dataDir, KEY_FILE))).toThrow();
  });
});

describe('joining an encrypted host', () => {
  it('with the invite: joins, and the connection says the host matched the invite', async () => {
    const { server } = await host();
    const bob = member(server.info().invite!, 'Bob');
    await bob.connect();
    expect(connectedSecurity(bob)).toEqual({ encrypted: true, fingerprint: server.fingerprint, trust: 'invite' });
  });

  it('by a bare address: trusted on first use, shown, and held to it when the host comes back', async () => {
    const { server, dataDir } = await host();
    const port = server.port;
    const bob = member(`127.0.0.1:${port}`, 'Bob');
    await bob.connect();
    expect(connectedSecurity(bob)).toEqual({ encrypted: true, fingerprint: server.fingerprint, trust: 'first-use' });
    expect(bob.pin).toEqual({ fingerprint: server.fingerprint, trust: 'first-use' });

    // The same host restarts: the same key, so Bob is back by himself.
    await server.stop();
    const same = await host({ dataDir, port });
    await next(bob, 'state', (state) => state.kind === 'connected');
    expect(connectedSecurity(bob)).toMatchObject({ fingerprint: same.server.fingerprint });
  });

  it('a host that made a new key is refused by a member who pinned the old one, with both fingerprints, and hears no hello', async () => {
    const { server, dataDir } = await host();
    const port = server.port;
    const old = server.fingerprint!;
    const bob = member(`127.0.0.1:${port}`, 'Bob');
    await bob.connect();
    await server.stop();
    rmSync(join(dataDir, KEY_FILE));
    rmSync(join(dataDir, CERT_FILE));
    const renewed = await host({ dataDir, port });
    const joins = joinsAt(renewed.server);
    expect(renewed.server.fingerprint).not.toBe(old);

    const [offline] = await next(bob, 'state', (state) => state.kind === 'offline');
    expect(offline).toMatchObject({
      kind: 'offline',
      reason: 'BEACON_ERR_HOST_CHANGED',
      reasonText: errorMessage('BEACON_ERR_HOST_CHANGED'),
      nextRetryAt: null,
      fingerprints: { expected: old, presented: renewed.server.fingerprint },
    });
    // A remembered pin is held the same way on a fresh join.
    const again = member(`127.0.0.1:${port}`, 'Bob', { pin: { fingerprint: old, trust: 'remembered' } });
    expect(await refusal(again)).toMatchObject({ code: 'BEACON_ERR_HOST_CHANGED' });
    expect(joins).toEqual([]);
    expect(renewed.server.members()).toEqual([]);
  });

  it('a machine in the middle with its own certificate is refused before it hears one byte of the upgrade', async () => {
    const { server } = await host();
    const mitm = await impostor(server.port);
    const invite = server.info().invite!.replace(`:${server.port}/`, `:${mitm.port}/`);
    const bob = member(invite, 'Bob');
    const refused = await refusal(bob);
    expect(refused).toMatchObject({ code: 'BEACON_ERR_HOST_CHANGED' });
    expect(bob.state).toMatchObject({
      kind: 'offline',
      fingerprints: { expected: server.fingerprint, presented: mitm.fingerprint },
    });
    expect(mitm.heard()).toBe('');
    expect(server.members()).toEqual([]);

    // The same machine, trusted blindly, reads the join code: what the pin above kept from it.
    const careless = member(`127.0.0.1:${mitm.port}`, 'Carol');
    await careless.connect();
    expect(connectedSecurity(careless)).toMatchObject({ fingerprint: mitm.fingerprint, trust: 'first-use' });
    expect(mitm.heard()).toMatch(/^GET \/ HTTP\/1\.1\r\n/);
    expect(webSocketTexts(mitm.heard())).toContainEqual(expect.stringContaining('"code":"1234"'));
  });

  it('a wss:// join of a host started with --insecure says it is not encrypted, and stops', async () => {
    const { server } = await host({ insecure: true });
    const bob = member(`127.0.0.1:${server.port}`, 'Bob');
    expect(await refusal(bob)).toMatchObject({ code: 'BEACON_ERR_NOT_ENCRYPTED' });
    expect(server.members()).toEqual([]);
  });

  it('ws:// written out still joins an --insecure host, and says it is not encrypted', async () => {
    const { server } = await host({ insecure: true });
    const bob = member(`ws://127.0.0.1:${server.port}`, 'Bob');
    await bob.connect();
    expect(connectedSecurity(bob)).toEqual({ encrypted: false });
  });
});

describe('the one port, spoken to without TLS', () => {
  it('a browser’s http:// request is sent to the same address over https://, and gets nothing of the room', async () => {
    const { server } = await host();
    const page = await plainGet(server.port, '/room.json?x=1', `127.0.0.1:${server.port}`);
    expect(page.status).toBe(308);
    expect(page.headers.location).toBe(`https://127.0.0.1:${server.port}/room.json?x=1`);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).not.toContain('Private room');
  });

  it('a request naming another site (DNS rebinding) is not redirected there', async () => {
    const { server } = await host();
    const page = await plainGet(server.port, '/', `evil.example:${server.port}`);
    expect(page.status).toBe(400);
    expect(page.headers.location).toBeUndefined();
  });

  it('a ws:// client is refused with the reason, and joins nothing', async () => {
    const { server } = await host();
    const bob = member(`ws://127.0.0.1:${server.port}`, 'Bob');
    expect(await refusal(bob)).toMatchObject({
      code: 'BEACON_ERR_ENCRYPTION_REQUIRED',
      message: errorMessage('BEACON_ERR_ENCRYPTION_REQUIRED'),
    });
    expect(server.members()).toEqual([]);
  });

  it('a member over TLS is not cut by the handshake timeout meant for sockets that say nothing', async () => {
    const server = await RoomServer.start({
      port: 0,
      bind: '127.0.0.1',
      code: '1234',
      dataDir: tempDir(),
      limits: { handshakeTimeoutMs: 300 },
    });
    cleanups.push(() => server.stop());
    // Bob pings (within the host's ping budget): each pong a round trip on the same socket, past the 300 ms.
    const bob = member(`127.0.0.1:${server.port}`, 'Bob', { pingIntervalMs: 400 });
    const states: string[] = [];
    bob.on('state', (state) =>
      states.push(state.kind === 'connected' ? state.kind : `${state.kind} ${'reason' in state ? state.reason : ''}`),
    );
    await bob.connect();
    const joinedAt = Date.now();
    await next(
      bob,
      'state',
      (state) => state.kind === 'connected' && state.rttMs !== null && Date.now() - joinedAt > 900,
    );
    expect(states.filter((kind) => kind !== 'connected')).toEqual(['connecting ']);
    expect(server.members().map((m) => m.name)).toEqual(['Bob']);
  });

  it('a socket that stalls in the middle of its TLS handshake is cut, and the host forgets it', async () => {
    const { server } = await host({ handshakeTimeoutMs: 300 });
    const socket: Socket = connect({ host: '127.0.0.1', port: server.port });
    socket.on('error', () => {});
    // A TLS record header and the start of a ClientHello, and then nothing more.
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]));
    const started = Date.now();
    await new Promise((resolve) => socket.once('close', resolve));
    expect(Date.now() - started).toBeLessThan(2_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.openSockets).toBe(0);
  });
});

describe('the page’s own requests over https', () => {
  it('/room.json states the fingerprint for the page to show, only to a request naming this machine', async () => {
    const { server } = await host();
    const info = await secureGet(server.port, '/room.json', `127.0.0.1:${server.port}`);
    expect(info.status).toBe(200);
    expect(JSON.parse(info.body)).toEqual({
      name: 'Private room',
      codeRequired: true,
      fingerprint: server.fingerprint,
      encrypted: true,
    });
    const rebound = await secureGet(server.port, '/room.json', `evil.example:${server.port}`);
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain('Private room');
  });

  it('a page’s kept-alive https connection is not cut by the handshake timeout once it has asked for something', async () => {
    const { server } = await host({ handshakeTimeoutMs: 300 });
    const page = connectTls({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false });
    page.setEncoding('utf8');
    let received = '';
    page.on('data', (chunk: string) => (received += chunk));
    const answers = (count: number) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if ((received.match(/HTTP\/1\.1 200/g) ?? []).length >= count) resolve();
          else page.once('data', check);
        };
        check();
      });
    const ask = (): boolean => page.write(`GET /room.json HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    await new Promise((resolve) => page.once('secureConnect', resolve));
    ask();
    await answers(1);
    // A socket opened alongside that says nothing is cut: the timeout has passed for both.
    const idle: Socket = connect({ host: '127.0.0.1', port: server.port });
    idle.on('error', () => {});
    await new Promise((resolve) => idle.once('close', resolve));
    ask();
    await answers(2);
    page.destroy();
  });

  it('a WebSocket from the host’s own https page is let in; one claiming its http origin is not', async () => {
    const { server } = await host();
    const own = new RawPeer(server, { headers: { Origin: `https://127.0.0.1:${server.port}` } });
    await own.hello('Page');
    const downgraded = new RawPeer(server, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
    await expect(downgraded.opened()).rejects.toThrow('HTTP 403');
  });
});
