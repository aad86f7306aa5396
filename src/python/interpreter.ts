// Which Python runs the helper, and where the helper is, for callers without an editor setting (the CLI,
// the tests); the extension puts the Python extension's interpreter and cnnLens.pythonPath before these.
import * as path from 'node:path';

/** The interpreter when none is chosen: $CNN_LENS_PYTHON, else python3 (python on Windows). */
export function defaultPython(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  return env['CNN_LENS_PYTHON'] || (platform === 'win32' ? 'python' : 'python3');
}

/** The helper script in the extension's (or the repository's) python/ folder. */
export function helperScript(extensionRoot: string): string {
  return path.join(extensionRoot, 'python', 'cnn_lens_torch.py');
}
