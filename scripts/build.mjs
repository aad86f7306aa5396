// Builds every bundle: extension host, worker, CLI (Node, CommonJS) and the webview (browser, IIFE).
// Native modules and 'vscode' stay external; they are resolved from node_modules at run time.
// `--production` minifies and drops source maps; `--outdir DIR` writes elsewhere than dist/ (packaging).
// `--watch` rebuilds on every change and prints lines for the problem matcher in .vscode/tasks.json:
//   [watch] build started
//   src/host/lens.ts:12:5: error: Expected ";" but found "x"
//   [watch] build finished, 1 error
import * as esbuild from 'esbuild';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { production: { type: 'boolean' }, outdir: { type: 'string' }, watch: { type: 'boolean' } },
});
const production = values.production ?? false;
const watch = values.watch ?? false;
const outdir = values.outdir ?? 'dist';
// In watch mode the plugin below reports, one line per problem; esbuild's own report would repeat them.
const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: watch ? 'silent' : 'warning',
};

const builds = [
  {
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
  },
  {
    ...common,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    entryPoints: { webview: 'webview/main.ts' },
    outdir,
  },
];

if (!watch) {
  await Promise.all(builds.map((options) => esbuild.build(options)));
} else {
  // One "started" when the first bundle starts rebuilding and one "finished" when the last is done, so that
  // the task counts as idle (and F5 launches) only once every bundle is written. Each cycle reports every
  // bundle's latest problems: a bundle that did not rebuild keeps its errors.
  let building = 0;
  const latest = builds.map(() => ({ errors: [], warnings: [] }));
  /** `file:line:column: severity: text`, columns counted from 1 as VS Code does. */
  const report = (severity, { text, location }) => {
    const where = location ? `${location.file}:${location.line}:${location.column + 1}: ` : '';
    console.log(`${where}${severity}: ${text}`);
  };
  const reporter = (index) => ({
    name: 'watch-reporter',
    setup(build) {
      build.onStart(() => {
        if (building++ === 0) console.log('[watch] build started');
      });
      build.onEnd((result) => {
        latest[index] = result;
        if (--building > 0) return;
        for (const r of latest) for (const e of r.errors) report('error', e);
        for (const r of latest) for (const w of r.warnings) report('warning', w);
        const errors = latest.reduce((n, r) => n + r.errors.length, 0);
        console.log(`[watch] build finished, ${errors} ${errors === 1 ? 'error' : 'errors'}`);
      });
    },
  });
  const contexts = await Promise.all(
    builds.map((options, i) => esbuild.context({ ...options, plugins: [reporter(i)] })),
  );
  await Promise.all(contexts.map((ctx) => ctx.watch()));
}
