// Exploration with the real model, real images and the real worker: layer summaries against the layer
// table, class activation maps against an independent computation, feature maps, the CLI, and the
// classify path left as it was.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { onnx } from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import { channelMeans, tensorStats } from '../../src/inference/activationStats';
import { InferenceClient, InferenceError } from '../../src/inference/client';
import type { WorkerConfig } from '../../src/inference/messages';
import { prepareImage } from '../../src/inference/preprocess';
import { normaliseMap } from '../../src/model/cam';
import { readOnnxFile } from '../../src/files/onnxFile';
import { buildLayerTable } from '../../src/model/structure/table';
import type { LayerTable } from '../../src/shared/layerTable';
import type { Exploration } from '../../src/shared/exploration';
import { CLI, IMAGES, WORKER } from './helpers/paths';
import { cpuConfig } from './helpers/client';

const read = (f: string): Buffer => readFileSync(path.join(IMAGES, f));
const EGYPTIAN_CAT = 285;
// In the 224×224 center crop of chelsea.png the cat's face fills the frame; its eyes lie in this band
// (crop pixels, from viewing the crop): the left eye at x≈30–100, y≈60–125, the right at x≈170–210, y≈80–120.
const EYES = { left: 16, top: 48, right: 208, bottom: 144 };

let config: WorkerConfig;
let client: InferenceClient;
let table: LayerTable;
let chelsea: Exploration;

before(async () => {
  config = await cpuConfig();
  client = new InferenceClient(WORKER, config);
  table = buildLayerTable(await readOnnxFile(config.descriptor.modelPath));
  chelsea = await client.explore('chelsea.png', read('chelsea.png'), { topK: 5 });
});
after(() => client.dispose());

test('every layer row is summarised, with the measured shape equal to the computed one (N = 1)', () => {
  assert.deepEqual(
    chelsea.layers.map((l) => l.name),
    table.rows.map((r) => r.name),
  );
  table.rows.forEach((row, i) => {
    const computed = row.out_shape?.map((d) => (d === 'N' ? 1 : d));
    assert.deepEqual(chelsea.layers[i]!.out_shape, computed, row.name);
  });
});

test('layer statistics are consistent; rows ending in ReLU have zeros, and only non-negative values', () => {
  for (const [i, l] of chelsea.layers.entries()) {
    const size = l.out_shape.reduce((a, b) => a * b, 1);
    assert.equal(
      l.histogram.reduce((a, b) => a + b, 0),
      size,
      l.name,
    );
    assert.equal(l.histogram.length, 16);
    assert.ok(l.min <= l.mean && l.mean <= l.max, l.name);
    if (table.rows[i]!.activation !== null) {
      assert.ok(l.zero_fraction > 0 && l.zero_fraction <= 1, `${l.name}: ${l.zero_fraction}`);
      assert.equal(l.min, 0, l.name);
    }
  }
});

test('the top classes match classification and come with 7×7 maps over the last conv features', async () => {
  assert.equal(chelsea.top[0]!.index, EGYPTIAN_CAT);
  assert.equal(chelsea.top[0]!.label, 'Egyptian cat');
  const cam = chelsea.cam!;
  assert.equal(cam.method, 'cam');
  assert.equal(cam.layer, 'conv5_x', 'the stage that ends at the features, as the Layer list names it');
  assert.deepEqual([cam.rows, cam.cols, cam.crop], [7, 7, 224]);
  assert.deepEqual(
    cam.classes.map((c) => c.index),
    chelsea.top.map((p) => p.index),
  );
  for (const c of cam.classes) {
    assert.equal(c.grid.length, 49);
    assert.ok(
      c.grid.every((v) => v >= 0 && v <= 1),
      c.label,
    );
    assert.equal(Math.max(...c.grid), 1, c.label);
  }
});

test('the Egyptian cat map peaks on the cat’s eyes, not in a corner', () => {
  const grid = chelsea.cam!.classes.find((c) => c.index === EGYPTIAN_CAT)!.grid;
  const best = grid.indexOf(Math.max(...grid));
  const [r, c] = [Math.floor(best / 7), best % 7];
  const [x, y] = [c * 32 + 16, r * 32 + 16]; // the cell's center in crop pixels
  assert.ok(
    x >= EYES.left && x < EYES.right && y >= EYES.top && y < EYES.bottom,
    `peak cell (${r}, ${c}) outside the eyes`,
  );
  assert.ok(!((r === 0 || r === 6) && (c === 0 || c === 6)), `peak cell (${r}, ${c}) is a corner`);
});

test('the maps equal Σ_c w[k,c]·F[c] from the fc weights and a bare session’s conv5 output (1e-4)', async () => {
  // Independent of the worker: the model file read with onnx-proto, the features tensor found as the
  // GlobalAveragePool's input, exposed by a model edited here, and run by a plain onnxruntime session.
  const model = onnx.ModelProto.decode(readFileSync(config.descriptor.modelPath));
  const g = model.graph!;
  const pool = g.node!.find((n) => n.opType === 'GlobalAveragePool')!;
  const gemm = g.node!.find((n) => n.opType === 'Gemm')!;
  const features = pool.input![0]!;
  const w = g.initializer!.find((t) => t.name === gemm.input![1])!;
  assert.deepEqual(w.dims!.map(Number), [1000, 2048]);
  const raw = w.rawData!;
  const weights = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  g.output!.push({ name: features, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } });
  g.valueInfo = g.valueInfo!.filter((v) => v.name !== features);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof Ort;
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
  try {
    const { tensor } = await prepareImage(read('chelsea.png'), config.descriptor.preprocessing, 1e8);
    const out = await session.run({ input: new ort.Tensor('float32', tensor, [1, 3, 224, 224]) });
    const f = out[features]!.data as Float32Array;
    assert.deepEqual(out[features]!.dims, [1, 2048, 7, 7]);
    for (const c of chelsea.cam!.classes) {
      const direct = new Float64Array(49);
      for (let ch = 0; ch < 2048; ch++) {
        for (let i = 0; i < 49; i++) direct[i]! += weights[c.index * 2048 + ch]! * f[ch * 49 + i]!;
      }
      const want = normaliseMap(direct);
      const diff = Math.max(...want.map((v, i) => Math.abs(v - c.grid[i]!)));
      assert.ok(diff <= 1e-4, `${c.label}: max |Δ| ${diff}`);
    }
  } finally {
    await session.release();
  }
});

test('feature maps: the 16 strongest channels of one layer as one Float32Array, then the next 16', async () => {
  const layer = 'conv4_1 c 1×1, 1024';
  const t = performance.now();
  const maps = await client.featureMaps(chelsea.key, layer);
  const ms = performance.now() - t;
  assert.ok(ms < 2000, `${ms} ms: served from the kept activations, not a rerun`);
  assert.equal(maps.layer, layer);
  assert.deepEqual([maps.channels, maps.height, maps.width, maps.offset], [1024, 14, 14, 0]);
  assert.equal(maps.maps.length, 16);
  assert.ok(maps.data instanceof Float32Array);
  assert.equal(maps.data.length, 16 * 14 * 14);
  const plane = 14 * 14;
  maps.maps.forEach((m, i) => {
    if (i > 0) assert.ok(maps.maps[i - 1]!.mean >= m.mean, 'sorted by mean, descending');
    const s = tensorStats(maps.data.subarray(i * plane, (i + 1) * plane));
    assert.ok(Math.abs(s.mean - m.mean) < 1e-5 && s.max === m.max && s.min === m.min, `channel ${m.channel}`);
  });
  // The exploration's per-channel means (what two images are compared by) are these channels' means.
  const means = chelsea.layers.find((l) => l.name === layer)!.channel_means;
  assert.equal(means.length, 1024);
  for (const m of maps.maps) assert.ok(Math.abs(means[m.channel]! - m.mean) < 1e-5, `channel ${m.channel}`);
  const next = await client.featureMaps(chelsea.key, layer, { count: 16, offset: 16 });
  assert.equal(next.offset, 16);
  assert.ok(next.maps[0]!.mean <= maps.maps[15]!.mean);
  assert.equal(new Set([...maps.maps, ...next.maps].map((m) => m.channel)).size, 32);
});

test('feature maps of an image explored before the last one are recomputed; unknown keys fail', async () => {
  const layer = 'conv2_1 a 1×1, 64';
  const first = await client.featureMaps(chelsea.key, layer, { count: 4 });
  const coffee = await client.explore('coffee.png', read('coffee.png'), { topK: 1 });
  assert.notEqual(coffee.key, chelsea.key);
  assert.equal(coffee.top[0]!.label, 'espresso');
  const again = await client.featureMaps(chelsea.key, layer, { count: 4 });
  assert.deepEqual(again.maps, first.maps);
  assert.deepEqual(again.data, first.data);
  await assert.rejects(client.featureMaps('0'.repeat(64), layer), (err: InferenceError) => {
    assert.equal(err.kind, 'image');
    assert.match(err.message, /explore it again/);
    return true;
  });
  await assert.rejects(client.featureMaps(chelsea.key, 'conv9_9'), /no layer "conv9_9"/);
});

test('an idle exploration session is released; feature maps then need the image bytes again', async () => {
  const logs: string[] = [];
  const idle = new InferenceClient(WORKER, { ...config, exploreIdleMs: 200 }, (m) => logs.push(m));
  try {
    const layer = 'conv5_3 c 1×1, 2048';
    const r = await idle.explore('chelsea.png', read('chelsea.png'), { topK: 1 });
    const kept = await idle.featureMaps(r.key, layer, { count: 2 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.ok(logs.includes('exploration session released after being idle'), logs.join('\n'));
    await assert.rejects(idle.featureMaps(r.key, layer), /explore it again/);
    await assert.rejects(
      idle.featureMaps(r.key, layer, { bytes: read('coffee.png') }),
      /do not match the image key/,
    );
    const again = await idle.featureMaps(r.key, layer, { count: 2, bytes: read('chelsea.png') });
    assert.deepEqual(again.maps, kept.maps);
    assert.deepEqual(again.data, kept.data);
  } finally {
    await idle.dispose();
  }
});

test('classification in the same worker is unchanged by an exploration session beside it', async () => {
  const fresh = new InferenceClient(WORKER, config);
  try {
    const before = await fresh.classify('chelsea.png', read('chelsea.png'), { topK: 1000 });
    const explored = await fresh.explore('chelsea.png', read('chelsea.png'), { topK: 5 });
    const after = await fresh.classify('chelsea.png', read('chelsea.png'), { topK: 1000 });
    const p = new Map(before.top.map((x) => [x.index, x.probability]));
    for (const x of after.top) assert.ok(Math.abs(x.probability - p.get(x.index)!) <= 1e-6, x.label);
    for (const x of explored.top) assert.ok(Math.abs(x.probability - p.get(x.index)!) <= 1e-5, x.label);
  } finally {
    await fresh.dispose();
  }
});

test('channelMeans: NCHW planes, channels-last, and [1, C] outputs as they are', () => {
  const nchw = new Float32Array([1, 2, 3, 4, 10, 20, 30, 40]);
  assert.deepEqual(channelMeans(nchw, [1, 2, 2, 2]), [2.5, 25]);
  assert.deepEqual(
    channelMeans(new Float32Array([1, 10, 2, 20, 3, 30, 4, 40]), [1, 2, 2, 2], true),
    [2.5, 25],
  );
  assert.deepEqual(channelMeans(new Float32Array([0.5, -1, 2]), [1, 3]), [0.5, -1, 2]);
});

test('tensorStats: histogram bins over [min, max] with the maximum in the last bin; constant tensors', () => {
  const s = tensorStats(new Float32Array([0, 0, 1, 2, 3, 4]));
  assert.deepEqual([s.min, s.max, s.mean, s.zero_fraction], [0, 4, 10 / 6, 2 / 6]);
  assert.equal(s.histogram[0], 2);
  assert.equal(s.histogram[4], 1);
  assert.equal(s.histogram[15], 1);
  assert.deepEqual(tensorStats(new Float32Array(3)).histogram.slice(0, 2), [3, 0]);
  assert.deepEqual(normaliseMap([-1, -2, 0]), [0, 0, 0]);
  assert.deepEqual(normaliseMap([-1, 2, 1]), [0, 1, 0.5]);
});

test('cli explain --json prints the documented keys; --layer adds the 16 strongest channels', async () => {
  const run = promisify(execFile);
  const image = path.join(IMAGES, 'chelsea.png');
  const { stdout } = await run('node', [CLI, 'explain', '--json', '--layer', 'conv5_3 c 1×1, 2048', image]);
  const out = JSON.parse(stdout) as Record<string, unknown> & {
    top: { index: number; label: string; probability: number }[];
    layers: Record<string, unknown>[];
    cam: { index: number; label: string; grid: number[] }[];
    feature_maps: { layer: string; channels: { channel: number; mean: number; min: number; max: number }[] };
    cam_method: string | null;
  };
  assert.deepEqual(Object.keys(out), ['file', 'top', 'layers', 'cam', 'cam_method', 'feature_maps']);
  assert.equal(out.cam_method, 'cam');
  assert.equal(out.file, image);
  assert.deepEqual(Object.keys(out.top[0]!), ['index', 'label', 'probability']);
  assert.equal(out.top[0]!.label, 'Egyptian cat');
  assert.equal(out.layers.length, table.rows.length);
  assert.deepEqual(Object.keys(out.layers[0]!), ['name', 'out_shape', 'mean', 'max', 'zero_fraction']);
  assert.equal(out.cam.length, 5);
  assert.deepEqual(Object.keys(out.cam[0]!), ['index', 'label', 'grid', 'layer', 'method']);
  assert.equal(out.cam[0]!.grid.length, 49);
  assert.equal(out.feature_maps.channels.length, 16);
  assert.deepEqual(Object.keys(out.feature_maps.channels[0]!), ['channel', 'mean', 'min', 'max']);
  const plain = await run('node', [CLI, 'explain', image]);
  assert.match(plain.stdout, /Egyptian cat \[285\]: peak at row \d, col \d/);
  assert.doesNotMatch((await run('node', [CLI, 'explain', '--json', image])).stdout, /feature_maps/);
});
