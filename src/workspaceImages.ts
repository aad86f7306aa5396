// The workspace's images for the panel's picker, and the check on what the webview picks.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isImagePath } from './model/imageFiles';
import { resolveInsideWorkspace } from './model/workspacePaths';

const MAX_LISTED = 5000;

/** Workspace-relative paths of image files (folder-prefixed in a multi-root workspace), sorted. */
export async function listWorkspaceImages(): Promise<{ files: string[]; truncated: boolean }> {
  const found = await vscode.workspace.findFiles('**/*', '**/node_modules/**', 50_000);
  const multi = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  const files = found
    .filter((u) => isImagePath(u.path))
    .map((u) => vscode.workspace.asRelativePath(u, multi))
    .sort((a, b) => a.localeCompare(b));
  return { files: files.slice(0, MAX_LISTED), truncated: files.length > MAX_LISTED };
}

/**
 * The file a webview-named path stands for, or undefined unless it is an image file inside a
 * workspace folder, also after following symbolic links.
 */
export async function resolvePickedImage(file: string): Promise<vscode.Uri | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  const full = resolveInsideWorkspace(
    folders.map((f) => ({ name: f.name, fsPath: f.uri.fsPath })),
    file,
  );
  if (!full || !isImagePath(full)) return undefined;
  const real = await fs.realpath(full).catch(() => undefined);
  if (!real) return undefined;
  const roots = await Promise.all(folders.map((f) => fs.realpath(f.uri.fsPath).catch(() => f.uri.fsPath)));
  return roots.some((r) => real.startsWith(r + path.sep)) ? vscode.Uri.file(full) : undefined;
}
