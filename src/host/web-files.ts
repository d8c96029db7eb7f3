import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import sirv from 'sirv';
import { contentSecurityPolicy } from '../shared/csp.ts';
import type { Fingerprint } from '../shared/fingerprint.ts';
import { WIRE_LIMITS } from '../shared/protocol.ts';

const WEB_CSP = contentSecurityPolicy({ header: true });

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function notFound(res: ServerResponse, text: string): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

/**
 * Serves only the built web client, and (given `room`) what the join page
 * shows before joining at /room.json, to requests whose Host header
 * `room.isOwnHost` accepts (a page of another site that rebinds its name to
 * this machine must not read the room's name). sirv lists the folder once at start and
 * answers only for files in that list, so no path (encoded `..` included) can
 * reach outside it. Hashed assets are cached for good; index.html never is, so a
 * new version loads on the next visit.
 */
export function webFilesHandler(
  webRoot: string | undefined,
  room?: { info: RoomInfo; isOwnHost: (host: string | undefined) => boolean },
): Handler {
  const files = staticFiles(webRoot);
  if (!room) return files;
  // Fixed for the life of the server: built once, never from anything a request says.
  const body = JSON.stringify(roomInfoJson(room.info));
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== ROOM_INFO_PATH) {
      files(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (!room.isOwnHost(req.headers.host)) {
      res.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('Open this room by one of its host computer’s addresses or names.');
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': WEB_CSP,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/**
 * What the join page may know before joining: the room's name, whether it asks for a code, and how
 * the page reached it. No secrets.
 */
export interface RoomInfo {
  name: string;
  codeRequired: boolean;
  /** The host's certificate fingerprint, for a person to compare with what the browser shows; null without TLS. */
  fingerprint: Fingerprint | null;
  /** Whether the host speaks https:// and wss:// (false only for an --insecure host). */
  encrypted: boolean;
}

/** Where the host serves RoomInfo as JSON. */
export const ROOM_INFO_PATH = '/room.json';

/** Only these fields, whatever else a caller's object holds; the name capped like the host form caps it. */
function roomInfoJson(room: RoomInfo): RoomInfo {
  return {
    name: room.name.slice(0, WIRE_LIMITS.roomNameChars),
    codeRequired: room.codeRequired,
    fingerprint: room.fingerprint,
    encrypted: room.encrypted,
  };
}

function staticFiles(webRoot: string | undefined): Handler {
  if (!webRoot || !existsSync(join(webRoot, 'index.html'))) {
    return (_req, res) =>
      notFound(res, 'This Beacon host has no web client built. On the host, run `npm run build` and restart it.');
  }
  const serve = sirv(webRoot, {
    dev: false,
    etag: true,
    dotfiles: false,
    extensions: ['html'],
    setHeaders(res, pathname) {
      res.setHeader('Content-Security-Policy', WEB_CSP);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.setHeader(
        'Cache-Control',
        pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    serve(req, res, () => notFound(res, 'Not found.'));
  };
}
