// Activation wiring only: nothing heavy (no onnxruntime, no sharp, no model) loads here.
import * as vscode from 'vscode';
import { registerCommands } from './host/commands';
import { readSettings, type Settings } from './host/config';
import { Lens } from './host/lens';
import { registerPythonCommands } from './host/python/commands';
import { PythonModels } from './host/python/pythonModels';

/** What activate() returns: a small surface for the in-host tests. */
export interface LensApi {
  readSettings(): Settings;
  inferenceStarted(): boolean;
  /** How many inference workers the panel's client has started (a restart starts another on next use). */
  workersStarted(): number;
  /** Settles when the last settings change has been applied (the worker restarted or kept). */
  settingsApplied(): Promise<void>;
  /** Settles once no analysis of a Python model waits or runs. */
  pythonIdle(): Promise<void>;
}

/** Creates the Lens context object and registers the commands. */
export function activate(context: vscode.ExtensionContext): LensApi {
  const lens = new Lens(context);
  // A Python model's table goes to the panel as its layer table; the panel's model (classify) stays.
  const python = new PythonModels(context.extensionPath, (view, reveal) => {
    lens.panel.setArchitecture(view);
    if (reveal) lens.panel.showArchitecture();
  });
  // The line under the cursor in a Python model's file marks the rows it built in the panel's table.
  const cursor = vscode.window.onDidChangeTextEditorSelection((e) => {
    const names = python.rowsAt(e.textEditor.document.uri.fsPath, e.selections[0]!.active.line + 1);
    if (names) lens.panel.highlightRows(names);
  });
  context.subscriptions.push(
    lens,
    python,
    cursor,
    ...registerCommands(lens),
    ...registerPythonCommands(python),
  );
  return {
    readSettings,
    inferenceStarted: () => lens.inferenceStarted,
    workersStarted: () => lens.workersStarted,
    settingsApplied: () => lens.settled(),
    pythonIdle: () => python.idle(),
  };
}

export function deactivate(): void {}
