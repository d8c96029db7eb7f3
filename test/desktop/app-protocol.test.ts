/** app://beacon: the window's pages from the built renderer folder, and nothing else (src/main/app-protocol.ts). */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_PAGE_URL, appFilePath, appSchemeHandler, isAppUrl } from '../../src/main/app-protocol.ts';
import { isTrustedSender } from '../../src/main/ipc-bridge.ts';
import { contentSecurityPolicy } from '../../src/shared/csp.ts';

const base = mkdtempSync(join(tmpdir(), 'beacon-app-protocol-'));
const root = join(base, 'renderer');
mkdirSync(join(root, 'assets'), { recursive: true });
writeFileSync(join(root, 'index.html'), '<!doctype html><title>Beacon</title>');
writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
writeFileSync(join(base, 'secret.txt'), 'outside the folder');
mkdirSync(join(base, 'renderer-evil'));
writeFileSync(join(base, 'renderer-evil', 'x.js'), 'a sibling folder whose name starts like the root');
symlinkSync(join(base, 'secret.txt'), join(root, 'assets', 'link.txt'));
const CSP = contentSecurityPolicy({ header: true, app: true });
const handler = appSchemeHandler(root, CSP);
const get = (url: string, method = 'GET') => handler(new Request(url, { method }));

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('app://beacon', () => {
  it('serves index.html and assets with their type and the CSP', async () => {
    const page = await get(APP_PAGE_URL);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CSP);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>Beacon</title>');
    expect((await get('app://beacon/')).status).toBe(200);
    const script = await get('app://beacon/assets/app.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it.each([
    'app://beacon/%2e%2e/secret.txt',
    'app://beacon/%2E%2E%2Fsecret.txt',
    'app://beacon/assets/..%2F..%2Fsecret.txt',
    'app://beacon/..%5Csecret.txt',
    'app://beacon/../secret.txt',
    'app://beacon/..%2frenderer-evil/x.js',
    `app://beacon/${encodeURIComponent(join(base, 'secret.txt'))}`,
    'app://beacon//etc/passwd',
    'app://beacon/%2Fetc%2Fpasswd',
    'app://beacon/C:%5CWindows%5Cwin.ini',
    'app://beacon/index.html%00.js',
    'app://beacon/%E0%A4%A',
    'app://beacon/assets/link.txt',
    'app://beacon/assets',
    'app://beacon/missing.html',
    'app://evil/index.html',
    'app://beacon.evil/index.html',
    'app://127.0.0.1/index.html',
    'https://beacon/index.html',
  ])('refuses %s with a 404 that still carries the CSP', async (url) => {
    const answer = await get(url);
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-security-policy')).toBe(CSP);
    expect(await answer.text()).toBe('Not found');
  });

  it('answers only GET and HEAD', async () => {
    expect((await get(APP_PAGE_URL, 'HEAD')).status).toBe(200);
    expect(await (await get(APP_PAGE_URL, 'HEAD')).text()).toBe('');
    for (const method of ['POST', 'PUT', 'DELETE']) expect((await get(APP_PAGE_URL, method)).status).toBe(404);
  });

  it('maps a path to a file under the folder, or to nothing', () => {
    expect(appFilePath(root, { url: 'app://beacon/assets/app.js', method: 'GET' })).toBe(
      join(root, 'assets', 'app.js'),
    );
    expect(appFilePath(root, { url: 'app://beacon/a/./b', method: 'GET' })).toBe(join(root, 'a', 'b'));
    // URL parsing already takes dot segments (encoded too) as steps that stop at the root.
    expect(appFilePath(root, { url: 'app://beacon/%2e%2e', method: 'GET' })).toBe(join(root, 'index.html'));
    expect(appFilePath(root, { url: 'app://beacon/a%2f..%2f..%2fb', method: 'GET' })).toBeNull();
    expect(appFilePath(root, { url: 'app://beacon/a%5cb', method: 'GET' })).toBeNull();
  });

  it('is the one origin the IPC bridge and permissions trust: not file://, not another app: host', () => {
    expect(isAppUrl(APP_PAGE_URL)).toBe(true);
    expect(isTrustedSender(APP_PAGE_URL, APP_PAGE_URL)).toBe(true);
    expect(isTrustedSender('app://beacon/other.html', APP_PAGE_URL)).toBe(true);
    for (const frame of [
      'file:///opt/Beacon/resources/app.asar/out/renderer/index.html',
      'app://evil/index.html',
      'app://beacon.evil/index.html',
      'app://user@beacon/index.html',
      'beacon-file://file/f_x',
      'https://beacon/index.html',
      'http://localhost:5173/',
      'about:blank',
      '',
      undefined,
    ]) {
      expect(isTrustedSender(frame, APP_PAGE_URL), String(frame)).toBe(false);
    }
  });
});
