// The command table: every command CNN Lens contributes, registered in one loop.
import * as vscode from 'vscode';
import type { Lens } from './lens';
import { log, showError } from './log';
import {
  resolveFolderTargets,
  resolveImageTargets,
  resolveModelTarget,
  resolveModelTargets,
  resolveQuantizeFolder,
} from './targets';

type Handler = (lens: Lens, ...args: unknown[]) => Promise<void> | void;

const COMMANDS: Record<string, Handler> = {
  'cnnLens.classify': async (lens, uri, uris) => {
    const targets = await resolveImageTargets(uri, uris);
    if (targets) await lens.classify(targets);
  },
  'cnnLens.classifyFolder': async (lens, uri, uris) => {
    const targets = await resolveFolderTargets(uri, uris);
    if (targets) await lens.classify(targets);
  },
  'cnnLens.openArchitecture': (lens) => lens.panel.showArchitecture(),
  'cnnLens.openModel': async (lens, uri) => {
    const file = await resolveModelTarget(uri, () => lens.listModels());
    if (file !== undefined && (await lens.openModel(file))) lens.panel.showArchitecture();
  },
  'cnnLens.compareArchitectures': async (lens, uri, uris) => {
    const files = await resolveModelTargets(uri, uris, () => lens.listModels(), lens.modelInUse);
    if (files) await lens.compareArchitectures(files);
  },
  'cnnLens.profile': (lens) => lens.profile(),
  'cnnLens.quantizeFolder': async (lens, uri) => {
    const target = await resolveQuantizeFolder(uri);
    if (target) await lens.quantizeFolder(target.folder, target.images);
  },
  'cnnLens.showRuntimeInfo': async (lens) => {
    const text = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('CNN Lens: loading the model…'),
      },
      () => lens.runtimeInfo(),
    );
    log.info(`runtime info:\n${text}`);
    log.show(true);
  },
  'cnnLens.showLog': () => log.show(),
};

/** Registers every command; a handler's error is shown to the user once, with the log one click away. */
export function registerCommands(lens: Lens): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await handler(lens, ...args);
      } catch (err) {
        await showError(vscode.l10n.t('CNN Lens: {0}', (err as Error).message));
      }
    }),
  );
}
