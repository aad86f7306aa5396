// Saves the panel's results where the user chooses.
import * as vscode from 'vscode';
import { resultsCsv, resultsJson } from './resultsFile';
import { showError } from '../log';
import type { ImageEntry } from '../../shared/protocol';

/** Asks for a file name and writes the results as CSV or JSON. */
export async function exportResults(format: 'csv' | 'json', entries: readonly ImageEntry[]): Promise<void> {
  if (entries.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('CNN Lens: there are no results to export yet.'));
    return;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await vscode.window.showSaveDialog({
    title: vscode.l10n.t('Export {0} results', entries.length),
    defaultUri: folder ? vscode.Uri.joinPath(folder, `cnn-lens-results.${format}`) : undefined,
    filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
  });
  if (!uri) return;
  try {
    const text = format === 'csv' ? resultsCsv(entries) : resultsJson(entries);
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
    void vscode.window.showInformationMessage(
      vscode.l10n.t(
        'CNN Lens: saved {0} results to {1}.',
        entries.length,
        vscode.workspace.asRelativePath(uri),
      ),
    );
  } catch (err) {
    void showError(vscode.l10n.t('CNN Lens: cannot save {0}: {1}', uri.fsPath, (err as Error).message));
  }
}
