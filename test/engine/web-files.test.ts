import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startRoom } from '../helpers/room.ts';
import { WEB_ROOT } from '../e2e/helpers.ts';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

afterEach(cleanup);

/** A raw GET, so the path reaches the server exactly as written (no client-side normalising of `..`). */
function get(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the host serving the web client', () => {
  it('serves the page with a strict CSP, and a new version loads (page never cached, hashed assets cached for good)', async () => {
    const server = await startRoom({ webRoot: WEB_ROOT });
    const page = await get(server.port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-cache');
    const script = readdirSync(join(WEB_ROOT, 'assets')).find((name) => name.endsWith('.js'))!;
    const asset = await get(server.port, `/assets/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/^(text|application)\/javascript/);
    expect(asset.headers['cache-control']).toContain('immutable');
  });

  it.each([
    '/../package.json',
    '/%2e%2e/package.json',
    '/%2e%2e%2fpackage.json',
    '/assets/..%2f..%2f..%2fpackage.json',
    '/..%5c..%5cpackage.json',
    '/%252e%252e/package.json',
    '/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  ])('refuses to leave the web folder: %s', async (path) => {
    const server = await startRoom({ webRoot: WEB_ROOT });
    const response = await get(server.port, path);
    expect(response.status).toBe(404);
    expect(response.body).not.toContain('"name": "beacon"');
    expect(response.body).not.toContain('root:');
  });

  it('explains itself when no web client was built', async () => {
    const server = await startRoom({ webRoot: '/nonexistent' });
    const response = await get(server.port, '/');
    expect(response.status).toBe(404);
    expect(response.body).toContain('npm run build');
  });
});
