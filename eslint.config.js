// ESLint 9 flat config: typescript-eslint's recommended rules on every TypeScript source, `any`
// refused, and the few type-aware rules that catch real defects in a server (a promise nobody
// awaits, a promise where a callback was expected). Import cycles are checked by
// test/core/import-cycles.test.ts; the back-office browser scripts (backoffice/src/) by tsconfig.backoffice.json.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'docs/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Layout is prettier's (`.prettierrc.json`, width 120), checked by `npm run lint`; no layout rules here
  prettier,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // One import statement per module (a type-only one beside it is fine): a file's dependencies read at a glance.
      'no-duplicate-imports': ['error', { allowSeparateTypeImports: true }],
    },
  },
  {
    rules: {
      // `_`-prefixed names are deliberately unused (a property left out of a rest object, a parameter a signature requires)
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // The browser scripts belong to tsconfig.backoffice.json (DOM library), not to the root tsconfig.json
    files: ['backoffice/src/**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: ['./tsconfig.backoffice.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests read JSON bodies of many shapes; `any` there is the test's own business
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
    },
  },
);
