// The commands of Python models, registered the way src/host/commands.ts registers the others.
import * as vscode from 'vscode';
import { showError } from '../log';
import type { PythonModels } from './pythonModels';

type Handler = (models: PythonModels, ...args: unknown[]) => Promise<void> | void;

const COMMANDS: Record<string, Handler> = {
  // Explorer and editor menus pass the file; the CodeLens passes the file and the class.
  'cnnLens.openPythonModel': (models, uri, cls) =>
    models.open(uri instanceof vscode.Uri ? uri : undefined, typeof cls === 'string' ? cls : undefined),
  'cnnLens.analysePythonModel': (models, uri, cls) => {
    if (uri instanceof vscode.Uri && typeof cls === 'string') models.analyseNow(uri, cls);
  },
};

/** Registers the Python model commands; a handler's error is shown once, with the log one click away. */
export function registerPythonCommands(models: PythonModels): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await handler(models, ...args);
      } catch (err) {
        await showError(vscode.l10n.t('CNN Lens: {0}', (err as Error).message));
      }
    }),
  );
}
