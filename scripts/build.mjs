// Builds every bundle: extension host, worker, CLI (Node, CommonJS) and the webview (browser, IIFE).
// Native modules and 'vscode' stay external; they are resolved from node_modules at run time.
// `--production` minifies and drops source maps; `--outdir DIR` writes elsewhere than dist/ (packaging).
import * as esbuild from 'esbuild';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { production: { type: 'boolean' }, outdir: { type: 'string' } } });
const production = values.production ?? false;
const outdir = values.outdir ?? 'dist';
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning' };

await Promise.all([
  esbuild.build({
    ...common,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    entryPoints: {
      extension: 'src/extension.ts',
      worker: 'src/inference/worker.ts',
      cli: 'src/cli.ts',
    },
    outdir,
    external: ['vscode', 'onnxruntime-node', 'sharp'],
  }),
  esbuild.build({
    ...common,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    entryPoints: { webview: 'webview/main.ts' },
    outdir,
  }),
]);
