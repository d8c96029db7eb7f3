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
    // Bundle main's dependencies into out/main, so the packaged app needs no node_modules at all: the installer
    // carries only what main imports (tree-shaken: @tus/* pull in Redis clients the app never loads). They are
    // devDependencies for that reason. ws's optional native add-ons (bufferutil, utf-8-validate) stay absent and
    // ws falls back to JavaScript; @peculiar/x509 and reflect-metadata become chunks loaded on first hosting.
    build: { externalizeDeps: false, rollupOptions: { input: { index: resolve('src/main/index.ts') } } },
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
