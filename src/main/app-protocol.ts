/**
 * app://beacon/: the window's own pages, served by main from the built renderer folder instead of
 * file:// (a file:// page shares its origin with every file on the disk; app://beacon is an origin
 * of its own, gets the CSP as a header, and nothing outside the folder can be reached through it).
 *
 * Electron-free (a fetch Request in, a Response out) so it can be tested on Node; index.ts
 * registers it with protocol.handle.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'beacon';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_PAGE_URL = `${APP_ORIGIN}/index.html`;

/** Privileges declared before 'ready': a standard, secure origin (like https), allowed to fetch its own files. */
export const APP_SCHEME_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true } as const;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** True for a URL of Beacon's own origin, app://beacon (nothing else on the app: scheme). */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (
      parsed.protocol === `${APP_SCHEME}:` &&
      parsed.host === APP_HOST &&
      parsed.username === '' &&
      parsed.password === ''
    );
  } catch {
    return false;
  }
}

/**
 * The file under `root` a request names, or null: not our host, a method other than GET/HEAD, a
 * path that leaves the folder (`..`, encoded or not, a backslash, an absolute or drive path, a NUL).
 */
export function appFilePath(root: string, request: { url: string; method: string }): string | null {
  if (request.method !== 'GET' && request.method !== 'HEAD') return null;
  if (!isAppUrl(request.url)) return null;
  let path: string;
  try {
    path = decodeURIComponent(new URL(request.url).pathname);
  } catch {
    return null;
  }
  if (path === '/' || path === '') path = '/index.html';
  // Each segment is judged after decoding: %2e%2e, %2f and %5c cannot smuggle a step up.
  const segments = path.split('/').slice(1);
  if (
    segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0') || s.includes(':'))
  ) {
    return null;
  }
  const base = resolve(root);
  const file = resolve(base, ...segments);
  return file.startsWith(base + sep) ? file : null;
}

/**
 * The protocol handler: files of `root` with their type, `csp` as the Content-Security-Policy of
 * every answer, 404 for anything else. A symbolic link that leads out of the folder is refused too.
 */
export function appSchemeHandler(root: string, csp: string): (request: Request) => Promise<Response> {
  const headers = (type?: string): Record<string, string> => ({
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    ...(type ? { 'Content-Type': type } : {}),
  });
  const notFound = (): Response => new Response('Not found', { status: 404, headers: headers('text/plain') });
  return async (request) => {
    const file = appFilePath(root, request);
    if (!file) return notFound();
    try {
      const [real, base] = await Promise.all([realpath(file), realpath(resolve(root))]);
      if (!real.startsWith(base + sep) || !(await stat(real)).isFile()) return notFound();
      const type = CONTENT_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream';
      const body = request.method === 'HEAD' ? null : await readFile(real);
      return new Response(body, { status: 200, headers: headers(type) });
    } catch {
      return notFound();
    }
  };
}
