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

/** What the CPU is: its model, the SIMD features onnxruntime's int8 and fp32 kernels use, and its cores. */
export interface CpuFacts {
  model: string;
  /** Of AVX2, AVX-512, VNNI (AVX-512 or AVX), AMX: those the CPU reports. */
  features: string[];
  logical: number;
  /** Physical cores (distinct core ids per package), when /proc/cpuinfo says; else the logical count. */
  physical: number;
}

const FEATURES: [string, RegExp][] = [
  ['AVX2', /\bavx2\b/],
  ['AVX-512', /\bavx512f\b/],
  ['VNNI', /\b(avx512_vnni|avx_vnni)\b/],
  ['AMX', /\bamx_(tile|int8)\b/],
];

/** The CPU's facts, from /proc/cpuinfo where there is one (Linux), else from os.cpus(). */
export function cpuFacts(cpuinfo: string | undefined = readText('/proc/cpuinfo')): CpuFacts {
  const model = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const logical = os.cpus().length;
  if (!cpuinfo) return { model, features: [], logical, physical: logical };
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '';
  const cores = new Set<string>();
  for (const block of cpuinfo.split(/\n\s*\n/)) {
    const pkg = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (pkg !== undefined && core !== undefined) cores.add(`${pkg}:${core}`);
  }
  return {
    model,
    features: FEATURES.filter(([, re]) => re.test(flags)).map(([name]) => name),
    logical,
    physical: cores.size > 0 ? cores.size : logical,
  };
}

let facts: CpuFacts | undefined;

/** One line for runtime info and benchmark headers (this machine's facts read once). */
export function cpuLine(f: CpuFacts = (facts ??= cpuFacts())): string {
  const features = f.features.length > 0 ? f.features.join(', ') : 'no AVX2';
  return `${f.model}; ${features}; ${f.logical} logical / ${f.physical} physical cores`;
}

let cached: number | undefined;

/** The intra-op threads a session gets when the threads setting is 0: every CPU this process may use. */
export function defaultThreads(): number {
  cached ??= Math.max(1, Math.min(os.availableParallelism(), cgroupCpuLimit() ?? Infinity));
  return cached;
}

/** The intra-op threads for the threads setting: its value, or every CPU this process may use for 0. */
export function threadsFor(setting: number): number {
  return setting > 0 ? setting : defaultThreads();
}
