import { networkInterfaces } from 'node:os';

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
