import { DEFAULT_PORT } from './protocol.ts';

/**
 * Turns what a person types ("192.168.1.20", "host:4747", "ws://host:4747",
 * "http://host:4747/") into the WebSocket URL of a room, or null if it is not an address.
 */
export function roomUrl(input: string): string | null {
  const text = input.trim();
  if (text.length === 0 || /\s/.test(text)) return null;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `ws://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return null;
  }
  const scheme = { 'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:' }[url.protocol];
  if (!scheme || url.hostname.length === 0 || url.username || url.password) return null;
  const port = url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? '' : String(DEFAULT_PORT));
  const host = port ? `${url.hostname}:${port}` : url.hostname;
  return `${scheme}//${host}${url.pathname === '/' ? '/' : url.pathname}`;
}
