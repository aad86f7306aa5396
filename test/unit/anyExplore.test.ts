// Exploration of any classifier, checked against computations made here from the model file and bare
// onnxruntime sessions: class activation maps (MobileNet V2; dynamo GoogLeNet with its weights in an
// external .data file, a ReduceMean pool, symbolic H and W), EigenCAM where CAM cannot explain the head
// (a VGG-like fc stack, MobileNet V3's two-layer head), the map drawn being the Layer list's CAM layer and
// named as the table names it (MobileNet V2, EfficientNet, DenseNet), and shapes measured by a run for an op
// our static inference does not know.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { onnx } from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import { InferenceClient } from '../../src/inference/client';
import type { WorkerConfig } from '../../src/inference/messages';
import { prepareImage } from '../../src/inference/preprocess';
import { normaliseMap } from '../../src/model/cam';
import { descriptorForModel } from '../../src/files/descriptorFile';
import type { ModelDescriptor } from '../../src/model/descriptor';
import { readOnnxFile } from '../../src/files/onnxFile';
import { buildLayerTable } from '../../src/model/structure/table';
import { defaultExplainLayer, EIGENCAM_LABEL, type Exploration } from '../../src/shared/exploration';
import { fixtureBytes, runnable } from './helpers/fixtures';
import {
  imagenetLabels,
  signedWeights,
  tempDir,
  unknownOpModel,
  writeExternal,
  writeModel,
} from './helpers/models';
import { GraphBuilder, type Tensor } from './helpers/onnxBuilder';
import { IMAGES, WORKER } from './helpers/paths';
import { configFor } from './helpers/client';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;
const read = (f: string): Buffer => readFileSync(path.join(IMAGES, f));
const NO_HANG = { timeout: 120_000 };

let labels: string[];
let dir: string;

before(async () => {
  labels = await imagenetLabels();
  dir = tempDir('explore-any');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const config = (descriptor: ModelDescriptor): WorkerConfig => ({
  ...configFor(descriptor),
  exploreIdleMs: 0,
});

/** Explores one image with a fresh worker on `file`; also returns the logs and the layer table. */
async function explore(
  file: string,
  image: string,
): Promise<{
  x: Exploration;
  d: ModelDescriptor;
  logs: string[];
  table: Awaited<ReturnType<InferenceClient['layers']>>;
}> {
  const d = await descriptorForModel(file, 'torchvision', labels);
  const logs: string[] = [];
  const client = new InferenceClient(WORKER, config(d), (m) => logs.push(m));
  try {
    const x = await client.explore(image, read(image), { topK: 5 });
    return { x, d, logs, table: await client.layers() };
  } finally {
    await client.dispose();
  }
}

/** Runs a bare session over `model` with `tensors` exposed; returns them by name. */
async function bareRun(
  model: Uint8Array,
  d: ModelDescriptor,
  image: string,
  tensors: string[],
): Promise<Map<string, { dims: number[]; data: Float32Array }>> {
  const m = onnx.ModelProto.decode(model);
  for (const t of tensors) m.graph!.output!.push({ name: t });
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(m).finish());
  try {
    const { crop } = d.preprocessing;
    const { tensor } = await prepareImage(read(image), d.preprocessing, 1e8);
    const out = await session.run({
      [session.inputNames[0]!]: new ort.Tensor('float32', tensor, [1, 3, crop, crop]),
    });
    return new Map(
      tensors.map((t) => [t, { dims: out[t]!.dims.map(Number), data: out[t]!.data as Float32Array }]),
    );
  } finally {
    await session.release();
  }
}

/**
 * CAM computed here from the file: the fc is the node making the graph output (Gemm, weight [K, C] with
 * transB), the features the input of the pool found by walking back through Flatten/Reshape.
 */
async function independentCam(
  inline: Uint8Array,
  d: ModelDescriptor,
  image: string,
  classes: number[],
): Promise<{ features: string; maps: number[][] }> {
  const g = onnx.ModelProto.decode(inline).graph!;
  const producer = (t: string): onnx.INodeProto => g.node!.find((n) => n.output!.includes(t))!;
  const fc = producer(g.output![0]!.name!);
  assert.equal(fc.opType, 'Gemm');
  assert.equal(Number(fc.attribute!.find((a) => a.name === 'transB')?.i), 1);
  const alpha = fc.attribute!.find((a) => a.name === 'alpha')?.f ?? 1;
  const w = g.initializer!.find((t) => t.name === fc.input![1])!;
  const raw = w.rawData!;
  const weights = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  let pool = producer(fc.input![0]!);
  while (pool.opType === 'Flatten' || pool.opType === 'Reshape') pool = producer(pool.input![0]!);
  assert.ok(['GlobalAveragePool', 'ReduceMean'].includes(pool.opType!), pool.opType!);
  const features = pool.input![0]!;
  const f = (await bareRun(inline, d, image, [features])).get(features)!;
  const [, channels, h, wd] = f.dims as [number, number, number, number];
  const plane = h * wd;
  const maps = classes.map((k) => {
    const direct = new Float64Array(plane);
    for (let c = 0; c < channels; c++) {
      const wk = alpha * weights[k * channels + c]!;
      for (let i = 0; i < plane; i++) direct[i]! += wk * f.data[c * plane + i]!;
    }
    return normaliseMap(direct);
  });
  return { features, maps };
}

function maxDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
}

/** Every layer is summarised, with the measured shape equal to the table's (symbolic batch = 1). */
function assertLayersMatch(
  x: Exploration,
  table: { rows: { name: string; out_shape: (number | string)[] | null }[] },
): void {
  assert.deepEqual(
    x.layers.map((l) => l.name),
    table.rows.map((r) => r.name),
  );
  table.rows.forEach((r, i) => {
    assert.deepEqual(
      x.layers[i]!.out_shape,
      r.out_shape?.map((v) => (typeof v === 'number' ? v : 1)),
      r.name,
    );
  });
}

test(
  'MobileNet V2: CAM of the top 5 classes equals Σ_c w[k,c]·F[c] from the file and a bare session (1e-4)',
  NO_HANG,
  async () => {
    const inline = signedWeights(runnable(fixtureBytes('mobilenet_v2.ts')));
    const file = writeModel(dir, 'mobilenet_v2.onnx', inline);
    const { x, d, table } = await explore(file, 'chelsea.png');
    assertLayersMatch(x, table);
    const cam = x.cam!;
    assert.equal(cam.method, 'cam');
    assert.equal(x.cam_reason, null);
    assert.deepEqual([cam.rows, cam.cols, cam.crop], [7, 7, 224]);
    assert.deepEqual(
      cam.classes.map((c) => c.index),
      x.top.map((p) => p.index),
    );
    const want = await independentCam(
      inline,
      d,
      'chelsea.png',
      cam.classes.map((c) => c.index),
    );
    assert.equal(cam.layer, table.rows.find((r) => r.output === want.features)?.name);
    cam.classes.forEach((c, i) => {
      assert.ok(new Set(c.grid).size > 5, `${c.label}: a map with structure, not a constant`);
      const diff = maxDiff(c.grid, want.maps[i]!);
      assert.ok(diff <= 1e-4, `${c.label}: max |Δ| ${diff}`);
    });
  },
);

test(
  'dynamo GoogLeNet, weights in an external .data file: CAM (ReduceMean pool, fc weight read from the .data file) equals the inline computation',
  NO_HANG,
  async () => {
    const sub = tempDir('googlenet');
    try {
      const inline = signedWeights(runnable(fixtureBytes('googlenet.dynamo')));
      const file = writeExternal(sub, 'googlenet.onnx', inline);
      const { x, d, table } = await explore(file, 'coffee.png');
      assertLayersMatch(x, table);
      const cam = x.cam!;
      assert.equal(cam.method, 'cam', x.cam_reason ?? '');
      const want = await independentCam(
        inline,
        d,
        'coffee.png',
        cam.classes.map((c) => c.index),
      );
      cam.classes.forEach((c, i) => {
        const diff = maxDiff(c.grid, want.maps[i]!);
        assert.ok(diff <= 1e-4, `${c.label}: max |Δ| ${diff}`);
      });
    } finally {
      rmSync(sub, { recursive: true, force: true });
    }
  },
);

test('symbolic H and W (ResNet-18): explored at the assumed 224×224 with 7×7 maps', NO_HANG, async () => {
  const file = writeModel(
    dir,
    'resnet18_dynhw.onnx',
    signedWeights(runnable(fixtureBytes('resnet18.dynhw'))),
  );
  const { x, d, table } = await explore(file, 'orange.jpg');
  assert.match(d.assumed ?? '', /assumed 224×224/);
  assertLayersMatch(x, table);
  assert.deepEqual([x.cam?.method, x.cam?.rows, x.cam?.cols], ['cam', 7, 7]);
});

/** Dominant eigenvalues and eigenvector of a symmetric matrix by cyclic Jacobi rotations. */
function jacobiTop(m: Float64Array, n: number): { vector: Float64Array; values: number[] } {
  const a = Float64Array.from(m);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j]! - a[i * n + i]!);
  const top = order[0]!;
  return {
    vector: Float64Array.from({ length: n }, (_, k) => v[k * n + top]!),
    values: order.map((i) => a[i * n + i]!),
  };
}

/** EigenCAM computed here: the dominant eigenvector v of F·Fᵀ (channels × channels), map Fᵀv, mean > 0. */
function independentEigenCam(
  f: Float32Array,
  channels: number,
  plane: number,
): { grid: number[]; gap: number } {
  const ffT = new Float64Array(channels * channels);
  for (let i = 0; i < channels; i++) {
    for (let j = 0; j < channels; j++) {
      let sum = 0;
      for (let p = 0; p < plane; p++) sum += f[i * plane + p]! * f[j * plane + p]!;
      ffT[i * channels + j] = sum;
    }
  }
  const { vector, values } = jacobiTop(ffT, channels);
  const map = new Float64Array(plane);
  for (let c = 0; c < channels; c++)
    for (let p = 0; p < plane; p++) map[p]! += vector[c]! * f[c * plane + p]!;
  if (map.reduce((a, b) => a + b, 0) < 0) map.forEach((v, p) => (map[p] = -v));
  return { grid: normaliseMap(map), gap: values[0]! / values[1]! };
}

test(
  'a VGG-like fc stack: one class-agnostic EigenCAM map equal to Fᵀv for the top eigenvector v of F·Fᵀ (1e-4)',
  NO_HANG,
  async () => {
    // conv-relu-pool ×3 on 64×64 → 64×8×8, then Flatten → fc 128 → ReLU → fc 10, as VGG's classifier.
    const g = new GraphBuilder({ name: 'input', c: 3, h: 64, w: 64 });
    let x: Tensor = g.input;
    for (const width of [16, 32, 64]) x = g.maxPool(g.relu(g.conv(x, width, 3, { pad: 1 })), 2, 2);
    const features = x;
    const hidden = g.relu({ name: g.fc(x, 128), c: 128, h: 1, w: 1 });
    g.output(g.fc(hidden, 10));
    const inline = signedWeights(g.build());
    const file = writeModel(dir, 'vgglike.onnx', inline);
    const { x: e, d, table } = await explore(file, 'chelsea.png');
    assertLayersMatch(e, table);
    const cam = e.cam!;
    assert.equal(cam.method, 'eigencam');
    assert.match(e.cam_reason ?? '', /.+/);
    assert.deepEqual(
      cam.classes.map((c) => [c.index, c.label, c.probability]),
      [[-1, EIGENCAM_LABEL, 0]],
    );
    assert.deepEqual([cam.rows, cam.cols, cam.crop], [8, 8, 64]);
    const row = table.rows.find((r) => r.name === cam.layer)!;
    assert.equal(row.output, features.name, 'the last 4-D feature map before the head');

    const f = (await bareRun(inline, d, 'chelsea.png', [features.name])).get(features.name)!;
    assert.deepEqual(f.dims, [1, 64, 8, 8]);
    const want = independentEigenCam(f.data, 64, 64);
    assert.ok(want.gap > 1.05, `the top eigenvalue stands apart (λ1/λ2 = ${want.gap})`);
    const grid = cam.classes[0]!.grid;
    assert.ok(new Set(grid).size > 10, 'a map with structure');
    const diff = maxDiff(grid, want.grid);
    assert.ok(diff <= 1e-4, `max |Δ| ${diff}`);
  },
);

test(
  'MobileNet V3 small (two-layer head): EigenCAM over its last 576-channel 7×7 feature map, and why not CAM',
  NO_HANG,
  async () => {
    const file = writeModel(
      dir,
      'mobilenet_v3_small.onnx',
      signedWeights(runnable(fixtureBytes('mobilenet_v3_small.ts'))),
    );
    const { x, table } = await explore(file, 'orange.jpg');
    const cam = x.cam!;
    assert.equal(cam.method, 'eigencam');
    assert.match(x.cam_reason ?? '', /is not a known 4-D|pool|fully connected/);
    assert.deepEqual(x.layers.find((l) => l.name === cam.layer)?.out_shape, [1, 576, 7, 7]);
    assert.equal(table.rows.at(-1)?.out_shape?.length, 2, 'the head follows the feature map');
    const grid = cam.classes[0]!.grid;
    assert.equal(grid.length, 49);
    assert.equal(Math.max(...grid), 1);
  },
);

for (const [fixture, layer] of [
  ['mobilenet_v2.ts', 'head 1×1, 1280'],
  ['efficientnet_b0.ts', 'head 1×1, 1280'],
  ['densenet121.ts', 'global avg pool input'],
] as const) {
  test(
    `${fixture}: the map drawn is the Layer list's CAM layer, "${layer}", and Grad-CAM there equals it (1e-4)`,
    NO_HANG,
    async () => {
      const file = writeModel(dir, `${fixture}.onnx`, signedWeights(runnable(fixtureBytes(fixture))));
      const d = await descriptorForModel(file, 'torchvision', labels);
      const client = new InferenceClient(WORKER, config(d));
      try {
        const x = await client.explore('chelsea.png', read('chelsea.png'), { topK: 5 });
        const layers = await client.explainableLayers();
        assert.equal(x.cam?.method, 'cam', x.cam_reason ?? '');
        assert.equal(x.cam.layer, layer);
        // The list offers it, marked as CAM's, and the panel's default for CAM is it.
        assert.deepEqual(
          layers.filter((l) => l.cam).map((l) => l.layer),
          [layer],
        );
        assert.equal(defaultExplainLayer(layers, 'cam'), layer);
        const cam = await client.explain(x.key, { method: 'cam' });
        assert.equal(cam.layer, layer);
        cam.classes.forEach((c, i) => assert.deepEqual(c.grid, x.cam!.classes[i]!.grid, c.label));
        const grad = await client.explain(x.key, { method: 'gradcam', layer, classes: 1 });
        assert.equal(grad.layer, layer);
        const diff = maxDiff(grad.classes[0]!.grid, cam.classes[0]!.grid);
        assert.ok(diff <= 1e-4, `Grad-CAM differs from CAM by ${diff}`);
      } finally {
        await client.dispose();
      }
    },
  );
}

test(
  'an op static inference does not know (com.microsoft Inverse): its shape is measured by one run, and the layers after it get their multiply-adds',
  NO_HANG,
  async () => {
    const m = unknownOpModel();
    const file = writeModel(dir, 'unknown-op.onnx', m.bytes);
    const unmeasured = buildLayerTable(await readOnnxFile(file), { spatial: [32, 32] });
    assert.ok(unmeasured.totals.macs < m.expectedMacs, `static inference alone loses the conv after ${m.op}`);
    assert.ok(
      unmeasured.warnings.some((w) => w.includes(m.op)),
      unmeasured.warnings.join('\n'),
    );

    const { x, table, logs } = await explore(file, 'chelsea.png');
    assert.equal(table.totals.macs, m.expectedMacs);
    assert.ok(table.totals.measured >= 1, 'rows say their shape was measured');
    assert.ok(table.rows.some((r) => r.measured));
    assert.ok(
      logs.some((l) => /^measured \d+ tensor shapes by a run/.test(l)),
      logs.join('\n'),
    );
    assertLayersMatch(x, table);
  },
);
