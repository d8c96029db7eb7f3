import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import sirv from 'sirv';
import { contentSecurityPolicy } from '../shared/csp.ts';

const WEB_CSP = contentSecurityPolicy({ header: true });

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function notFound(res: ServerResponse, text: string): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

/**
 * Serves only the built web client. sirv lists the folder once at start and
 * answers only for files in that list, so no path (encoded `..` included) can
 * reach outside it. Hashed assets are cached for good; index.html never is, so a
 * new version loads on the next visit.
 */
export function webFilesHandler(webRoot: string | undefined): Handler {
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
