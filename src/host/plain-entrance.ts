/**
 * What an encrypted host answers on its one port to a connection that does
 * not start a TLS handshake: a browser typed http://, or an old client wrote
 * ws://. It never serves the room in clear. A browser's page request is sent
 * to the same address over https://; a WebSocket upgrade is refused with a
 * sentence saying why. Neither response carries anything about the room.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../shared/errors.ts';

export interface PlainEntranceOptions {
  /** "host:port" of a Host header that names this machine, or null (see ownHostHeader). */
  ownHost: (host: string | undefined) => string | null;
  /** The socket sent a request: the connection gate's handshake timer no longer applies. */
  spoke: (req: IncomingMessage) => void;
  /** Timeouts as the room's own server has them. */
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval: number;
}

/** Status of the refusal of a plain WebSocket upgrade; the Node client reads it as BEACON_ERR_ENCRYPTION_REQUIRED. */
export const PLAIN_UPGRADE_STATUS = 426;

export function plainEntrance(options: PlainEntranceOptions): Server {
  const server = createServer(
    {
      headersTimeout: options.headersTimeout,
      requestTimeout: options.requestTimeout,
      connectionsCheckingInterval: options.connectionsCheckingInterval,
    },
    (req, res) => redirect(req, res, options.ownHost(req.headers.host)),
  );
  server.on('request', options.spoke);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    options.spoke(req);
    socket.on('error', () => {});
    socket.end(
      `HTTP/1.1 ${PLAIN_UPGRADE_STATUS} Upgrade Required\r\nConnection: close\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\n\r\n${errorMessage('BEACON_ERR_ENCRYPTION_REQUIRED')}\n`,
    );
  });
  return server;
}

function redirect(req: IncomingMessage, res: ServerResponse, host: string | null): void {
  res.setHeader('Connection', 'close');
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // Not cached: if the host is ever run with --insecure on this port, the browser must not keep going to https.
  res.setHeader('Cache-Control', 'no-store');
  if (host === null) {
    res.writeHead(400).end('This Beacon room is encrypted: open it with https:// and its host computer’s address.\n');
    return;
  }
  const path = req.url?.startsWith('/') ? req.url : '/';
  const location = `https://${host}${path}`;
  res.writeHead(308, { Location: location }).end(`This Beacon room is encrypted: ${location}\n`);
}
