// Which images a classify command acts on: the Explorer selection, the active image tab, or a pick.
import * as vscode from 'vscode';
import { isImagePath } from './model/imageFiles';

/**
 * Images for a command invocation: the Explorer's multi-selection or clicked file, else the active
 * editor tab when it shows an image, else the user picks one of the workspace's images.
 */
export async function resolveImageTargets(uri?: unknown, uris?: unknown): Promise<vscode.Uri[] | undefined> {
  const selected =
    Array.isArray(uris) && uris.every((u) => u instanceof vscode.Uri) ? (uris as vscode.Uri[]) : [];
  if (selected.length > 0) return selected;
  if (uri instanceof vscode.Uri) return [uri];
  const active = activeTabUri();
  if (active && isImagePath(active.path)) return [active];
  return pickWorkspaceImage();
}

function activeTabUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText) return input.uri;
  return undefined;
}

async function pickWorkspaceImage(): Promise<vscode.Uri[] | undefined> {
  const files = (await vscode.workspace.findFiles('**/*', '**/node_modules/**', 20_000)).filter((u) =>
    isImagePath(u.path),
  );
  if (files.length === 0) {
    void vscode.window.showInformationMessage(
      'CNN Lens: no image files (png, jpg, webp, …) in this workspace.',
    );
    return undefined;
  }
  const items = files
    .map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Classify with ResNet50',
    placeHolder: 'Pick an image to classify',
    matchOnDescription: true,
  });
  return pick ? [pick.uri] : undefined;
}

/**
 * Images under the Explorer's selected folders (recursive) plus selected image files; from the
 * palette, the user picks a folder.
 */
export async function resolveFolderTargets(uri?: unknown, uris?: unknown): Promise<vscode.Uri[] | undefined> {
  let selected =
    Array.isArray(uris) && uris.every((u) => u instanceof vscode.Uri) ? (uris as vscode.Uri[]) : [];
  if (selected.length === 0 && uri instanceof vscode.Uri) selected = [uri];
  if (selected.length === 0) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: true,
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      openLabel: 'Classify Images',
      title: 'Classify Images in Folder',
    });
    if (!picked) return undefined;
    selected = picked;
  }
  const found: vscode.Uri[] = [];
  for (const u of selected) {
    const stat = await vscode.workspace.fs.stat(u);
    if (stat.type & vscode.FileType.Directory) {
      const files = await vscode.workspace.findFiles(
        new vscode.RelativePattern(u, '**/*'),
        '**/node_modules/**',
      );
      found.push(...files.filter((f) => isImagePath(f.path)).sort((a, b) => a.path.localeCompare(b.path)));
    } else if (isImagePath(u.path)) {
      found.push(u);
    }
  }
  const unique = [...new Map(found.map((u) => [u.toString(), u])).values()];
  if (unique.length === 0) {
    void vscode.window.showInformationMessage(
      'CNN Lens: no image files (png, jpg, webp, …) in the selection.',
    );
    return undefined;
  }
  return unique;
}
