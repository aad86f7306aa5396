// Installs a packaged VSIX into code-server the way a user would, then checks that the installed copy
// classifies: `code-server --install-extension` into a fresh extensions dir outside this checkout (so
// nothing can resolve from the repo's node_modules), a look at the installed layout, and the installed
// CLI on chelsea.png. Needs `npm run package` (or `npm run package -- --target linux-x64`) and
// `bash e2e/setup.sh` first.
//   node e2e/vsixCheck.mjs [--vsix FILE] [--workbench] [--keep]
// --vsix defaults to build/cnn-lens-<this platform>-<version>.vsix; --keep leaves the temp dir.
// --workbench also runs e2e/ui/classify.spec.ts in the workbench against the installed copy, through the
// UI suite's harness and its run dir e2e/.run/ui (so not while another e2e run is going).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { e2eDir, extensionId, repoRoot } from './codeServer.mjs';

const codeServerBin = path.join(e2eDir, 'code-server/node_modules/.bin/code-server');
const chelsea = path.join(repoRoot, 'test/fixtures/images/chelsea.png');
const platform = `${process.platform}-${process.arch}`;
// onnxruntime-node's bin/napi-v6/<platform>/<arch> folder; sharp's @img packages end in `platform`.
const ortFolder = `${process.platform}/${process.arch}`;

let failures = 0;
/** Prints one check's outcome and counts failures; returns `ok`. */
function check(name, ok, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
  if (!ok) failures++;
  return ok;
}

/** Files under `dir`, relative, with '/' separators. */
function walk(dir, rel = '') {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const p = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? walk(dir, p) : [p];
  });
}

/** Problems with the installed files: other platforms' binaries, source maps, packages beyond the runtime ones. */
function layoutProblems(extDir) {
  const problems = [];
  const files = walk(extDir);
  for (const f of files) {
    if (f.endsWith('.map')) problems.push(`source map ${f}`);
    const ort = /^node_modules\/onnxruntime-node\/bin\/napi-v6\/([^/]+\/[^/]+)\//.exec(f);
    if (ort && ort[1] !== ortFolder) problems.push(`other platform's onnxruntime binary ${f}`);
    const img = /^node_modules\/@img\/sharp-(?:libvips-)?([^/]+)\//.exec(f);
    if (img && img[1] !== platform) problems.push(`other platform's sharp package ${f}`);
  }
  const packages = fs.readdirSync(path.join(extDir, 'node_modules')).filter((n) => !n.startsWith('.'));
  const expected = ['@img', 'onnxruntime-common', 'onnxruntime-node', 'semver', 'sharp'];
  if (packages.join() !== expected.join()) problems.push(`node_modules holds ${packages.join(', ')}`);
  return problems;
}

function main() {
  const { values } = parseArgs({
    options: { vsix: { type: 'string' }, workbench: { type: 'boolean' }, keep: { type: 'boolean' } },
  });
  const { name, version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const vsix = path.resolve(values.vsix ?? path.join(repoRoot, `build/${name}-${platform}-${version}.vsix`));
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} is missing: run \`npm run package\` first`);
  if (!fs.existsSync(codeServerBin)) throw new Error('code-server is not installed: run `bash e2e/setup.sh`');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-vsix-'));
  const exts = path.join(tmp, 'exts');
  console.log(`installing ${path.relative(repoRoot, vsix)} into ${exts}`);
  const install = spawnSync(
    codeServerBin,
    ['--user-data-dir', path.join(tmp, 'ud'), '--extensions-dir', exts, '--install-extension', vsix],
    {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        EXTENSIONS_GALLERY: '{}',
        XDG_CONFIG_HOME: path.join(tmp, 'xdg'),
        XDG_DATA_HOME: path.join(tmp, 'xdg-data'),
      },
    },
  );
  const installOut = `${install.stdout}${install.stderr}`;
  if (
    !check(
      'code-server --install-extension',
      install.status === 0 && /successfully installed/.test(installOut),
      install.status === 0 ? '' : installOut.trim(),
    )
  )
    return tmp;

  const registry = JSON.parse(fs.readFileSync(path.join(exts, 'extensions.json'), 'utf8'));
  const entry = registry.find((e) => e.identifier.id === extensionId);
  if (!check(`extensions.json lists ${extensionId}@${version}`, entry?.version === version)) return tmp;
  const extDir = entry.location.fsPath ?? entry.location.path;
  console.log(`installed at ${extDir}`);

  const problems = layoutProblems(extDir);
  check(
    `layout holds only ${platform} binaries and the runtime packages`,
    problems.length === 0,
    problems.join('; '),
  );

  const dist = path.join(extDir, 'dist');
  for (const pkg of ['onnxruntime-node', 'sharp']) {
    const resolved = resolveFrom(dist, pkg);
    check(`${pkg} resolves inside the installed extension`, resolved.startsWith(extDir + path.sep), resolved);
  }

  const t0 = Date.now();
  const cli = spawnSync(process.execPath, [path.join(dist, 'cli.js'), 'classify', '--json', chelsea], {
    cwd: tmp,
    encoding: 'utf8',
    timeout: 120_000,
  });
  let top;
  try {
    top = JSON.parse(cli.stdout)[0].top[0];
  } catch {
    top = undefined;
  }
  check(
    'installed CLI classifies chelsea.png as Egyptian cat',
    cli.status === 0 && top?.label === 'Egyptian cat' && top.probability > 0.5,
    top
      ? `${top.label} ${(top.probability * 100).toFixed(1)}% in ${Date.now() - t0} ms`
      : `${cli.stdout}${cli.stderr}`,
  );

  if (values.workbench) {
    // The harness symlinks E2E_EXTENSION_PATH into its own extensions dir; the spec is unchanged.
    const pw = spawnSync(
      path.join(e2eDir, 'node_modules/.bin/playwright'),
      ['test', '-c', path.join(e2eDir, 'playwright.config.mjs'), path.join(e2eDir, 'ui/classify.spec.ts')],
      { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, E2E_EXTENSION_PATH: extDir } },
    );
    check('workbench: e2e/ui/classify.spec.ts against the installed copy', pw.status === 0);
  }
  if (failures || values.keep) return tmp;
  fs.rmSync(tmp, { recursive: true, force: true });
  return undefined;
}

/** `require.resolve(pkg)` from `dir`, in a separate Node so that this script's own lookup plays no part. */
function resolveFrom(dir, pkg) {
  const r = spawnSync(process.execPath, ['-p', `require.resolve(${JSON.stringify(pkg)})`], {
    cwd: dir,
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : `not found: ${r.stderr.trim().split('\n')[0]}`;
}

try {
  const left = main();
  if (left) console.log(`left ${left} for a look`);
  console.log(failures ? `vsix check: ${failures} failed` : 'vsix check: all passed');
  process.exit(failures ? 1 : 0);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
}
