// The Python the tests of Python models run: .venv-torch/ (made once by scripts/torchVenv.mjs, which installs
// CPU torch and onnx), or $CNN_LENS_TEST_PYTHON. Where torch cannot be installed the tests skip, saying why;
// under CI that is an error instead, so that they never skip unseen.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from './paths';

/** The interpreter with torch, or why there is none. */
export function torchPython(): { python: string; skip: false } | { python: ''; skip: string } {
  const chosen = process.env['CNN_LENS_TEST_PYTHON'];
  if (chosen) return { python: chosen, skip: false };
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'torchVenv.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const python = r.stdout?.trim();
  if (r.status === 0 && python) return { python, skip: false };
  const why = 'torch could not be installed into .venv-torch/ (see the [torch venv] lines above)';
  if (process.env['CI']) throw new Error(why);
  return { python: '', skip: why };
}
