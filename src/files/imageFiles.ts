// Which files count as images, and finding them under folders. Shared by the CLI and the extension.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Extensions we offer to classify (sharp decodes all of these). */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp', 'tif', 'tiff', 'avif'] as const;

const pattern = new RegExp(`\\.(${IMAGE_EXTENSIONS.join('|')})$`, 'i');

/** Whether a file name has an image extension (case-insensitive). */
export function isImagePath(file: string): boolean {
  return pattern.test(file);
}

/** Files larger than this are refused before they are read (no image we accept needs more). */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;

/**
 * Reads an image file after checking that it is a regular file of sane size: a FIFO named
 * `x.png` would block the read forever, a device would never end.
 */
export async function readImageFile(file: string): Promise<Uint8Array> {
  const stat = await fs.stat(file);
  if (stat.isDirectory()) throw new Error('it is a folder, not an image file');
  if (!stat.isFile()) throw new Error('it is not a regular file (a device, pipe or socket)');
  if (stat.size > MAX_FILE_BYTES) {
    throw new Error(
      `the file is ${Math.round(stat.size / 2 ** 20)} MB, over the ${MAX_FILE_BYTES / 2 ** 20} MB limit`,
    );
  }
  return fs.readFile(file);
}

/**
 * Expands folders (recursively, image files only, sorted) and keeps files as given, so that a
 * named file that is not an image still gets its own error later.
 */
export async function expandImagePaths(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    const stat = await fs.stat(input).catch(() => undefined);
    if (stat?.isDirectory()) out.push(...(await walk(input)));
    else out.push(input);
  }
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const out: string[] = [];
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full)));
    else if (isImagePath(e.name)) out.push(full);
  }
  return out;
}
