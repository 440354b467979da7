// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'public', 'test-results', '.bench', '.tmp'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.worker } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/ui/**/*.{ts,tsx}', 'src/app/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    // Core is plain TypeScript: it never reaches up into React, the store, the UI or the worker.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'react', message: 'src/core is plain TypeScript: no React.' },
            { name: 'react-dom', message: 'src/core is plain TypeScript: no React.' },
            { name: 'zustand', message: 'src/core must not depend on UI state.' },
          ],
          patterns: [
            {
              group: ['**/ui/**', '**/state/**', '**/worker/**', '**/app/**'],
              message: 'Arrows point down: core never imports ui, state, worker or app.',
            },
          ],
        },
      ],
    },
  },
  {
    // Core and worker code runs inside Web Workers (and core in Node tests): no page globals.
    files: ['src/core/**/*.ts', 'src/worker/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'localStorage', 'sessionStorage', 'alert'].map((name) => ({
          name,
          message: `${name} does not exist in a Web Worker; pass what you need in, or use self.`,
        })),
      ],
    },
  },
  {
    // The worker owns tensors and storage, never UI.
    files: ['src/worker/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['react', 'react-dom', 'zustand'], patterns: ['**/ui/**', '**/state/**'] },
      ],
    },
  },
  {
    // The UI is thin: data reaches it through the store (state/), never straight from IndexedDB
    // or a worker. It may name core and worker/api types; it may not call storage or workers.
    files: ['src/ui/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/core/storage', '**/core/storage/**'],
              allowTypeImports: true,
              message: 'ui reads and writes data through store actions (src/state), not IndexedDB.',
            },
            {
              group: ['**/worker/**', '!**/worker/api'],
              message:
                'ui talks to workers through the store; it may import types from worker/api.',
            },
            {
              group: ['**/worker/api'],
              allowTypeImports: true,
              message: 'worker/api holds types only: import them with `import type`.',
            },
          ],
        },
      ],
    },
  },
  {
    // The store calls workers through the clients in Services; from worker/ it names types only.
    files: ['src/state/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/worker/**', '!**/worker/api'],
              message: 'state reaches workers through Services; import types from worker/api.',
            },
            {
              group: ['**/worker/api'],
              allowTypeImports: true,
              message: 'worker/api holds types only: import them with `import type`.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['tests/**/*.ts', 'scripts/**/*.{ts,mjs,js}', '*.config.{ts,js}'],
    languageOptions: { globals: { ...globals.node } },
  },
);
