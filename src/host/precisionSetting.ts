// The cnnLens.precision setting as the panel changes it, and the offer to make a missing int8 model.
import * as vscode from 'vscode';
import { log } from './log';

/** Sets cnnLens.precision where it is set (the workspace's value wins over the user's). */
export async function setPrecision(precision: 'fp32' | 'int8'): Promise<void> {
  const config = vscode.workspace.getConfiguration('cnnLens');
  const inspected = config.inspect('precision');
  const target =
    inspected?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : inspected?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await config.update('precision', precision, target);
}

/** Says that a model has no int8 file (`message`, localized already), offering to make one. */
export async function offerQuantize(message: string): Promise<void> {
  const quantize = vscode.l10n.t('Quantize with Images from a Folder…');
  const fp32 = vscode.l10n.t('Use fp32');
  const showLog = vscode.l10n.t('Show Log');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('CNN Lens: {0}.', message),
    quantize,
    fp32,
    showLog,
  );
  if (choice === quantize) await vscode.commands.executeCommand('cnnLens.quantizeFolder');
  else if (choice === fp32) await setPrecision('fp32');
  else if (choice === showLog) log.show(true);
}
