// Which Python runs the user's model: the interpreter selected in the Python extension (ms-python.python,
// through its public environments API), else cnnLens.pythonPath, else python3 (python on Windows).
import * as vscode from 'vscode';
import { defaultPython } from '../../python/interpreter';
import { readSettings } from '../config';
import { log } from '../log';

/** The part of ms-python.python's exported API used here (its `environments` API, 2023 and later). */
interface PythonExtensionApi {
  ready?: Promise<void>;
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
    resolveEnvironment(
      env: { id: string; path: string } | string,
    ): Promise<{ executable: { uri: vscode.Uri | undefined } } | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
}

const PYTHON_EXTENSION = 'ms-python.python';

/** The Python extension's API, activating it if needed; undefined when it is not installed or fails. */
async function pythonExtension(): Promise<PythonExtensionApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION);
  if (!extension) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    await api?.ready;
    return api;
  } catch (err) {
    log.warn(`the Python extension's API is unavailable: ${(err as Error).message}`);
    return undefined;
  }
}

/** The interpreter for a file, and where the choice came from (for the log and messages). */
export async function pythonFor(
  resource: vscode.Uri,
): Promise<{ python: string; from: 'python extension' | 'cnnLens.pythonPath' | 'default' }> {
  const environments = (await pythonExtension())?.environments;
  if (environments) {
    try {
      const env = await environments.resolveEnvironment(environments.getActiveEnvironmentPath(resource));
      const executable = env?.executable.uri?.fsPath;
      if (executable) return { python: executable, from: 'python extension' };
    } catch (err) {
      log.warn(`the Python extension gave no interpreter for ${resource.fsPath}: ${(err as Error).message}`);
    }
  }
  const configured = readSettings().pythonPath;
  if (configured) return { python: configured, from: 'cnnLens.pythonPath' };
  return { python: defaultPython(), from: 'default' };
}

/** Fires when the Python extension's selected interpreter changes (nothing when it is not installed). */
export function onPythonChanged(listener: () => void): vscode.Disposable {
  const disposables: vscode.Disposable[] = [];
  let disposed = false;
  void pythonExtension().then((api) => {
    const event = api?.environments?.onDidChangeActiveEnvironmentPath;
    if (event && !disposed) disposables.push(event(() => listener()));
  });
  return new vscode.Disposable(() => {
    disposed = true;
    disposables.forEach((d) => d.dispose());
  });
}
