/**
 * Baseline for the files scenario: the plainest way Node can take a file and give it back.
 * PUT /copy/<name> streams the body into a file (stream.pipeline, nothing else: no auth, no
 * hashing, no database); GET /copy/<name> streams it back. The floor Beacon's uploads and
 * downloads are measured against, in the same run, over the same transport.
 *   node bench/baselines/http-copy.ts <dir>          plain http://
 *   node bench/baselines/http-copy.ts <dir> --tls    https:// with a self-signed certificate made in <dir>
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadOrCreateIdentity } from '../../src/host/tls-identity.ts';
import { serveControl } from '../servers/control.ts';

const [, , dirArgument] = process.argv;
if (!dirArgument) throw new Error('usage: http-copy.ts <dir> [--tls]');
const dir: string = dirArgument;
const tls = process.argv.slice(3).includes('--tls');

/** Only [a-z0-9-] names, so a path can never leave `dir`. */
const fileOf = (url: string | undefined): string | null => {
  const name = /^\/copy\/([a-z0-9-]{1,64})$/.exec(url ?? '')?.[1];
  return name ? join(dir, name) : null;
};

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const file = fileOf(req.url);
  if (!file) {
    res.writeHead(404).end();
    return;
  }
  try {
    if (req.method === 'PUT') {
      await pipeline(req, createWriteStream(file));
      res.writeHead(201).end();
    } else if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Length': statSync(file).size, 'Content-Type': 'application/octet-stream' });
      await pipeline(createReadStream(file), res);
    } else {
      res.writeHead(405).end();
    }
  } catch {
    res.destroy();
  }
}

const listener = (req: IncomingMessage, res: ServerResponse): void => void handle(req, res);
const server = tls ? createHttpsServer({ ...(await loadOrCreateIdentity(dir)) }, listener) : createHttpServer(listener);
server.listen({ port: 0, host: '127.0.0.1' }, () => {
  const address = server.address();
  serveControl(
    typeof address === 'object' && address ? address.port : 0,
    () => new Promise<void>((resolve) => server.close(() => resolve())),
  );
});
