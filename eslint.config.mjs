// @ts-check
// `pnpm lint` runs this after `tsc -b`: type-aware rules for what the compiler lets through
// (promises nobody awaits, promises where a callback must return nothing, unused code).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      '**/dist/',
      '**/node_modules/',
      // protobufjs output of `pnpm gen`
      'packages/protocol/generated/',
      'packages/client/generated/',
      'coverage/',
      '.tmp/',
      'test-artifacts/',
      'bench/results/',
      '.lomi-data/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // apps/web has its own (DOM) tsconfig; tsconfig.eslint.json covers every other .ts file.
        project: ['./tsconfig.eslint.json', './apps/web/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unused-expressions': 'error',
      // In-memory implementations of async seams stay `async` so that they throw as rejections, like the real ones.
      '@typescript-eslint/require-await': 'off',
      // Stores and services are factories returning closures, not classes: their methods never use `this`.
      '@typescript-eslint/unbound-method': 'off',
      // Promise.all over optional work (`live ? liveState(room) : undefined`) is deliberate.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      // A promise's executor passes on what it caught as it came, as `throw` may (only-throw-error's default).
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true, allowThrowingAny: true }],
      // `let x` assigned once after a closure that reads it was created (the closure runs later).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['test/**', '**/*.test.ts', 'packages/testkit/src/**'],
    rules: {
      // Tests and their kit read JSON bodies and YAML documents as `any` and assert on them.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Build scripts and jest's setup files: plain Node, no type information.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.js'],
    ignores: ['apps/web/buffer-shim.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
