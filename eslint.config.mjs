import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'e2e/**/node_modules/',
      'e2e/.run/',
      'test-results/',
      '.scratch/',
      '.bench/',
      'build/',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': ['error', { allow: ['error'] }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Build, benchmark and test scripts report on the console by design.
    files: ['scripts/**', 'e2e/**'],
    rules: { 'no-console': 'off' },
  },
);
