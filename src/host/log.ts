// The single log channel, and the way errors reach the user: a short message plus "Show Log".
import * as vscode from 'vscode';

/** The "CNN Lens" output channel. */
export const log = vscode.window.createOutputChannel('CNN Lens', { log: true });

/** Shows an error with a "Show Log" action and writes it to the log. */
export async function showError(message: string): Promise<void> {
  log.error(message);
  const showLog = vscode.l10n.t('Show Log');
  const choice = await vscode.window.showErrorMessage(message, showLog);
  if (choice === showLog) log.show(true);
}
