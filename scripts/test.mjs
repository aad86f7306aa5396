// `npm test`: typecheck, lint, build (bundles + model when stale), unit tests, end-to-end tests.
// Ends with one summary line counting every suite: "N passed, N failed".
// `--unit` skips the end-to-end tests (the same as `npm run test:unit` plus the checks).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { readdirSync } from 'node:fs';

const unitOnly = process.argv.includes('--unit');
const started = Date.now();
let passed = 0;
let failed = 0;

/** Runs a command with inherited output; returns its exit status. */
function sh(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

/** A check that is not a test runner counts as one test. */
function step(name, cmd, args) {
  console.log(`\n== ${name}`);
  const ok = sh(cmd, args) === 0;
  if (ok) passed++;
  else failed++;
  console.log(`== ${name}: ${ok ? 'ok' : 'FAILED'}`);
  return ok;
}

step('typecheck', 'npx', ['--no-install', 'tsc', '-p', 'tsconfig.json', '--noEmit']);
step('typecheck webview', 'npx', ['--no-install', 'tsc', '-p', 'webview/tsconfig.json', '--noEmit']);
step('lint', 'npx', ['--no-install', 'eslint', '.']);
step('format', 'npx', ['--no-install', 'prettier', '--check', '.']);
const built = step('build', 'npm', ['run', '-s', 'build']);

if (built) {
  // Chromium and the e2e packages first: the unit tests that load the panel's bundle in a browser use them.
  if (!unitOnly) sh('bash', ['e2e/setup.sh']);
  // CPU torch in .venv-torch/ for the tests of Python models (minutes the first time, then a no-op). Where it
  // cannot be installed those tests skip and say why; under CI that is a failure.
  if (process.env.CI) step('torch venv', 'node', ['scripts/torchVenv.mjs']);
  else sh('node', ['scripts/torchVenv.mjs']);
  console.log('\n== unit tests');
  mkdirSync('test-results', { recursive: true });
  const tap = 'test-results/unit.tap';
  rmSync(tap, { force: true });
  const files = readdirSync('test/unit')
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/unit/${f}`);
  sh('node', [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ]);
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const count = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const unitPassed = count('pass');
  const unitFailed = count('fail') + count('cancelled') + (text ? 0 : 1);
  console.log(`== unit tests: ${unitPassed} passed, ${unitFailed} failed`);
  passed += unitPassed;
  failed += unitFailed;

  if (!unitOnly) {
    console.log('\n== end-to-end tests');
    const summary = 'test-results/e2e-summary.json';
    rmSync(summary, { force: true });
    sh('bash', ['e2e/run.sh']);
    if (existsSync(summary)) {
      const s = JSON.parse(readFileSync(summary, 'utf8'));
      passed += s.passed;
      failed += s.failed;
    } else {
      console.log('== end-to-end tests did not run (see above)');
      failed++;
    }
    // What users install: this platform's VSIX, installed into code-server, classifying from its own copy.
    if (process.platform === 'linux' && process.arch === 'x64') {
      if (
        step('package the linux-x64 VSIX', 'npm', ['run', '-s', 'package', '--', '--target', 'linux-x64'])
      ) {
        step('install the VSIX into code-server and classify', 'node', ['e2e/vsixCheck.mjs']);
      }
    }
  }
}

console.log(`\ntests took ${Math.round((Date.now() - started) / 1000)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
