import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';
import type { Plugin } from 'vite';
import { contentSecurityPolicy } from './src/shared/csp.ts';

/** Writes the one CSP (src/shared/csp.ts) into index.html, so the page and the headers never drift apart. */
function cspMetaTag(): Plugin {
  let dev = false;
  return {
    name: 'beacon-csp-meta',
    configResolved: (config) => void (dev = config.command === 'serve'),
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy({ dev }) },
        injectTo: 'head-prepend',
      },
    ],
  };
}

export default defineConfig({
  main: {
    build: { rollupOptions: { input: { index: resolve('src/main/index.ts') } } },
  },
  preload: {
    // A sandboxed preload cannot load modules: bundle everything into one CommonJS file.
    build: {
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    // The same build is served by the host to browsers, so asset paths are relative.
    base: './',
    plugins: [cspMetaTag(), svelte({ configFile: false })],
    build: { rollupOptions: { input: { index: resolve('src/renderer/index.html') } } },
  },
});
