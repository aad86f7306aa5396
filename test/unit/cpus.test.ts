// Threads that match the machine (#21): the default intra-op threads are the CPUs this process may use.
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { test } from 'node:test';
import { cgroupCpuLimit, cpuFacts, cpuLine, defaultThreads } from '../../src/inference/cpus';
import { sessionOptions } from '../../src/inference/sessionOptions';

test('a cgroup CPU quota (v2 cpu.max, v1 cfs_quota_us) limits the CPUs; "max" and -1 mean none', () => {
  const files = (map: Record<string, string>) => (f: string) => map[f];
  assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '200000 100000\n' })), 2);
  assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '150000 100000' })), 2, 'a part CPU counts');
  assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' })), undefined);
  assert.equal(
    cgroupCpuLimit(
      files({
        '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '400000',
        '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
      }),
    ),
    4,
  );
  assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1' })), undefined);
  assert.equal(cgroupCpuLimit(files({})), undefined);
});

test("threads 0 means every CPU this process may use, never onnxruntime's one-thread default", () => {
  const cpus = defaultThreads();
  assert.ok(cpus >= 1 && cpus <= os.availableParallelism());
  assert.equal(sessionOptions(['cpu'], 0).intraOpNumThreads, cpus);
  assert.equal(sessionOptions(['cpu'], 3).intraOpNumThreads, 3);
});

test('CPU facts from /proc/cpuinfo: SIMD features and physical cores', () => {
  const block = (core: number, flags: string): string =>
    `processor\t: ${core}\nphysical id\t: 0\ncore id\t\t: ${core >> 1}\nflags\t\t: fpu sse ${flags}\n`;
  const info = [0, 1, 2, 3].map((i) => block(i, 'avx2 avx512f avx512_vnni amx_tile')).join('\n');
  const f = cpuFacts(info);
  assert.deepEqual(f.features, ['AVX2', 'AVX-512', 'VNNI', 'AMX']);
  assert.equal(f.physical, 2, 'two hyper-threads per core');
  assert.deepEqual(cpuFacts(block(0, 'avx2 avx_vnni')).features, ['AVX2', 'VNNI']);
  assert.deepEqual(cpuFacts(block(0, 'sse4_2')).features, []);
  assert.match(
    cpuLine({ model: 'X', features: [], logical: 2, physical: 1 }),
    /^X; no AVX2; 2 logical \/ 1 physical cores$/,
  );
});
