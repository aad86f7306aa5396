// Packages one VSIX per platform with `vsce package --target`, each holding only that platform's native
// binaries. `npm run package` first builds minified bundles without source maps into build/dist/ (dist/
// keeps the development build) and the model, then runs
//   node scripts/package.mjs [--target linux-x64,win32-x64,...] [--keep-stage]
// For each target it stages build/stage-<target>/ (package.json, package.nls.json, l10n/, dist/*.js, media,
// the model, the Python helper, README, LICENSE, CHANGELOG and a node_modules with just the runtime
// packages), packages it into build/cnn-lens-<target>-<version>.vsix and checks the archive's file list.
// The staged package.json has no scripts, so vsce runs no `vscode:prepublish` there: the bundles are built
// already.
// Another platform's sharp binaries (@img/sharp-<target>) come from the npm registry once, at the version
// and integrity package-lock.json records, and stay in build/npm/; after that packaging is offline.
// Nothing runs an install script.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const buildDir = path.join(root, 'build');
const bundleDir = path.join(buildDir, 'dist');
const npmCacheDir = path.join(buildDir, 'npm');
const vsceBin = path.join(root, 'node_modules/@vscode/vsce/vsce');

/** VS Code target → Node's platform and arch (onnxruntime-node 1.30 has no darwin-x64 binary). */
const targets = {
  'linux-x64': { os: 'linux', cpu: 'x64' },
  'linux-arm64': { os: 'linux', cpu: 'arm64' },
  'win32-x64': { os: 'win32', cpu: 'x64' },
  'win32-arm64': { os: 'win32', cpu: 'arm64' },
  'darwin-arm64': { os: 'darwin', cpu: 'arm64' },
};

// The packages scripts/build.mjs leaves external; everything else is inside the bundles.
const runtimeRoots = ['onnxruntime-node', 'sharp'];
// Dependencies that only a package's install script uses; the install scripts never run.
const installOnlyDeps = { 'onnxruntime-node': ['adm-zip', 'global-agent'] };
// Top-level folders of a package not needed at run time: TypeScript sources, install and build scripts,
// C++ sources (onnxruntime-node's bin/ is added back for the one target).
const dropDirs = {
  'onnxruntime-node': ['bin', 'lib', 'script'],
  'onnxruntime-common': ['lib'],
  sharp: ['install', 'src'],
};
const dropFile = (name) => /\.(map|d\.ts|d\.mts|d\.cts)$/.test(name);

/** The built-in model's files, as the VSIX holds them under `models/`. */
const modelFiles = [
  'models/resnet50.onnx',
  'models/resnet50.json',
  'models/resnet50.int8.onnx',
  'models/resnet50.int8.json',
  'models/labels.json',
  'models/README.md',
];

/** Files the VSIX must contain (paths inside `extension/`). */
const requiredFiles = [
  'package.json',
  'package.nls.json',
  'l10n/bundle.l10n.json',
  'readme.md',
  'changelog.md',
  'LICENSE.txt',
  'dist/extension.js',
  'dist/worker.js',
  'dist/cli.js',
  'dist/webview.js',
  'python/cnn_lens_torch.py',
  'media/panel.css',
  ...modelFiles,
  'node_modules/onnxruntime-node/dist/index.js',
  'node_modules/onnxruntime-common/package.json',
  'node_modules/sharp/lib/index.js',
];

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const mb = (bytes) => (bytes / 1e6).toFixed(1);

/** Hard-links `src` to `dest` (copies across file systems); the stage never writes through these. */
function placeFile(src, dest) {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  try {
    fs.linkSync(src, dest);
  } catch {
    fs.copyFileSync(src, dest);
  }
}

/** Places the files of directory `src` under `dest`, skipping what `skip(relativePath, dirent)` says. */
function placeTree(src, dest, skip = () => false, rel = '') {
  for (const entry of fs.readdirSync(path.join(src, rel), { withFileTypes: true })) {
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    if (skip(relPath, entry)) continue;
    if (entry.isDirectory()) placeTree(src, dest, skip, relPath);
    else if (entry.isFile()) placeFile(path.join(src, relPath), path.join(dest, relPath));
    else throw new Error(`${path.join(src, relPath)}: not a plain file or folder`);
  }
}

/** Writes a new file (never through a hard link to the original). */
function writeFresh(file, text) {
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, text);
}

/** Node's lookup of package `name` from a package folder: its node_modules, then each parent's. */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; dir.startsWith(root); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root) break;
  }
  throw new Error(`${name} (needed by ${path.relative(root, fromDir) || 'the extension'}) is not installed`);
}

/** The runtime packages' folders (transitively, without dev or optional dependencies), by their path in node_modules. */
function runtimeTree() {
  const found = new Map();
  const visit = (dir) => {
    const rel = path.relative(root, dir);
    if (found.has(rel)) return;
    found.set(rel, dir);
    const pkg = readJson(path.join(dir, 'package.json'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (installOnlyDeps[pkg.name]?.includes(dep)) continue;
      visit(resolvePackage(dep, dir));
    }
  };
  for (const name of runtimeRoots) visit(resolvePackage(name, root));
  return found;
}

/** The package folder of `name`@`version`: the installed one if it matches, else the registry tarball, verified. */
function platformPackage(name, lock) {
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry?.integrity) throw new Error(`${name} is not in package-lock.json`);
  const installed = path.join(root, 'node_modules', name);
  if (
    fs.existsSync(path.join(installed, 'package.json')) &&
    readJson(path.join(installed, 'package.json')).version === entry.version
  )
    return installed;

  const base = `${name.replace('@', '').replace('/', '-')}-${entry.version}`;
  const unpacked = path.join(npmCacheDir, base);
  const stamp = path.join(unpacked, '.integrity');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === entry.integrity) return unpacked;

  const tarball = path.join(npmCacheDir, `${base}.tgz`);
  fs.mkdirSync(npmCacheDir, { recursive: true });
  if (!fs.existsSync(tarball)) {
    console.log(`  fetching ${name}@${entry.version} (npm pack, once)`);
    const r = spawnSync(
      'npm',
      [
        'pack',
        `${name}@${entry.version}`,
        '--prefer-offline',
        '--loglevel=error',
        '--pack-destination',
        npmCacheDir,
      ],
      {
        cwd: npmCacheDir,
        encoding: 'utf8',
        shell: process.platform === 'win32',
      },
    );
    if (r.status !== 0 || !fs.existsSync(tarball))
      throw new Error(
        `npm pack ${name}@${entry.version} failed (the registry is needed once per platform package):\n${r.stderr}`,
      );
  }
  const [algorithm, expected] = entry.integrity.split('-');
  const actual = createHash(algorithm).update(fs.readFileSync(tarball)).digest('base64');
  if (actual !== expected) {
    fs.rmSync(tarball);
    throw new Error(`${tarball}: ${algorithm} does not match package-lock.json; removed it, run again`);
  }
  fs.rmSync(unpacked, { recursive: true, force: true });
  fs.mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
  fs.writeFileSync(stamp, entry.integrity);
  return unpacked;
}

/** Fails when a bundle requires a package that the VSIX would not ship, or is a development build. */
function checkBundles() {
  const names = fs.existsSync(bundleDir) ? fs.readdirSync(bundleDir) : [];
  const bundles = names.filter((f) => f.endsWith('.js'));
  for (const name of ['extension.js', 'worker.js', 'cli.js', 'webview.js']) {
    if (!bundles.includes(name)) throw new Error(`build/dist/${name} is missing: run \`npm run package\``);
  }
  for (const name of bundles) {
    const code = fs.readFileSync(path.join(bundleDir, name), 'utf8');
    if (code.includes('sourceMappingURL='))
      throw new Error(
        `build/dist/${name} is a development build: run \`npm run package\` (it builds with --production)`,
      );
    for (const [, spec] of code.matchAll(/require\("([^"]+)"\)/g)) {
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (spec.startsWith('node:') || builtinModules.includes(pkg) || pkg === 'vscode') continue;
      if (!runtimeRoots.includes(pkg))
        throw new Error(`build/dist/${name} requires '${spec}', which the VSIX does not ship`);
    }
  }
  return bundles;
}

/** Lays out build/stage-<target>/ and returns its path. */
function stage(target, { os, cpu }, bundles, lock) {
  const dir = path.join(buildDir, `stage-${target}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });

  const pkg = readJson(path.join(root, 'package.json'));
  delete pkg.scripts;
  delete pkg.devDependencies;
  pkg.dependencies = Object.fromEntries(runtimeRoots.map((name) => [name, pkg.dependencies[name]]));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');

  // package.nls.json holds package.json's English titles and descriptions (its %keys%); l10n/ the host's.
  const manifestFiles = ['package.nls.json', 'l10n/bundle.l10n.json'];
  // The Python helper that reads PyTorch models runs from the extension's python/ folder.
  const helper = 'python/cnn_lens_torch.py';
  for (const file of [...manifestFiles, 'README.md', 'LICENSE', 'CHANGELOG.md', ...modelFiles, helper]) {
    if (!fs.existsSync(path.join(root, file)))
      throw new Error(`${file} is missing (the model comes from \`npm run package\`)`);
    placeFile(path.join(root, file), path.join(dir, file));
  }
  for (const name of bundles) placeFile(path.join(bundleDir, name), path.join(dir, 'dist', name));
  placeTree(path.join(root, 'media'), path.join(dir, 'media'));

  for (const [rel, src] of runtimeTree()) {
    const name = readJson(path.join(src, 'package.json')).name;
    const drop = dropDirs[name] ?? [];
    placeTree(src, path.join(dir, rel), (p, entry) =>
      entry.isDirectory() ? p === 'node_modules' || drop.includes(p) : dropFile(entry.name),
    );
  }

  // onnxruntime-node: the one platform's binaries, and a manifest without its install-time dependencies
  // (vsce's `npm list` would report them missing).
  const ortBin = `bin/napi-v6/${os}/${cpu}`;
  const ortSrc = resolvePackage('onnxruntime-node', root);
  if (!fs.existsSync(path.join(ortSrc, ortBin)))
    throw new Error(`onnxruntime-node has no ${ortBin} for ${target}`);
  const ortDest = path.join(dir, 'node_modules/onnxruntime-node');
  placeTree(path.join(ortSrc, ortBin), path.join(ortDest, ortBin));
  const ortPkg = readJson(path.join(ortSrc, 'package.json'));
  for (const dep of installOnlyDeps['onnxruntime-node']) delete ortPkg.dependencies[dep];
  delete ortPkg.scripts;
  delete ortPkg.devDependencies;
  writeFresh(path.join(ortDest, 'package.json'), JSON.stringify(ortPkg, null, 2) + '\n');

  // sharp: @img/sharp-<os>-<cpu> and what it pulls in (the libvips package, except on Windows).
  const sharpPlatform = [`@img/sharp-${os}-${cpu}`];
  for (let i = 0; i < sharpPlatform.length; i++) {
    const src = platformPackage(sharpPlatform[i], lock);
    placeTree(src, path.join(dir, 'node_modules', sharpPlatform[i]), (p) => p === '.integrity');
    sharpPlatform.push(...Object.keys(readJson(path.join(src, 'package.json')).optionalDependencies ?? {}));
  }
  return dir;
}

/** Entry names of a zip archive, read from its central directory. */
function zipEntries(file) {
  const buf = fs.readFileSync(file);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${file}: not a zip archive`);
  const count = buf.readUInt16LE(eocd + 10);
  let offset = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${file}: bad central directory`);
    const nameLength = buf.readUInt16LE(offset + 28);
    const extraLength = buf.readUInt16LE(offset + 30);
    const commentLength = buf.readUInt16LE(offset + 32);
    names.push(buf.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

/** Problems with a VSIX's file list for `target`: missing files, source maps, other platforms' binaries. */
function checkListing(files, { os, cpu }) {
  const problems = [];
  const inside = new Set(
    files.filter((f) => f.startsWith('extension/')).map((f) => f.slice('extension/'.length)),
  );
  for (const f of requiredFiles) if (!inside.has(f)) problems.push(`missing ${f}`);
  for (const f of inside) {
    if (f.endsWith('.map')) problems.push(`source map ${f}`);
    const ort = /^node_modules\/onnxruntime-node\/bin\/napi-v6\/([^/]+)\/([^/]+)\//.exec(f);
    if (ort && (ort[1] !== os || ort[2] !== cpu)) problems.push(`other platform's onnxruntime binary ${f}`);
    const img = /^node_modules\/@img\/sharp-(?:libvips-)?([^/]+)\//.exec(f);
    if (img && img[1] !== `${os}-${cpu}`) problems.push(`other platform's sharp package ${f}`);
  }
  if (
    ![...inside].some((f) =>
      f.startsWith(`node_modules/onnxruntime-node/bin/napi-v6/${os}/${cpu}/onnxruntime_binding.node`),
    )
  )
    problems.push('no onnxruntime binding for the target');
  if (
    ![...inside].some((f) => f.startsWith(`node_modules/@img/sharp-${os}-${cpu}/lib/sharp-${os}-${cpu}.node`))
  )
    problems.push('no sharp binding for the target');
  return problems;
}

async function main() {
  const { values } = parseArgs({
    options: { target: { type: 'string' }, 'keep-stage': { type: 'boolean' } },
  });
  const wanted = values.target ? values.target.split(',') : Object.keys(targets);
  for (const t of wanted)
    if (!targets[t]) throw new Error(`unknown target ${t}; known: ${Object.keys(targets).join(', ')}`);

  const { name, version } = readJson(path.join(root, 'package.json'));
  const lock = readJson(path.join(root, 'package-lock.json'));
  const bundles = checkBundles();
  const results = [];
  let failed = 0;
  for (const target of wanted) {
    const t0 = Date.now();
    const vsix = path.join(buildDir, `${name}-${target}-${version}.vsix`);
    console.log(`== ${target}`);
    try {
      const dir = stage(target, targets[target], bundles, lock);
      fs.rmSync(vsix, { force: true });
      const args = [vsceBin, 'package', '--target', target, '--out', vsix, '--dependencies', '--no-yarn'];
      // No repository to link to: README links stay relative (they resolve inside the extension folder).
      args.push('--allow-missing-repository', '--no-rewrite-relative-links');
      const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`vsce package failed:\n${r.stdout}${r.stderr}`);
      const files = zipEntries(vsix);
      const problems = checkListing(files, targets[target]);
      if (problems.length) throw new Error(`${path.relative(root, vsix)}:\n  ${problems.join('\n  ')}`);
      if (!values['keep-stage']) fs.rmSync(dir, { recursive: true, force: true });
      const size = fs.statSync(vsix).size;
      results.push({
        target,
        vsix: path.relative(root, vsix),
        mb: mb(size),
        files: files.length,
        s: (Date.now() - t0) / 1000,
      });
      console.log(`  ${path.relative(root, vsix)}: ${mb(size)} MB, ${files.length} files, listing ok`);
    } catch (err) {
      failed++;
      console.error(`  ${target} FAILED: ${err instanceof Error ? err.message : err}`);
    }
  }
  if (results.length) console.table(results);
  if (failed) process.exit(1);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
