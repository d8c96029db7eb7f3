/**
 * Module hooks for the shell test: the bare specifier `electron` (and its
 * `electron/main`, `electron/renderer`, `electron/common` entry points)
 * resolves to the recorded stand-in instead of the Electron package.
 */
import type { ResolveHook } from 'node:module';

const STANDIN = new URL('./electron.ts', import.meta.url).href;
const ELECTRON = new Set(['electron', 'electron/main', 'electron/renderer', 'electron/common']);

export const resolve: ResolveHook = (specifier, context, nextResolve) =>
  ELECTRON.has(specifier) ? { url: STANDIN, shortCircuit: true } : nextResolve(specifier, context);
