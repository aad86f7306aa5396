// Saves the panel's results where the user chooses.
import * as vscode from 'vscode';
import { resultsCsv, resultsJson } from './resultsFile';
import { showError } from '../log';
import type { ImageEntry } from '../../shared/protocol';

/** Asks for a file name and writes the results as CSV or JSON. */
export async function exportResults(format: 'csv' | 'json', entries: readonly ImageEntry[]): Promise<void> {
  if (entries.length === 0) {
    void vscode.window.showInformationMessage('CNN Lens: there are no results to export yet.');
    return;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await vscode.window.showSaveDialog({
    title: `Export ${entries.length} results`,
    defaultUri: folder ? vscode.Uri.joinPath(folder, `cnn-lens-results.${format}`) : undefined,
    filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
  });
  if (!uri) return;
  try {
    const text = format === 'csv' ? resultsCsv(entries) : resultsJson(entries);
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
    void vscode.window.showInformationMessage(
      `CNN Lens: saved ${entries.length} results to ${vscode.workspace.asRelativePath(uri)}.`,
    );
  } catch (err) {
    void showError(`CNN Lens: cannot save ${uri.fsPath}: ${(err as Error).message}`);
  }
}
