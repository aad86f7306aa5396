// Paths the webview names are resolved only inside the workspace folders: the webview is not trusted.
import * as path from 'node:path';

/**
 * Resolves a workspace-relative path (as the panel lists them, optionally "<folder name>/…" in a
 * multi-root workspace) to an absolute path inside one of `folders`; undefined when it would leave them
 * (absolute paths, `..` segments, NUL bytes).
 */
export function resolveInsideWorkspace(
  folders: readonly { name: string; fsPath: string }[],
  relative: string,
): string | undefined {
  if (relative.length === 0 || relative.length > 4096 || relative.includes('\0')) return undefined;
  if (path.isAbsolute(relative) || /^[a-zA-Z]:/.test(relative) || relative.startsWith('\\')) return undefined;
  const parts = relative.split(/[\\/]+/);
  if (parts.some((p) => p === '..')) return undefined;
  const multi = folders.length > 1;
  for (const folder of folders) {
    const rest = multi ? (parts[0] === folder.name ? parts.slice(1) : undefined) : parts;
    if (!rest || rest.length === 0) continue;
    const full = path.resolve(folder.fsPath, ...rest);
    const root = path.resolve(folder.fsPath);
    if (full.startsWith(root + path.sep)) return full;
  }
  return undefined;
}
