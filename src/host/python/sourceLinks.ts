// The layer table and the Python editor, linked both ways: a row opens the line that constructed its module,
// and the line under the cursor marks the rows it built.
import * as vscode from 'vscode';
import type { LayerTable } from '../../shared/layerTable';
import { log } from '../log';

/**
 * Opens `file` at `line` (1-based) beside the panel. Only files inside the workspace open: the path comes
 * from the webview, which is not trusted to name files.
 */
export async function openSource(file: string, line: number): Promise<void> {
  const uri = vscode.Uri.file(file);
  if (!vscode.workspace.getWorkspaceFolder(uri)) {
    log.error(`not opening ${file}: it is outside the workspace`);
    return;
  }
  const at = new vscode.Position(Math.max(0, line - 1), 0);
  await vscode.window.showTextDocument(uri, {
    selection: new vscode.Range(at, at),
    viewColumn: vscode.ViewColumn.One,
    preview: false,
  });
}

/** The names of the rows whose module was constructed at `file`:`line` (1-based). */
export function rowsAt(table: LayerTable, file: string, line: number): string[] {
  return table.rows.filter((r) => r.source?.file === file && r.source.line === line).map((r) => r.name);
}
