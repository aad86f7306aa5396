// Starts and stops code-server for the end-to-end tests, each run in a fresh directory under e2e/.run/:
// user data, extensions (the repo itself, symlinked) and a workspace copied from the test fixtures.
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
const fixtureImages = path.join(repoRoot, 'test/fixtures/images');

/** Files of the workspace opened in the workbench; `broken.png` has a PNG signature and then garbage. */
export const workspaceFiles = ['chelsea.png', 'coffee.png', 'orange.jpg', 'notes.txt', 'broken.png'];

/**
 * Subfolders for "Classify Images in Folder", as `{ folder: { copy name: fixture } }`. No name contains a
 * top-level file's name, so Explorer lookups by name stay unambiguous. `photos/` is a small mixed run
 * with one corrupt file and one text file; `burst/` is big enough to cancel part-way through.
 */
export const workspaceFolders = {
  photos: {
    ...numbered('cat', 'png', 4, 'chelsea.png'),
    ...numbered('espresso', 'png', 4, 'coffee.png'),
    ...numbered('fruit', 'jpg', 3, 'orange.jpg'),
    'damaged.png': 'broken.png',
    'readme.txt': 'notes.txt',
  },
  burst: numbered('shot', 'jpg', 120, 'orange.jpg'),
};

/** `{ "<stem>-01.<ext>": fixture, … }`, `count` entries. */
function numbered(stem, ext, count, fixture) {
  const width = Math.max(2, String(count).length);
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [
      `${stem}-${String(i + 1).padStart(width, '0')}.${ext}`,
      fixture,
    ]),
  );
}

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
    fs.copyFileSync(path.join(fixtureImages, image), path.join(dirs.workspace, image));
  }
  fs.writeFileSync(path.join(dirs.workspace, 'notes.txt'), 'Not an image: no classify entry here.\n');
  // A valid PNG signature and the start of an IHDR chunk, then garbage: decoders see a PNG and then fail.
  const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const truncatedIhdr = Buffer.from([0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00]);
  fs.writeFileSync(
    path.join(dirs.workspace, 'broken.png'),
    Buffer.concat([pngSignature, truncatedIhdr, Buffer.from('this is not image data')]),
  );
  // Copies of the top-level files, which are complete by now.
  for (const [folder, files] of Object.entries(workspaceFolders)) {
    fs.mkdirSync(path.join(dirs.workspace, folder));
    for (const [name, from] of Object.entries(files)) {
      fs.copyFileSync(path.join(dirs.workspace, from), path.join(dirs.workspace, folder, name));
    }
  }
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
