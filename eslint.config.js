// @ts-check
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const NODE_ONLY = {
  group: ['node:*', ...builtinModules, 'ws', 'electron', 'electron/*', 'sirv'],
  message: 'Not in this layer: it must run in a browser too.',
};
const PLAIN_NODE = {
  group: ['electron', 'electron/*', '**/main/**', '**/renderer/**', '**/preload/**', '**/cli/**', 'svelte', 'svelte/*'],
  message: 'The host and the CLI run on plain Node: no Electron, no shell, no interface.',
};
const STORE_IS_PRIVATE = {
  group: ['**/host/store/**'],
  message: 'The store is the host’s private business: ask the RoomServer.',
};

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'bench/results/**', 'bench/.cache/**', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Enums are not erasable; use a const object.' },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  // Process boundaries, enforced rather than hoped for.
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NODE_ONLY,
            {
              group: [
                'svelte',
                'svelte/*',
                '**/main/**',
                '**/host/**',
                '**/node/**',
                '**/cli/**',
                '**/renderer/**',
                '**/preload/**',
              ],
              message: 'src/shared imports nothing from other layers.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'process', 'Buffer'],
    },
  },
  {
    files: ['src/renderer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NODE_ONLY,
            {
              group: ['**/main/**', '**/host/**', '**/node/**', '**/cli/**', '**/preload/**'],
              message: 'The renderer talks to main only through ChatApi.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/preload/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'ws', '**/main/**', '**/host/**', '**/node/**', '**/cli/**', '**/renderer/**'],
              message: 'The preload exposes ChatApi and nothing else.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/host/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [PLAIN_NODE],
        },
      ],
    },
  },
  {
    files: ['src/node/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            PLAIN_NODE,
            { group: ['**/host/**'], message: 'src/node holds client pieces; the host is not one of them.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [PLAIN_NODE, STORE_IS_PRIVATE],
        },
      ],
    },
  },
  {
    files: ['src/main/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/renderer/**', '**/cli/**', '**/preload/**', 'svelte', 'svelte/*'],
              message: 'Main never imports the interface, the CLI or the preload.',
            },
            STORE_IS_PRIVATE,
          ],
        },
      ],
    },
  },
  {
    files: ['src/renderer/**'],
    rules: {
      // State replaces whole immutable values in $state.raw fields; private Maps and Sets used for
      // bookkeeping are deliberately not reactive. SvelteMap would add tracking nobody reads.
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
);
