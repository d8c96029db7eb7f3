/**
 * Hosts a room from a PACKAGED main (app.asar extracted, no node_modules anywhere above it) against the shell
 * test's recorded Electron stand-in, the way the page would: through the IPC handler for `host`. Then fetches
 * the room's page and /room.json over HTTPS, stops hosting and checks the port is closed. Prints one line:
 * PROBE_PREFIX + JSON ({ ok: true, port } or { ok: false, error }). Started by scripts/check-package.ts as
 *
 *   BEACON_PROBE_OUT=<extracted>/out node --import <shell-standin/register.ts> scripts/packaged-host-probe.ts
 *
 * This is what bundling main's dependencies could break and the shell test does not reach: the TLS identity
 * (@peculiar/x509 and reflect-metadata, loaded on first hosting), SQLite, ws, the static file server.
 */
import { request } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CommandName } from '../src/shared/chat-api.ts';

export const PROBE_PREFIX = 'BEACON-PACKAGED-HOST ';
const OWN_PAGE = { url: 'app://beacon/index.html', parent: null };

const settle = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function command(name: CommandName, payload?: unknown): Promise<unknown> {
  const { recorder } = await import('../test/desktop/shell-standin/electron.ts');
  // The channel names of src/main/ipc-bridge.ts (commandChannel).
  const handler = recorder.handlers.find((h) => h.channel === `beacon:${name}`);
  if (!handler) throw new Error(`the packaged main registered no handler for ${name}`);
  const result = (await handler.listener({ senderFrame: OWN_PAGE, processId: 1, frameId: 1 }, payload)) as {
    ok: boolean;
    value?: unknown;
    error?: unknown;
  };
  if (!result.ok) throw new Error(`${name} failed: ${JSON.stringify(result.error)}`);
  return result.value;
}

/** GET over HTTPS from the room's self-signed host (the fingerprint is not what this probe checks). */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        rejectUnauthorized: false,
        timeout: 10_000,
        headers: { host: `127.0.0.1:${port}` },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', fail);
    req.end();
  });
}

function portIsClosed(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.on('error', () => done(true));
  });
}

async function probe(): Promise<number> {
  const out = process.env['BEACON_PROBE_OUT'];
  if (!out) throw new Error('BEACON_PROBE_OUT is not set');
  await import(pathToFileURL(join(out, 'main', 'index.js')).href);
  await settle(10);
  const { recorder } = await import('../test/desktop/shell-standin/electron.ts');
  recorder.becomeReady();
  await settle(50);
  const hosted = (await command('host', { roomName: 'Packaging check', name: 'Probe', port: 0, code: '' })) as {
    port: number;
  };
  const page = await get(hosted.port, '/');
  if (page.status !== 200 || !page.body.includes('<html')) throw new Error(`the room's page answered ${page.status}`);
  const room = await get(hosted.port, '/room.json');
  if (room.status !== 200 || !room.body.includes('Packaging check')) {
    throw new Error(`/room.json answered ${room.status}: ${room.body.slice(0, 200)}`);
  }
  await command('leave');
  await settle(100);
  if (!(await portIsClosed(hosted.port))) throw new Error(`port ${hosted.port} still accepts connections after leave`);
  return hosted.port;
}

if (import.meta.main) {
  probe().then(
    (port) => process.stdout.write(`${PROBE_PREFIX}${JSON.stringify({ ok: true, port })}\n`, () => process.exit(0)),
    (error: unknown) => {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stdout.write(`${PROBE_PREFIX}${JSON.stringify({ ok: false, error: text })}\n`, () => process.exit(0));
    },
  );
}
