// onnxruntime's profile attributed to layer-table rows: real profiling sessions on the built ResNet50 (fp32 and
// int8) and a real MobileNet V2 export, where onnxruntime renames what it fuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseOnnx, type OnnxGraph } from '../../src/model/onnxGraph';
import { attribute, parseTrace } from '../../src/model/profile';
import { buildLayerTable } from '../../src/model/structure/table';
import { whereTheTimeGoes } from '../../src/cli/profile';
import type { Profile, TimedRow } from '../../src/shared/profile';
import { fixtureBytes, runnable } from './helpers/fixtures';

const MODELS = path.resolve(__dirname, '..', '..', 'models');

async function profile(bytes: Uint8Array, runs: number): Promise<{ profile: Profile; graph: OnnxGraph }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cnn-lens-profile-'));
  const s = await ort.InferenceSession.create(bytes, {
    enableProfiling: true,
    profileFilePrefix: path.join(dir, 'p'),
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const x = new ort.Tensor('float32', new Float32Array(3 * 224 * 224).fill(0.5), [1, 3, 224, 224]);
  for (let i = 0; i < runs; i++) await s.run({ [s.inputNames[0]!]: x });
  s.endProfiling();
  await s.release();
  const file = (await fs.readdir(dir))[0]!;
  const trace = parseTrace(JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')));
  await fs.rm(dir, { recursive: true });
  const graph = parseOnnx(bytes);
  const table = buildLayerTable(graph);
  const ctx = {
    model: 'm',
    provider: 'cpu',
    precision: 'fp32' as const,
    batch: 1,
    plainMs: 0,
    peakGflops: 0,
  };
  return { profile: attribute(trace, table, graph, ctx), graph };
}

function check(p: Profile, label: string): void {
  const rows = p.rows.reduce((s, r) => s + r.ms, 0);
  const other = p.other.reduce((s, o) => s + o.ms, 0);
  assert.equal(p.runs, 3);
  assert.ok(
    rows > 0.85 * (rows + other),
    `${label}: rows hold ${(rows / (rows + other)) * 100}% of kernel time`,
  );
  assert.ok(rows + other <= p.ms * 1.05, `${label}: kernels fit in the runs`);
  const convs = p.rows.filter((r) => r.gflops !== null);
  assert.ok(convs.filter((r) => r.ms > 0).length >= 0.95 * convs.length, `${label}: weighted rows all timed`);
  assert.ok(
    p.other.every((o) => /Reorder|Transpose|MemcpyToHost|MemcpyFromHost/.test(o.op)),
    `${label}: only layout kernels stay unattributed: ${p.other.map((o) => `${o.name} (${o.op})`).join(', ')}`,
  );
  // Medians do not add up exactly (each row's median may come from another run); every stage is timed.
  assert.ok(p.stages.length >= 5 && p.stages.every((s) => s.ms > 0), `${label}: every stage timed`);
}

test(
  'ResNet50 fp32 and int8: fused kernels map back to their rows',
  { skip: !existsSync(path.join(MODELS, 'resnet50.int8.onnx')) && 'models not built (npm run build)' },
  async () => {
    for (const file of ['resnet50.onnx', 'resnet50.int8.onnx']) {
      const { profile: p } = await profile(await fs.readFile(path.join(MODELS, file)), 3);
      check(p, file);
      assert.ok(p.rows.find((r) => r.name === 'conv1 7×7, 64')!.ms > 0);
    }
  },
);

test('MobileNet V2 (onnxruntime names its fused kernels after tensors)', async () => {
  const { profile: p } = await profile(runnable(fixtureBytes('mobilenet_v2.ts')), 3);
  check(p, 'mobilenet_v2');
  assert.equal(p.blocks.length, 17);
  assert.ok(p.blocks.every((b) => b.ms > 0));
});

test('the text profile measures rates against the named reference convolution, never over 100 % of it', () => {
  const row = (name: string, ms: number, gflops: number | null): TimedRow => ({
    name,
    stage: 'stem',
    block: null,
    ms,
    share: ms / 3,
    gflops,
    provider: 'CPUExecutionProvider',
    fallback: false,
    kernels: [],
  });
  const rows = [row('conv1', 1, 210), row('conv2', 1.5, 50), row('relu', 0.5, null)];
  const p: Profile = {
    model: 'm',
    provider: 'cpu',
    precision: 'fp32',
    batch: 1,
    runs: 3,
    ms: 3,
    plain_ms: 2.9,
    peak_gflops: 200,
    rows,
    blocks: [],
    stages: [row('stem', 3, 100)],
    other: [],
  };
  const text = whereTheTimeGoes(p);
  assert.match(text, /^reference 200 GFLOP\/s \(3×3 convolution, 256→256 channels/m);
  const line = (name: string): string => text.split('\n').find((l) => l.startsWith(`${name} `))!;
  assert.match(line('conv1'), /210\.0\s+≥ ref\s/, 'a layer faster than the reference');
  assert.match(line('conv2'), /50\.0\s+25 %\s/);
  assert.match(line('relu'), /-\s+-\s/);
  assert.doesNotMatch(text, /\b1\d\d %/, 'no share over 100 %');
  assert.doesNotMatch(text, /peak/);
});
