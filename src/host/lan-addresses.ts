import { hostname, networkInterfaces } from 'node:os';

const ALL_INTERFACES = new Set([undefined, '', '0.0.0.0', '::']);

/** The addresses colleagues can reach this host at, LAN first, loopback last. */
export function shareableHosts(bind: string | undefined): string[] {
  if (!ALL_INTERFACES.has(bind)) return [bind!];
  const lan: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && !info.internal) lan.push(info.address);
    }
  }
  return [...lan, '127.0.0.1'];
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True when `name` (from a browser's Origin) names this machine: one of its addresses, localhost, or its host name. */
export function isOwnHostName(name: string, bind: string | undefined): boolean {
  const bare = name.replace(/^\[|\]$/g, '').toLowerCase();
  const machine = hostname().toLowerCase();
  if (bare === 'localhost' || bare === machine || bare === `${machine}.local`) return true;
  if (bare === '127.0.0.1' || bare === '::1') return true;
  const own = new Set<string>(shareableHosts(bind));
  for (const list of Object.values(networkInterfaces())) for (const info of list ?? []) own.add(info.address);
  return own.has(bare);
}

export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * The authority ("host:port") of an HTTP Host header when it names this
 * machine on `port`, else null. A page from another site reaches us under
 * that site's own name after DNS rebinding, so the name must be one of ours;
 * `defaultPort` is the scheme's (443 for https) when the header has none.
 */
export function ownHostHeader(
  host: string | undefined,
  port: number,
  defaultPort: number,
  bind: string | undefined,
): string | null {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]{1,253})(?::(\d{1,5}))?$/i.exec(host ?? '');
  if (!match) return null;
  const name = match[1]!.toLowerCase();
  if (Number(match[2] ?? defaultPort) !== port || !isOwnHostName(name, bind)) return null;
  return `${name}:${port}`;
}
