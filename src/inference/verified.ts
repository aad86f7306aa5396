// Which model files have been checked against their recorded sha256, by path, size and modification time,
// so that a new worker (every settings change, every CLI run) does not hash a 100 MB model again. The
// record lives in the temp folder; it is a cache of a corruption check, not a security boundary: a file
// whose size or time changed is hashed again.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sha256File } from '../files/sha256';
import { writeAtomic } from '../files/writeAtomic';

/** Where the record is kept (one small JSON file per user). */
export const VERIFIED_FILE = path.join(os.tmpdir(), `cnn-lens-verified-${os.userInfo().uid}.json`);
const MAX_ENTRIES = 64;

interface Entry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** Whether `file` has the sha256 `expected`: from the record when size and time match it, else hashed. */
export async function matchesSha256(
  file: string,
  expected: string,
  record = VERIFIED_FILE,
): Promise<boolean> {
  const stat = await fs.stat(file);
  const key = createHash('sha256').update(path.resolve(file)).digest('hex');
  const entries = await read(record);
  const seen = entries[key];
  if (seen && seen.size === stat.size && seen.mtimeMs === stat.mtimeMs && seen.sha256 === expected)
    return true;
  const ok = (await sha256File(file)) === expected;
  if (ok) {
    entries[key] = { size: stat.size, mtimeMs: stat.mtimeMs, sha256: expected };
    const keys = Object.keys(entries);
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_ENTRIES))) delete entries[k];
    await writeAtomic(record, JSON.stringify(entries)).catch(() => undefined); // an unwritable temp folder only costs a hash next time
  }
  return ok;
}

async function read(record: string): Promise<Record<string, Entry>> {
  try {
    const data = JSON.parse(await fs.readFile(record, 'utf8')) as unknown;
    return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, Entry>) : {};
  } catch {
    return {};
  }
}
