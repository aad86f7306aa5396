// What a command acts on: the Explorer selection, the active editor tab, or a pick from the workspace.
import * as vscode from 'vscode';
import { isImagePath } from '../files/imageFiles';
import type { ModelChoice } from '../shared/protocol';
import { isModelPath } from './workspaceImages';

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
      vscode.l10n.t('CNN Lens: no image files (png, jpg, webp, …) in this workspace.'),
    );
    return undefined;
  }
  const items = files
    .map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const pick = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Classify with CNN Lens'),
    placeHolder: vscode.l10n.t('Pick an image to classify'),
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
      openLabel: vscode.l10n.t('Classify Images'),
      title: vscode.l10n.t('Classify Images in Folder'),
    });
    if (!picked) return undefined;
    selected = picked;
  }
  const found: vscode.Uri[] = [];
  for (const u of selected) {
    const stat = await vscode.workspace.fs.stat(u);
    if (stat.type & vscode.FileType.Directory) {
      found.push(...(await imagesUnder(u)));
    } else if (isImagePath(u.path)) {
      found.push(u);
    }
  }
  const unique = [...new Map(found.map((u) => [u.toString(), u])).values()];
  if (unique.length === 0) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('CNN Lens: no image files (png, jpg, webp, …) in the selection.'),
    );
    return undefined;
  }
  return unique;
}

/**
 * A folder to quantize with and its images (recursive): the Explorer's folder, else one the user picks.
 * Undefined when nothing was chosen or the folder holds no image (the user is told).
 */
export async function resolveQuantizeFolder(
  uri?: unknown,
): Promise<{ folder: vscode.Uri; images: vscode.Uri[] } | undefined> {
  let folder = uri instanceof vscode.Uri ? uri : undefined;
  if (!folder) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      openLabel: vscode.l10n.t('Quantize with These Images'),
      title: vscode.l10n.t(
        'Quantize with Images from this Folder: pick a folder of images like the ones the model will see',
      ),
    });
    if (!picked?.[0]) return undefined;
    folder = picked[0];
  }
  const stat = await vscode.workspace.fs.stat(folder);
  if (!(stat.type & vscode.FileType.Directory)) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('CNN Lens: quantizing needs a folder of images, not a file.'),
    );
    return undefined;
  }
  const images = (await imagesUnder(folder)).filter((f) => f.scheme === 'file');
  if (images.length === 0) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t(
        'CNN Lens: no image files (png, jpg, webp, …) in {0} to calibrate with.',
        vscode.workspace.asRelativePath(folder, false),
      ),
    );
    return undefined;
  }
  return { folder, images };
}

/** The image files under a folder, at any depth (node_modules left out), in path order. */
async function imagesUnder(folder: vscode.Uri): Promise<vscode.Uri[]> {
  const files = await vscode.workspace.findFiles(
    new vscode.RelativePattern(folder, '**/*'),
    '**/node_modules/**',
  );
  return files.filter((f) => isImagePath(f.path)).sort((a, b) => a.path.localeCompare(b.path));
}

/** The models a picker offers: the built-in one, those opened before, the workspace's .onnx files. */
type ModelList = () => Promise<{ models: ModelChoice[]; truncated: boolean }>;

function modelItems(models: ModelChoice[]): (vscode.QuickPickItem & { id: string })[] {
  return models.map((m) => ({ label: m.label, description: m.detail, id: m.id }));
}

/**
 * The model to open: the Explorer's or editor's .onnx file, else one the user picks (the built-in model
 * or a workspace model). Absolute path, '' for the built-in model, undefined when nothing was chosen.
 */
export async function resolveModelTarget(uri: unknown, list: ModelList): Promise<string | undefined> {
  if (uri instanceof vscode.Uri && uri.scheme === 'file' && isModelPath(uri.path)) return uri.fsPath;
  const active = activeTabUri();
  if (uri === undefined && active?.scheme === 'file' && isModelPath(active.path)) return active.fsPath;
  const { models } = await list();
  const pick = await vscode.window.showQuickPick(modelItems(models), {
    title: vscode.l10n.t('Open in CNN Lens'),
    placeHolder: vscode.l10n.t('Pick a model: the built-in ResNet50 or an ONNX file of the workspace'),
    matchOnDescription: true,
  });
  return pick?.id;
}

/**
 * Models to compare: two or more .onnx files selected in the Explorer, else a multi-select pick with the
 * clicked file ticked (or, from the palette or the panel, the panel's model). Absolute paths, '' for the
 * built-in model.
 */
export async function resolveModelTargets(
  uri: unknown,
  uris: unknown,
  list: ModelList,
  current: string | undefined,
): Promise<string[] | undefined> {
  const selected = (
    Array.isArray(uris) && uris.every((u) => u instanceof vscode.Uri) ? (uris as vscode.Uri[]) : []
  ).filter((u) => u.scheme === 'file' && isModelPath(u.path));
  if (selected.length >= 2) return selected.map((u) => u.fsPath);
  const clicked = uri instanceof vscode.Uri && uri.scheme === 'file' ? uri.fsPath : current;
  const { models } = await list();
  const items = modelItems(models).map((item) => ({ ...item, picked: item.id === clicked }));
  const picks = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Compare Architectures'),
    placeHolder: vscode.l10n.t('Tick two or more models to compare side by side'),
    canPickMany: true,
    matchOnDescription: true,
  });
  if (!picks) return undefined;
  if (picks.length < 2) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('CNN Lens: tick two or more models to compare them.'),
    );
    return undefined;
  }
  return picks.map((p) => p.id);
}
