import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const harnessRoot = fileURLToPath(new URL('../harness', import.meta.url));

/**
 * The component harness (test/harness: the real App over a fake ChatApi) served by
 * Vite on 127.0.0.1, for tests that mount the interface in Chromium.
 */
export async function serveHarness(): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server = await createServer({
    configFile: false,
    root: harnessRoot,
    cacheDir: fileURLToPath(new URL('../../node_modules/.vite-renderer-harness', import.meta.url)),
    logLevel: 'error',
    plugins: [svelte({ configFile: false })],
    server: { host: '127.0.0.1', port: 0, strictPort: false, fs: { allow: [repoRoot] }, hmr: false },
    // Discovering dependencies on first load would make Vite reload the page mid-test.
    // tus-js-client (the in-browser ChatApi's uploads, harness.mountWeb) is CommonJS underneath: bundled once.
    optimizeDeps: { noDiscovery: true, include: ['tus-js-client'] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('Vite did not report a port');
  return { baseUrl: `http://127.0.0.1:${address.port}/`, close: () => server.close() };
}
