// Writing a file so that readers never see it half-written.
import { promises as fs } from 'node:fs';

/** Writes `data` to a temporary file beside `file`, then renames it over `file`; no temporary file is left. */
export async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
