// How many CPUs this process may use: os.availableParallelism(), lowered to a cgroup CPU quota where one is
// set (a container limited to 2 CPUs on a 64-core host must not start 64 threads).
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

/** The CPU quota of this process's cgroup in CPUs (cgroup v2 `cpu.max`, v1 `cfs_quota_us`), if any. */
export function cgroupCpuLimit(read: (file: string) => string | undefined = readText): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2[0] !== 'max') return quota(Number(v2[0]), Number(v2[1] ?? 100_000));
  const q = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return q > 0 ? quota(q, period) : undefined;
}

function quota(q: number, period: number): number | undefined {
  return Number.isFinite(q) && Number.isFinite(period) && q > 0 && period > 0
    ? Math.max(1, Math.ceil(q / period))
    : undefined;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

let cached: number | undefined;

/** The intra-op threads a session gets when the threads setting is 0: every CPU this process may use. */
export function defaultThreads(): number {
  cached ??= Math.max(1, Math.min(os.availableParallelism(), cgroupCpuLimit() ?? Infinity));
  return cached;
}
