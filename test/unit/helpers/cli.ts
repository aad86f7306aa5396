// The built CLI as the tests run it: a child process whose exit code and output come back whatever the code.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, ROOT } from './paths';

/** What a CLI run gave. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js …args` from the repo root; resolves with exit code, stdout and stderr. */
export async function cli(...args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [CLI, ...args], {
      cwd: ROOT,
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as CliRun;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
