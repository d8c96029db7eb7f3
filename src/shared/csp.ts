/**
 * The one Content-Security-Policy of Beacon's interface. The build writes it
 * into index.html's meta tag (a second line of defence wherever the page is
 * opened); the app's own protocol (app://beacon, src/main/app-protocol.ts), the
 * Electron session and the host's web server send it as a header. No inline
 * script anywhere; connections only to the page's own origin.
 */
import { DESKTOP_FILE_SCHEME } from './files.ts';
const POLICY: Record<string, string> = {
  'default-src': "'self'",
  'script-src': "'self'",
  // Svelte and virtua set element styles; that needs inline styles, not inline script.
  'style-src': "'self' 'unsafe-inline'",
  // blob: shows a picked or pasted image before it is sent (an object URL of the page's own File).
  'img-src': "'self' data: blob:",
  'connect-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'none'",
};

/**
 * The desktop app's pictures of the room (main serves them, src/node/file-downloads.ts). Only
 * Electron can load this scheme; a browser enforces the host's header as well as the page's meta
 * tag, and the header leaves it out, so a browser page never gets it.
 */
const APP_IMAGES = `${DESKTOP_FILE_SCHEME}:`;

/**
 * `dev` adds the Vite dev server's hot-reload socket; `header` adds what only a
 * header can say (frame-ancestors is ignored in a meta tag). The page's meta tag (no `header`)
 * is in the app's page too and so allows the app's picture scheme; of the headers only the app's
 * window's (`app`) does.
 */
export function contentSecurityPolicy(options: { dev?: boolean; header?: boolean; app?: boolean } = {}): string {
  const policy = { ...POLICY };
  if (options.dev) policy['connect-src'] += ' ws://localhost:* http://localhost:*';
  if (!options.header || options.app) policy['img-src'] += ` ${APP_IMAGES}`;
  if (options.header) policy['frame-ancestors'] = "'none'";
  return Object.entries(policy)
    .map(([directive, value]) => `${directive} ${value}`)
    .join('; ');
}
