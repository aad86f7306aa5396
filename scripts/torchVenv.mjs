// Makes .venv-torch/, a Python virtual environment with CPU torch and onnx (torch.onnx.export needs it) for
// the tests of Python models, when it is missing or cannot import them; prints its interpreter's path on stdout (progress goes to stderr).
//   node scripts/torchVenv.mjs        exit 0 with the path, 1 when torch could not be installed
// The base interpreter is $CNN_LENS_BASE_PYTHON, else python3 (python on Windows). Where the local package
// mirrors /opt/pypi and /opt/pypi-more exist (this project's offline machines), pip installs from them
// alone first; otherwise, or when they lack something, pip runs as configured (pip.conf, PIP_INDEX_URL …).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const venv = path.join(root, '.venv-torch');
const windows = process.platform === 'win32';
const python = path.join(venv, windows ? 'Scripts/python.exe' : 'bin/python');
const log = (m) => process.stderr.write(`[torch venv] ${m}\n`);

/** Runs a command with its output on stderr; returns whether it succeeded. */
function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) log(`${cmd}: ${r.error.message}`);
  return r.status === 0;
}

const hasTorch = () =>
  existsSync(python) && spawnSync(python, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;

if (!hasTorch()) {
  const started = Date.now();
  const base = process.env.CNN_LENS_BASE_PYTHON ?? (windows ? 'python' : 'python3');
  if (!existsSync(python) && !run(base, ['-m', 'venv', venv])) process.exit(1);
  const pip = [python, '-m', 'pip', 'install', '--quiet', 'torch', 'onnx'];
  log(`installing torch and onnx into ${path.relative(root, venv)}/ (about 1 GB, minutes)`);
  // Local package mirrors first where the machine has them: offline, pip would otherwise retry the
  // unreachable default index for every package (~150 s here, against ~30 s from the mirrors alone).
  const mirrors = ['/opt/pypi/simple', '/opt/pypi-more/simple'];
  let ok = false;
  if (mirrors.every((m) => existsSync(m))) {
    const local = ['--index-url', `file://${mirrors[0]}`, '--extra-index-url', `file://${mirrors[1]}`];
    ok = run(pip[0], [...pip.slice(1), ...local]);
    if (!ok) log('the local mirrors could not provide them; trying the configured index');
  }
  if (!ok) ok = run(pip[0], pip.slice(1));
  if (!ok || !hasTorch()) {
    log('torch and onnx could not be installed');
    process.exit(1);
  }
  log(`torch and onnx installed in ${Math.round((Date.now() - started) / 1000)} s`);
}
process.stdout.write(python + '\n');
