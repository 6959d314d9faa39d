// @ts-check
// As `nest new` sets up: ESLint's recommended rules and typescript-eslint's type-aware ones, with
// Prettier owning the layout (eslint-config-prettier turns off the rules it would fight).
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'coverage/**', 'test-artifacts/**', '**/*.js'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: {
      globals: { ...globals.node },
      sourceType: 'module',
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.mjs', 'tools/*.mjs', 'tools/bench/load/*.mjs', 'test/chaos/harness/*.mjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
);
