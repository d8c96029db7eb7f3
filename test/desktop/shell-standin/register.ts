/** Loaded with `node --import`: installs hooks.ts before the shell is imported. */
import { register } from 'node:module';

register('./hooks.ts', import.meta.url);
