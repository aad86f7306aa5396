// Starts and stops code-server for the end-to-end tests, each run in a fresh directory under e2e/.run/:
// user data, extensions (the repo itself, symlinked) and a workspace copied from the test fixtures, which
// `npm run demo` (scripts/demo.mjs) opens too.
// Imported by the in-host runner; run as a script it is Playwright's webServer:
//   node e2e/codeServer.mjs --run-dir e2e/.run/ui --port 18080
// and stops on SIGTERM/SIGINT.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const e2eDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.dirname(e2eDir);
export const extensionId = 'cnn-lens.cnn-lens';
// The extension under test; overridable to try the harness on a stand-in extension.
export const extensionPath = path.resolve(process.env.E2E_EXTENSION_PATH || repoRoot);
const codeServerBin = path.join(e2eDir, 'code-server/node_modules/.bin/code-server');

/** Files of the workspace opened in the workbench; `broken.png` has a PNG signature and then garbage. */
export const workspaceFiles = ['chelsea.png', 'coffee.png', 'orange.jpg', 'notes.txt', 'broken.png'];

/**
 * `photos/`: six distinct real photos, as `{ name in photos/: repo path }` (where each comes from: the READMEs
 * beside them). No name contains a top-level file's name, so Explorer lookups by name stay unambiguous.
 */
const photos = {
  'cat.png': 'test/fixtures/images/chelsea.png',
  'espresso.png': 'test/fixtures/images/coffee.png',
  'fruit.jpg': 'test/fixtures/images/orange.jpg',
  'camera.png': 'test/fixtures/photos/camera.png',
  'hopper.jpg': 'test/fixtures/photos/hopper.jpg',
  'rocket.jpg': 'test/fixtures/photos/rocket.jpg',
};

/** How many times `repeat-set/` holds each photo: 120 images, a run long enough to cancel part-way. */
const repeatCopies = 20;

const photosReadme = `Six distinct photographs, each licensed for reuse (CC0 or public domain, one BSD-3-Clause):
where each comes from is in the CNN Lens repository, test/fixtures/images/README.md (cat.png,
espresso.png, fruit.jpg) and test/fixtures/photos/README.md (camera.png, hopper.jpg, rocket.jpg).
damaged.png is not a photo: a PNG signature followed by garbage, to show how a failure is reported.
This file is not an image either: folder runs leave it out.
`;

const repeatSetReadme = `The six photos of ../photos, ${repeatCopies} copies of each (cat-01.png … rocket-${repeatCopies}.jpg):
a folder run long enough to watch its throughput, or to cancel part-way. The answers repeat by design.
`;

// A valid PNG signature and the start of an IHDR chunk, then garbage: decoders see a PNG and then fail.
const brokenPng = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from([0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00]),
  Buffer.from('this is not image data'),
]);

// Everything that would otherwise prompt, phone home or open an extra view on a fresh profile.
const userSettings = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  // The workspace lives inside this git checkout; without these git offers to open the parent repo.
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
};

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Synchronous `freePort()`, for config files that cannot await. */
export function freePortSync() {
  const script = `import(${JSON.stringify(import.meta.url)}).then(m => m.freePort()).then(p => process.stdout.write(String(p)))`;
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

/** The extension's `<publisher>.<name>-<version>` folder name, as the extensions dir expects it. */
function extensionFolderName() {
  const pkg = JSON.parse(fs.readFileSync(path.join(extensionPath, 'package.json'), 'utf8'));
  return `${pkg.publisher}.${pkg.name}-${pkg.version}`;
}

/**
 * Wipes and lays out `runDir`: `ud/` (user data with settings), `exts/` (the repo symlinked in when
 * `installExtension`), `xdg*` (so code-server leaves ~/.config alone) and `workspace/`.
 * Returns the absolute paths.
 */
export function prepareRun(runDir, { installExtension }) {
  const dir = path.resolve(runDir);
  fs.rmSync(dir, { recursive: true, force: true });
  const dirs = {
    root: dir,
    userData: path.join(dir, 'ud'),
    extensions: path.join(dir, 'exts'),
    xdgConfig: path.join(dir, 'xdg'),
    xdgData: path.join(dir, 'xdg-data'),
    workspace: path.join(dir, 'workspace'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });

  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(dirs.userData, 'User/settings.json'),
    JSON.stringify(userSettings, null, 2) + '\n',
  );
  if (installExtension)
    fs.symlinkSync(extensionPath, path.join(dirs.extensions, extensionFolderName()), 'dir');

  for (const image of ['chelsea.png', 'coffee.png', 'orange.jpg']) {
    fs.copyFileSync(path.join(repoRoot, 'test/fixtures/images', image), path.join(dirs.workspace, image));
  }
  fs.writeFileSync(path.join(dirs.workspace, 'notes.txt'), 'Not an image: no classify entry here.\n');
  fs.writeFileSync(path.join(dirs.workspace, 'broken.png'), brokenPng);

  const photosDir = path.join(dirs.workspace, 'photos');
  const repeatDir = path.join(dirs.workspace, 'repeat-set');
  fs.mkdirSync(photosDir);
  fs.mkdirSync(repeatDir);
  for (const [name, from] of Object.entries(photos)) {
    fs.copyFileSync(path.join(repoRoot, from), path.join(photosDir, name));
    const { name: stem, ext } = path.parse(name);
    for (let i = 1; i <= repeatCopies; i++) {
      const copy = `${stem}-${String(i).padStart(2, '0')}${ext}`;
      fs.copyFileSync(path.join(repoRoot, from), path.join(repeatDir, copy));
    }
  }
  fs.writeFileSync(path.join(photosDir, 'damaged.png'), brokenPng);
  fs.writeFileSync(path.join(photosDir, 'readme.txt'), photosReadme);
  fs.writeFileSync(path.join(repeatDir, 'readme.txt'), repeatSetReadme);
  return dirs;
}

async function waitHealthy(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs} ms`);
}

/**
 * Starts code-server on 127.0.0.1:`port` over the directories from `prepareRun`, in its own process group.
 * `env` is added to its environment, which the extension host inherits. Resolves once /healthz answers,
 * with `{ url, stop() }`; `stop` ends the whole group.
 */
export async function startCodeServer({ dirs, port, env = {}, logFile }) {
  const args = [
    '--config',
    '/dev/null',
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--user-data-dir',
    dirs.userData,
    '--extensions-dir',
    dirs.extensions,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
  ];
  const out = logFile ? fs.openSync(logFile, 'a') : 'inherit';
  const child = spawn(codeServerBin, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      // No gallery: code-server would otherwise query open-vsx.org, which is unreachable here.
      EXTENSIONS_GALLERY: '{}',
      XDG_CONFIG_HOME: dirs.xdgConfig,
      XDG_DATA_HOME: dirs.xdgData,
      ...env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        resolve();
      }
    });
  try {
    await waitHealthy(url, child, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

async function main() {
  const { values } = parseArgs({
    options: { 'run-dir': { type: 'string' }, port: { type: 'string' }, 'no-extension': { type: 'boolean' } },
  });
  if (!values['run-dir'] || !values.port) throw new Error('usage: codeServer.mjs --run-dir DIR --port N');
  const dirs = prepareRun(values['run-dir'], { installExtension: !values['no-extension'] });
  const server = await startCodeServer({
    dirs,
    port: Number(values.port),
    logFile: path.join(dirs.root, 'code-server.log'),
  });
  process.stdout.write(`code-server ready at ${server.url} (workspace ${dirs.workspace})\n`);
  const shutdown = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
