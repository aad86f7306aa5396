// Activation wiring only: nothing heavy (no onnxruntime, no sharp, no model) loads here.
import type * as vscode from 'vscode';
import { registerCommands } from './host/commands';
import { readSettings, type Settings } from './host/config';
import { Lens } from './host/lens';

/** What activate() returns: a small surface for the in-host tests. */
export interface LensApi {
  readSettings(): Settings;
  inferenceStarted(): boolean;
  /** How many inference workers the panel's client has started (a restart starts another on next use). */
  workersStarted(): number;
  /** Settles when the last settings change has been applied (the worker restarted or kept). */
  settingsApplied(): Promise<void>;
}

/** Creates the Lens context object and registers the commands. */
export function activate(context: vscode.ExtensionContext): LensApi {
  const lens = new Lens(context);
  context.subscriptions.push(lens, ...registerCommands(lens));
  return {
    readSettings,
    inferenceStarted: () => lens.inferenceStarted,
    workersStarted: () => lens.workersStarted,
    settingsApplied: () => lens.settled(),
  };
}

export function deactivate(): void {}
