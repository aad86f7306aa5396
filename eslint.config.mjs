// typescript-eslint's recommended rules with type information, and the layers of the architecture as
// import rules (docs/ARCHITECTURE.md): only the extension host talks to VS Code; the model code touches
// no file system and no native module; the webview sees nothing of src/ but src/shared/.
import tseslint from 'typescript-eslint';

/**
 * An import rule for one layer: packages it must not use, and the src/ folders (relative imports through
 * them) it must not reach.
 */
function layer(files, why, { packages = [], folders = [], regex }) {
  const reach = regex ?? (folders.length > 0 ? `^\\.{1,2}/(.*/)?(${folders.join('|')})(/|$)` : undefined);
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: packages.map((name) => ({ name, message: why })),
          patterns: reach ? [{ regex: reach, message: why }] : [],
        },
      ],
    },
  };
}

/** Node's file system and process APIs: what src/files/ and src/inference/ are for. */
const NODE_IO = [
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'os',
  'node:os',
  'child_process',
  'node:child_process',
  'worker_threads',
  'node:worker_threads',
];
const NATIVE = ['onnxruntime-node', 'sharp'];

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
      '.venv-torch/',
    ],
  },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-console': ['error', { allow: ['error'] }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test() and describe() return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
    },
  },
  {
    // Build scripts, the e2e harness and this file are JavaScript outside the TypeScript projects.
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Build, benchmark and test scripts report on the console by design.
    files: ['scripts/**', 'e2e/**'],
    rules: { 'no-console': 'off' },
  },
  layer(
    ['src/model/**'],
    'src/model/ is pure model code: files are read in src/files/, models run in src/inference/.',
    {
      packages: ['vscode', ...NODE_IO, ...NATIVE],
      folders: ['host', 'inference', 'files', 'cli', 'webview'],
    },
  ),
  layer(
    ['src/shared/**'],
    'src/shared/ is the protocol the webview imports too: no VS Code, no Node, nothing of src/ beside it.',
    {
      packages: ['vscode', ...NODE_IO, ...NATIVE, 'node:path', 'path', 'node:crypto', 'crypto'],
      folders: ['host', 'inference', 'files', 'cli', 'model', 'webview'],
    },
  ),
  layer(
    ['src/files/**'],
    'src/files/ reads and writes files for the CLI, the worker and the host: no VS Code, no sessions.',
    {
      packages: ['vscode', ...NATIVE],
      folders: ['host', 'inference', 'cli', 'webview'],
    },
  ),
  layer(['src/python/**'], 'src/python/ runs the Python helper for the CLI and the host: no VS Code.', {
    packages: ['vscode', ...NATIVE],
    folders: ['host', 'inference', 'cli', 'webview'],
  }),
  layer(['src/inference/**'], 'src/inference/ runs in the worker and the CLI: no VS Code.', {
    packages: ['vscode'],
    folders: ['host', 'cli', 'webview'],
  }),
  layer(['src/cli.ts', 'src/cli/**'], 'The CLI runs without VS Code.', {
    packages: ['vscode'],
    folders: ['host', 'webview'],
  }),
  layer(['webview/**'], 'The webview is a browser bundle: it imports only src/shared/ from src/.', {
    packages: ['vscode', ...NODE_IO, ...NATIVE, 'node:path', 'path', 'node:crypto', 'crypto'],
    regex: '^\\.\\./src/(?!shared/)',
  }),
);
