// The workspace's images, models and labels files for the panel's pickers, the check on paths the webview
// names, and reading an image wherever it lives.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isImagePath, readImageFile } from '../files/imageFiles';
import { resolveInsideWorkspace } from '../files/workspacePaths';

const MAX_LISTED = 5000;

/** A workspace file: its URI and its workspace-relative path (folder-prefixed in a multi-root workspace). */
export interface WorkspaceFile {
  uri: vscode.Uri;
  relative: string;
}

/** Workspace files whose path passes `test`, sorted by relative path; at most MAX_LISTED. */
async function listWorkspaceFiles(
  test: (p: string) => boolean,
): Promise<{ files: WorkspaceFile[]; truncated: boolean }> {
  const found = await vscode.workspace.findFiles('**/*', '**/node_modules/**', 50_000);
  const multi = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  const files = found
    .filter((u) => test(u.path))
    .map((uri) => ({ uri, relative: vscode.workspace.asRelativePath(uri, multi) }))
    .sort((a, b) => a.relative.localeCompare(b.relative));
  return { files: files.slice(0, MAX_LISTED), truncated: files.length > MAX_LISTED };
}

/** Workspace-relative paths of image files (folder-prefixed in a multi-root workspace), sorted. */
export async function listWorkspaceImages(): Promise<{ files: string[]; truncated: boolean }> {
  const { files, truncated } = await listWorkspaceFiles(isImagePath);
  return { files: files.map((f) => f.relative), truncated };
}

/** Whether a path names an ONNX model file. */
export function isModelPath(p: string): boolean {
  return /\.onnx$/i.test(p);
}

/** The workspace's ONNX model files. */
export function listWorkspaceModels(): Promise<{ files: WorkspaceFile[]; truncated: boolean }> {
  return listWorkspaceFiles(isModelPath);
}

/**
 * Labels files a model descriptor can name: JSON arrays of class names, or text files with one per line;
 * model descriptors are left out.
 */
export async function listLabelFiles(): Promise<string[]> {
  const { files } = await listWorkspaceFiles((p) => /\.(json|txt)$/i.test(p));
  const models = new Set((await listWorkspaceModels()).files.map((f) => f.uri.path.replace(/\.onnx$/i, '')));
  return files.filter((f) => !models.has(f.uri.path.replace(/\.json$/i, ''))).map((f) => f.relative);
}

/**
 * A labels file named in the panel (typed or picked): workspace-relative, or absolute, since the user types
 * it; undefined unless it is an existing regular file.
 */
export async function resolveLabelsPath(file: string): Promise<string | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  const full = path.isAbsolute(file)
    ? path.resolve(file)
    : resolveInsideWorkspace(
        folders.map((f) => ({ name: f.name, fsPath: f.uri.fsPath })),
        file,
      );
  if (!full) return undefined;
  const stat = await fs.stat(full).catch(() => undefined);
  return stat?.isFile() ? full : undefined;
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

/** Local files through Node (its errors name the cause); other schemes through VS Code's file system. */
export async function readUri(uri: vscode.Uri): Promise<Uint8Array> {
  return uri.scheme === 'file' ? readImageFile(uri.fsPath) : vscode.workspace.fs.readFile(uri);
}
